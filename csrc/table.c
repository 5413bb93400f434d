/* table.c - the open-addressing table in the file (bounded linear probes, rebuild + publish on
 * growth), the lookup (inlined: hash, seqlock read section, probe, copy) and the get / has /
 * set / delete entry points. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "freeidx.h"
#include "hash_inline.h"
#include "mapping.h"
#include "seqlock.h"
#include "wlock.h"

static inline uint64_t key_hash(const mmapobj_map *m, const void *key, size_t len)
{
    return mo_hash_inline(m->seed, key, len);
}

/* ---- lookup -------------------------------------------------------------------------- */

static int ensure_scratch(mmapobj_map *m, size_t n)
{
    if (n <= m->scratch_cap) return MMAPOBJ_OK;
    size_t cap = m->scratch_cap ? m->scratch_cap : 256;
    while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = realloc(m->scratch, cap);
    if (!p) return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory for a %zu-byte value", n);
    m->scratch = p;
    m->scratch_cap = cap;
    return MMAPOBJ_OK;
}

/* memcpy for the short keys and values of the hot paths: no call for n <= 16. */
static inline __attribute__((always_inline)) void copy_small(uint8_t *dst, const uint8_t *src,
                                                             size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        memcpy(dst, src, n);
    }
}

/* Equal keys? Short keys (the common case) compare with two overlapping 8-byte loads. */
static inline int key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/* One probe sequence. Returns OK (hit filled, slot index in hit), NOTFOUND (hit->slot_index =
 * first reusable slot: the first tombstone or the empty slot ending the probe, or UINT64_MAX if
 * none; hit->kind = 1 when that slot is a tombstone), MO_NEEDMAP or E_CORRUPT. */
static inline __attribute__((always_inline)) int probe(const mmapobj_map *m, const void *key,
                                                      size_t klen, uint64_t h, struct mo_hit *hit)
{
    uint64_t tref = mo_ld_acq(&m->hdr->table_ref), toff;
    uint32_t lg;
    const uint8_t *base = m->base;
    uint64_t lim = m->valid;
    int trc = mo_tref_decode(tref, lim, &toff, &lg);
    if (__builtin_expect(trc != MMAPOBJ_OK, 0)) return trc;
    const uint64_t *slots = (const uint64_t *)(const void *)(base + toff + MO_TABLE_HDR);
    uint64_t mask = (UINT64_C(1) << lg) - 1;
    uint64_t i = h & mask;
    uint64_t tag = h >> MO_SLOT_OFF_BITS;
    uint64_t reuse = UINT64_MAX;
    for (uint64_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
        uint64_t s = mo_ld_acq(&slots[i]);
        if ((s >> MO_SLOT_OFF_BITS) == tag && s > MO_SLOT_TOMB) {
            uint64_t off = (s & MO_SLOT_OFF_MASK) << 2;
            if (__builtin_expect(off > lim || lim - off < MO_REC_HDR, 0)) return MO_NEEDMAP;
            uint64_t w;
            memcpy(&w, base + off, 8);
            uint32_t w0 = (uint32_t)w, vlen = (uint32_t)(w >> 32);
            if ((w0 >> 2) != klen) continue;
            if (__builtin_expect((uint64_t)vlen + klen > lim - off - MO_REC_HDR, 0))
                return MO_NEEDMAP;
            if (!key_eq(base + off + MO_REC_HDR, key, klen)) continue;
            hit->slot_index = i;
            hit->off = off;
            hit->klen = (uint32_t)klen;
            hit->vlen = vlen;
            hit->kind = (int32_t)(w0 & 3);
            if (__builtin_expect(off < MO_HEADER_SIZE || hit->kind == 0 ||
                                     (hit->kind == MMAPOBJ_KIND_NUMBER && vlen != 8),
                                 0))
                return MMAPOBJ_E_CORRUPT;
            return MMAPOBJ_OK;
        }
        if (s == MO_SLOT_EMPTY) {
            hit->kind = reuse != UINT64_MAX;
            hit->slot_index = reuse != UINT64_MAX ? reuse : i;
            return MMAPOBJ_NOTFOUND;
        }
        if (s == MO_SLOT_TOMB && reuse == UINT64_MAX) reuse = i;
    }
    hit->kind = 1;
    hit->slot_index = reuse;
    return MMAPOBJ_NOTFOUND;
}

/* ---- reader protocol ------------------------------------------------------------------- */

static inline __attribute__((always_inline)) void copy_value(mmapobj_map *m,
                                                             const struct mo_hit *hit)
{
    copy_small(m->scratch, m->base + hit->off + MO_REC_HDR + hit->klen, hit->vlen);
    m->scratch[hit->vlen] = 0;
}

static int corrupt_lookup(mmapobj_map *m, size_t klen)
{
    return mo_err(m, MMAPOBJ_E_CORRUPT,
                  "damaged table or record met while looking up a %zu-byte key", klen);
}

/* A lookup that (with copy) copies the value into the handle's scratch. */
static inline __attribute__((always_inline)) int lookup(mmapobj_map *m, const void *key,
                                                       size_t klen, int copy, struct mo_hit *hit)
{
    uint64_t h = key_hash(m, key, klen);
    int rc;
    if (mo_stable(m)) {
        /* a writer holding the lock: nothing changes under it */
        rc = probe(m, key, klen, h, hit);
        if (rc == MMAPOBJ_OK && copy) {
            if (__builtin_expect(hit->vlen + (size_t)1 > m->scratch_cap, 0)) {
                int r2 = ensure_scratch(m, (size_t)hit->vlen + 1);
                if (r2) return r2;
            }
            copy_value(m, hit);
        }
        if (__builtin_expect(rc < MMAPOBJ_NOTFOUND, 0)) return corrupt_lookup(m, klen);
        return rc;
    }
    for (;;) {
        uint64_t s1;
        rc = mo_seq_read_begin(m, &s1);
        if (__builtin_expect(rc != MMAPOBJ_OK, 0)) return rc;
        rc = probe(m, key, klen, h, hit);
        if (rc == MMAPOBJ_OK && copy) {
            if (__builtin_expect(hit->vlen + (size_t)1 > m->scratch_cap, 0)) {
                /* grow the scratch only for a length that was not torn by a concurrent reuse,
                 * then look again */
                if (mo_seq_read_retry(m, s1)) continue;
                int r2 = ensure_scratch(m, (size_t)hit->vlen + 1);
                if (r2) return r2;
                continue;
            }
            copy_value(m, hit);
        }
        if (mo_seq_read_retry(m, s1)) continue;
        if (__builtin_expect(rc >= MMAPOBJ_NOTFOUND, 1)) return rc;
        if (rc == MO_NEEDMAP) {
            int r2 = mo_reader_remap(m);
            if (r2 == MMAPOBJ_OK) continue;
            if (r2 != MMAPOBJ_NOTFOUND) return r2;
            return mo_err(m, MMAPOBJ_E_CORRUPT, "an offset in the table points past the end of "
                          "the file (%llu bytes)", (unsigned long long)m->valid);
        }
        return corrupt_lookup(m, klen);
    }
}

static __attribute__((noinline, cold)) int key_error(mmapobj_map *m, const void *key, size_t klen)
{
    if (!key && klen) return mo_err(m, MMAPOBJ_E_INVAL, "NULL key with length %zu", klen);
    return mo_err(m, MMAPOBJ_E_TOOBIG, "key of %zu bytes is longer than the maximum %zu", klen,
                  (size_t)MMAPOBJ_MAX_KEY_LEN);
}

static inline int key_check(mmapobj_map *m, const void *key, size_t klen)
{
    if (__builtin_expect((!key && klen) || klen > MMAPOBJ_MAX_KEY_LEN, 0))
        return key_error(m, key, klen);
    return MMAPOBJ_OK;
}

static void value_from_hit(mmapobj_map *m, const struct mo_hit *hit, mmapobj_value *out)
{
    out->kind = hit->kind;
    out->reserved = 0;
    if (hit->kind == MMAPOBJ_KIND_NUMBER) {
        memcpy(&out->number, m->scratch, 8);
        out->data = NULL;
        out->len = 0;
    } else {
        out->number = 0;
        out->data = m->scratch;
        out->len = hit->vlen;
    }
}

MMAPOBJ_API int mmapobj_get(mmapobj_map *m, const void *key, size_t klen, mmapobj_value *out)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    m->last_kind = MMAPOBJ_KIND_NONE;
    if (!out) return mo_err(m, MMAPOBJ_E_INVAL, "NULL value pointer");
    int rc = key_check(m, key, klen);
    struct mo_hit hit = {0, 0, 0, 0, 0};
    if (__builtin_expect(rc == MMAPOBJ_OK, 1)) rc = lookup(m, key ? key : "", klen, 1, &hit);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    value_from_hit(m, &hit, out);
    m->last_kind = hit.kind;
    m->last_len = hit.vlen;
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_has(mmapobj_map *m, const void *key, size_t klen)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    int rc = key_check(m, key, klen);
    if (rc) return rc;
    struct mo_hit hit = {0, 0, 0, 0, 0};
    rc = lookup(m, key ? key : "", klen, 0, &hit);
    if (rc == MMAPOBJ_OK) return 1;
    if (rc == MMAPOBJ_NOTFOUND) return 0;
    return rc;
}

MMAPOBJ_API int mmapobj_has_z(mmapobj_map *m, const char *key)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!key) return mo_err(m, MMAPOBJ_E_INVAL, "NULL key");
    return mmapobj_has(m, key, strlen(key));
}

MMAPOBJ_API const char *mmapobj_get_cstr(mmapobj_map *m, const void *key, size_t klen)
{
    if (!mo_is_map(m)) return NULL;
    mmapobj_status *st = &m->status;
    st->kind = MMAPOBJ_KIND_NONE;
    st->number = 0;
    st->len = 0;
    m->last_kind = MMAPOBJ_KIND_NONE;
    int rc = key_check(m, key, klen);
    if (rc) {
        st->code = rc;
        return NULL;
    }
    struct mo_hit hit = {0, 0, 0, 0, 0};
    rc = lookup(m, key ? key : "", klen, 1, &hit);
    st->code = rc;
    if (rc) return NULL;
    st->kind = hit.kind;
    m->last_kind = hit.kind;
    m->last_len = hit.vlen;
    if (hit.kind == MMAPOBJ_KIND_NUMBER) {
        memcpy(&st->number, m->scratch, 8);
        return NULL;
    }
    st->len = hit.vlen;
    if (hit.kind == MMAPOBJ_KIND_STRING && memchr(m->scratch, 0, hit.vlen) == NULL)
        return (const char *)m->scratch;
    return NULL;
}

MMAPOBJ_API const char *mmapobj_get_z(mmapobj_map *m, const char *key)
{
    if (!mo_is_map(m)) return NULL;
    if (!key) {
        m->status.kind = MMAPOBJ_KIND_NONE;
        m->status.code = mo_err(m, MMAPOBJ_E_INVAL, "NULL key");
        m->last_kind = MMAPOBJ_KIND_NONE;
        return NULL;
    }
    return mmapobj_get_cstr(m, key, strlen(key));
}

MMAPOBJ_API const mmapobj_status *mmapobj_status_block(const mmapobj_map *m)
{
    return mo_is_map(m) ? &m->status : NULL;
}

MMAPOBJ_API int64_t mmapobj_copy_last(mmapobj_map *m, void *buf, size_t cap)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (m->last_kind != MMAPOBJ_KIND_STRING && m->last_kind != MMAPOBJ_KIND_BYTES)
        return mo_err(m, MMAPOBJ_E_INVAL, "the last lookup produced no string or bytes value");
    if (cap < m->last_len)
        return mo_err(m, MMAPOBJ_E_BUFSMALL, "buffer of %zu bytes cannot hold the %llu-byte value",
                      cap, (unsigned long long)m->last_len);
    if (!buf && m->last_len) return mo_err(m, MMAPOBJ_E_INVAL, "NULL buffer");
    if (m->last_len) memcpy(buf, m->scratch, (size_t)m->last_len);
    return (int64_t)m->last_len;
}

/* ---- writer ----------------------------------------------------------------------------- */

static uint64_t *kind_counter(struct mo_header *h, int32_t kind)
{
    switch (kind) {
    case MMAPOBJ_KIND_STRING: return &h->count_string;
    case MMAPOBJ_KIND_NUMBER: return &h->count_number;
    default: return &h->count_bytes;
    }
}

/* Places every live key of the table at ooff (2^olg slots) into a new empty table of 2^lg slots
 * at noff, unless that would fill it past half with the key about to be added (a header count
 * that lies: the caller sized lg from it): then 0 with *placed = UINT64_MAX. Every probe is
 * bounded by the table size. */
static void table_fill(mmapobj_map *m, uint64_t ooff, uint32_t olg, uint64_t noff, uint32_t lg,
                       uint64_t *placed)
{
    const uint64_t *os = mo_table_slots(m->base, ooff);
    uint64_t *ns = mo_table_slots(m->base, noff);
    uint64_t nmask = (UINT64_C(1) << lg) - 1, omax = UINT64_C(1) << olg, n = 0;
    for (uint64_t i = 0; i < omax; i++) {
        uint64_t s = os[i];
        if (i + 16 < omax) {
            /* records sit in random order: fetch ahead so that their misses overlap */
            uint64_t p = os[i + 16];
            uint64_t po = mo_slot_off(p);
            if (mo_slot_live(p) && po < m->valid) __builtin_prefetch(m->base + po);
        }
        if (!mo_slot_live(s)) continue;
        struct mo_hit hit;
        uint64_t off = mo_slot_off(s);
        if (mo_record_decode(m->base, m->valid, off, &hit) != MMAPOBJ_OK)
            continue; /* drop a damaged entry */
        if ((n + 2) * 2 > nmask + 1) {
            *placed = UINT64_MAX; /* more entries than count said */
            return;
        }
        uint64_t hh = key_hash(m, m->base + off + MO_REC_HDR, hit.klen);
        uint64_t j = hh & nmask;
        for (uint64_t k = 0; ns[j] != MO_SLOT_EMPTY && k <= nmask; k++) j = (j + 1) & nmask;
        ns[j] = mo_slot_make(off, hh); /* under half full: the probe found an empty slot */
        n++;
    }
    *placed = n;
}

/* Builds a table of 2^log2 slots holding every live key of the current one, publishes it, frees
 * the old one and sets count and tombstones from what it placed. lg comes from the header's
 * count; when the old table holds more (a crafted count), the build starts again with the size
 * its live slots need, so that no count read from the file can overfill a table. want is only
 * for the message. */
static int table_build(mmapobj_map *m, uint64_t want, uint32_t lg)
{
    struct mo_header *h = m->hdr;
    uint64_t otref = mo_ld(&h->table_ref);
    uint64_t ooff, noff, placed = 0;
    uint32_t olg;
    if (mo_tref_decode(otref, m->valid, &ooff, &olg) != MMAPOBJ_OK)
        return mo_err(m, MMAPOBJ_E_CORRUPT, "invalid table reference");
    for (int pass = 0;; pass++) {
        uint64_t foot = mo_table_footprint(lg);
        int rc = mo_alloc(m, foot, MO_TABLE_ALIGN, &noff);
        if (rc) {
            if (rc == MMAPOBJ_E_FULL)
                return mo_err(m, rc, "growing the table to %llu buckets for %llu keys needs more "
                              "than max_file_size %llu", (unsigned long long)(UINT64_C(1) << lg),
                              (unsigned long long)want,
                              (unsigned long long)mo_ld(&h->max_file_size));
            return rc;
        }
        mo_table_init(m->base + noff, lg, mo_table_gen(m->base, ooff) + 1);
        table_fill(m, ooff, olg, noff, lg, &placed);
        if (placed != UINT64_MAX) break;
        mo_free_block(m, noff, foot);
        if (pass > 0) /* cannot happen: the second size comes from the slots themselves */
            return mo_err(m, MMAPOBJ_E_CORRUPT, "the new table of %llu buckets is full",
                          (unsigned long long)(UINT64_C(1) << lg));
        const uint64_t *os = mo_table_slots(m->base, ooff);
        uint64_t live = 0;
        for (uint64_t i = 0; i < (UINT64_C(1) << olg); i++) live += mo_slot_live(os[i]) != 0;
        lg = mo_log2_for(live + 1, 1, 2);
    }
    mo_st_rel(&h->table_ref, mo_tref_make(noff, lg));
    mo_st(&h->tombstones, 0);
    mo_st(&h->count, placed);
    mo_free_block(m, ooff, mo_table_footprint(olg));
    return MMAPOBJ_OK;
}

static int write_check(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!m->writable) return mo_err(m, MMAPOBJ_E_READONLY, "the map is open read-only");
    return MMAPOBJ_OK;
}

static int do_set(mmapobj_map *m, const void *key, size_t klen, int32_t kind, const void *data,
                  size_t len)
{
    struct mo_header *h = m->hdr;
    if (!key) key = "";
    if (!data) data = "";
    uint64_t hh = key_hash(m, key, klen);
    struct mo_hit hit = {0, 0, 0, 0, 0};
    int rc = probe(m, key, klen, hh, &hit);
    if (rc == MO_NEEDMAP) rc = MMAPOBJ_E_CORRUPT;
    if (rc != MMAPOBJ_OK && rc != MMAPOBJ_NOTFOUND)
        return mo_err(m, rc, "damaged table met while setting a %zu-byte key", klen);
    int found = rc == MMAPOBJ_OK;
    uint64_t tref = mo_ld(&h->table_ref);
    uint32_t lg = (uint32_t)(tref >> 56);
    uint64_t buckets = UINT64_C(1) << lg;
    uint64_t count = mo_ld(&h->count), tombs = mo_ld(&h->tombstones);
    int fills_empty = 0;
    if (!found) {
        fills_empty = hit.kind == 0;
        /* (count + tombstones + 1) > 0.8 B, in exact integer arithmetic */
        if (hit.slot_index == UINT64_MAX || (fills_empty && (count + tombs + 1) * 5 > buckets * 4)) {
            uint32_t nlg = mo_log2_for(count + 1, 1, 2);
            rc = table_build(m, count + 1, nlg);
            mo_seq_end(m);
            if (rc) return rc;
            rc = probe(m, key, klen, hh, &hit);
            if (rc != MMAPOBJ_NOTFOUND)
                return mo_err(m, MMAPOBJ_E_CORRUPT, "the rebuilt table is damaged");
            tref = mo_ld(&h->table_ref);
            count = mo_ld(&h->count); /* the rebuild counted what the table really holds */
            fills_empty = 1;
        }
    }
    uint64_t foot = mo_record_footprint(klen, len);
    uint64_t off = mo_ld(&h->alloc_end);
    if (__builtin_expect(!mo_fi_has_free(m) && off >= mo_ld(&h->fresh_end) &&
                             off + foot <= m->valid,
                         1)) {
        /* fast path: no free blocks to reuse, never-used room at the bump pointer (4-aligned) */
        mo_st(&h->alloc_end, off + foot);
        mo_st(&h->fresh_end, off + foot);
        rc = MMAPOBJ_OK;
    } else {
        rc = mo_alloc(m, foot, MO_RECORD_ALIGN, &off);
    }
    if (rc) {
        mo_seq_end(m);
        if (rc == MMAPOBJ_E_FULL)
            return mo_err(m, rc, "storing a %zu-byte key with a %zu-byte value needs more than "
                          "max_file_size %llu", klen, len,
                          (unsigned long long)mo_ld(&h->max_file_size));
        return rc;
    }
    uint8_t *r = m->base + off;
    uint64_t w = mo_record_word(kind, klen, len);
    memcpy(r, &w, 8);
    copy_small(r + MO_REC_HDR, key, klen);
    copy_small(r + MO_REC_HDR + klen, data, len);
    uint64_t *slots = mo_table_slots(m->base, tref & MO_TREF_OFF_MASK);
    mo_st_rel(&slots[hit.slot_index], mo_slot_make(off, hh));
    if (found) {
        uint64_t *oc = kind_counter(h, hit.kind);
        mo_st(oc, mo_ld(oc) - 1);
        mo_free_block(m, hit.off, mo_record_footprint(hit.klen, hit.vlen));
    } else {
        mo_st(&h->count, count + 1);
        if (!fills_empty) mo_st(&h->tombstones, mo_ld(&h->tombstones) - 1);
    }
    uint64_t *nc = kind_counter(h, kind);
    mo_st(nc, mo_ld(nc) + 1);
    mo_seq_end(m);
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_set(mmapobj_map *m, const void *key, size_t klen, int32_t kind,
                            const void *data, size_t len)
{
    int rc = write_check(m);
    if (rc) return rc;
    rc = key_check(m, key, klen);
    if (rc) return rc;
    if (kind != MMAPOBJ_KIND_STRING && kind != MMAPOBJ_KIND_NUMBER && kind != MMAPOBJ_KIND_BYTES)
        return mo_err(m, MMAPOBJ_E_INVAL, "bad value kind %d", (int)kind);
    if (!data && len) return mo_err(m, MMAPOBJ_E_INVAL, "NULL value with length %zu", len);
    if (kind == MMAPOBJ_KIND_NUMBER && len != 8)
        return mo_err(m, MMAPOBJ_E_INVAL, "a number value has 8 bytes, not %zu", len);
    if (len > MMAPOBJ_MAX_VALUE_LEN)
        return mo_err(m, MMAPOBJ_E_TOOBIG, "value of %zu bytes is longer than the maximum %zu",
                      len, (size_t)MMAPOBJ_MAX_VALUE_LEN);
    rc = mo_wlock_acquire(m);
    if (__builtin_expect(rc != MMAPOBJ_OK, 0)) return rc;
    rc = do_set(m, key, klen, kind, data, len);
    if (__builtin_expect(m->seq_odd, 0)) mo_seq_end(m);
    mo_wlock_release(m);
    return rc;
}

MMAPOBJ_API int mmapobj_set_string(mmapobj_map *m, const void *key, size_t klen, const void *str,
                                   size_t len)
{
    return mmapobj_set(m, key, klen, MMAPOBJ_KIND_STRING, str, len);
}

MMAPOBJ_API int mmapobj_set_number(mmapobj_map *m, const void *key, size_t klen, double value)
{
    return mmapobj_set(m, key, klen, MMAPOBJ_KIND_NUMBER, &value, sizeof value);
}

MMAPOBJ_API int mmapobj_set_bytes(mmapobj_map *m, const void *key, size_t klen, const void *data,
                                  size_t len)
{
    return mmapobj_set(m, key, klen, MMAPOBJ_KIND_BYTES, data, len);
}

MMAPOBJ_API int mmapobj_set_string_z(mmapobj_map *m, const char *key, const char *str)
{
    int rc = write_check(m);
    if (rc) return rc;
    if (!key || !str) return mo_err(m, MMAPOBJ_E_INVAL, "NULL key or value");
    return mmapobj_set(m, key, strlen(key), MMAPOBJ_KIND_STRING, str, strlen(str));
}

MMAPOBJ_API int mmapobj_set_number_z(mmapobj_map *m, const char *key, double value)
{
    int rc = write_check(m);
    if (rc) return rc;
    if (!key) return mo_err(m, MMAPOBJ_E_INVAL, "NULL key");
    return mmapobj_set(m, key, strlen(key), MMAPOBJ_KIND_NUMBER, &value, sizeof value);
}

static int do_delete(mmapobj_map *m, const void *key, size_t klen)
{
    int rc;
    struct mo_header *h = m->hdr;
    uint64_t hh = key_hash(m, key, klen);
    struct mo_hit hit = {0, 0, 0, 0, 0};
    rc = probe(m, key, klen, hh, &hit);
    if (rc == MO_NEEDMAP) rc = MMAPOBJ_E_CORRUPT;
    if (rc == MMAPOBJ_NOTFOUND) return rc;
    if (rc) return mo_err(m, rc, "damaged table met while deleting a %zu-byte key", klen);
    uint64_t tref = mo_ld(&h->table_ref);
    uint32_t lg = (uint32_t)(tref >> 56);
    uint64_t mask = (UINT64_C(1) << lg) - 1;
    uint64_t *slots = mo_table_slots(m->base, tref & MO_TREF_OFF_MASK);
    uint64_t i = hit.slot_index;
    uint64_t tombs = mo_ld(&h->tombstones);
    if (slots[(i + 1) & mask] == MO_SLOT_EMPTY) {
        /* nothing probes past i: the slot and the tombstones before it can become empty */
        mo_st_rel(&slots[i], MO_SLOT_EMPTY);
        uint64_t j = (i - 1) & mask;
        while (j != i && slots[j] == MO_SLOT_TOMB) {
            mo_st_rel(&slots[j], MO_SLOT_EMPTY);
            tombs--;
            j = (j - 1) & mask;
        }
    } else {
        mo_st_rel(&slots[i], MO_SLOT_TOMB);
        tombs++;
    }
    mo_st(&h->tombstones, tombs);
    mo_st(&h->count, mo_ld(&h->count) - 1);
    uint64_t *oc = kind_counter(h, hit.kind);
    mo_st(oc, mo_ld(oc) - 1);
    mo_free_block(m, hit.off, mo_record_footprint(hit.klen, hit.vlen));
    mo_seq_end(m);
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_delete(mmapobj_map *m, const void *key, size_t klen)
{
    int rc = write_check(m);
    if (rc) return rc;
    rc = key_check(m, key, klen);
    if (rc) return rc;
    rc = mo_wlock_acquire(m);
    if (__builtin_expect(rc != MMAPOBJ_OK, 0)) return rc;
    rc = do_delete(m, key ? key : "", klen);
    if (__builtin_expect(m->seq_odd, 0)) mo_seq_end(m);
    mo_wlock_release(m);
    return rc;
}

MMAPOBJ_API int mmapobj_delete_z(mmapobj_map *m, const char *key)
{
    int rc = write_check(m);
    if (rc) return rc;
    if (!key) return mo_err(m, MMAPOBJ_E_INVAL, "NULL key");
    return mmapobj_delete(m, key, strlen(key));
}
