/* iter.c - cursors over the live entries of a map: a walk over the slots of the table the
 * cursor started on, validated entry by entry with the seqlock; when the writer publishes a new
 * table the cursor restarts in it and skips keys whose 64-bit hash it has already produced. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hash.h"
#include "mapping.h"
#include "seqlock.h"

#define MO_ITER_PREFETCH 16 /* slots ahead whose record is prefetched */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int seen(const mmapobj_iter *it, uint64_t h)
{
    size_t lo = 0, hi = it->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (it->hashes[mid] == h) return 1;
        if (it->hashes[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

MMAPOBJ_API int mmapobj_iter_open(mmapobj_map *m, mmapobj_iter **out)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!out) return mo_err(m, MMAPOBJ_E_INVAL, "NULL iterator pointer");
    *out = NULL;
    mmapobj_iter *it = calloc(1, sizeof *it);
    if (!it) return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory for an iterator");
    it->magic = MO_ITER_MAGIC;
    it->m = m;
    it->tref = mo_ld_acq(&m->hdr->table_ref);
    uint64_t toff;
    uint32_t lg;
    if (mo_tref_decode(it->tref, m->valid, &toff, &lg) == MMAPOBJ_OK)
        it->gen = mo_table_gen(m->base, toff);
    it->next = m->iters;
    if (m->iters) m->iters->prev = it;
    m->iters = it;
    *out = it;
    return MMAPOBJ_OK;
}

MMAPOBJ_API void mmapobj_iter_close(mmapobj_iter **itp)
{
    if (!itp || !*itp) return;
    mmapobj_iter *it = *itp;
    *itp = NULL;
    if (it->magic != MO_ITER_MAGIC) return;
    if (it->m) {
        if (it->prev)
            it->prev->next = it->next;
        else
            it->m->iters = it->next;
        if (it->next) it->next->prev = it->prev;
    }
    it->magic = 0;
    free(it->hashes);
    free(it->buf);
    free(it);
}

static int ensure_buf(mmapobj_iter *it, size_t n)
{
    if (n <= it->cap) return MMAPOBJ_OK;
    size_t cap = it->cap ? it->cap : 256;
    while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    uint8_t *p = realloc(it->buf, cap);
    if (!p) return mo_err(it->m, MMAPOBJ_E_NOMEM, "out of memory for a %zu-byte entry", n);
    it->buf = p;
    it->cap = cap;
    return MMAPOBJ_OK;
}

/* Reads slot pos of the cursor's table. Returns 1 with the entry copied, 0 for an empty slot,
 * or an error / MO_NEEDMAP. */
static int read_slot(mmapobj_iter *it, uint64_t toff, uint32_t lg)
{
    mmapobj_map *m = it->m;
    const uint64_t *slots = (const uint64_t *)(const void *)(m->base + toff + MO_TABLE_HDR);
    /* Table order is not file order: at scale every record is a cache miss. Start loading the
     * record a few slots ahead so that the misses overlap (a prefetch never faults; it is still
     * kept inside the mapping). */
    if (it->pos + MO_ITER_PREFETCH < (UINT64_C(1) << lg)) {
        uint64_t ps = mo_ld(&slots[it->pos + MO_ITER_PREFETCH]);
        uint64_t po = (ps & MO_SLOT_OFF_MASK) << 2;
        if (ps > MO_SLOT_TOMB && po < m->valid) __builtin_prefetch(m->base + po);
    }
    uint64_t s = mo_ld_acq(&slots[it->pos]);
    if (s == MO_SLOT_EMPTY || s == MO_SLOT_TOMB) return 0;
    struct mo_hit hit;
    int rc = mo_record_decode(m->base, m->valid, mo_slot_off(s), &hit);
    if (rc) return rc;
    size_t need = (size_t)hit.klen + hit.vlen + 1;
    if (need > it->cap) {
        /* a reader grows its buffer only for lengths the seq check has confirmed (step) */
        if (!mo_stable(m)) {
            it->want = need;
            return MO_NEEDBUF;
        }
        rc = ensure_buf(it, need);
        if (rc) return rc;
    }
    memcpy(it->buf, m->base + hit.off + MO_REC_HDR, (size_t)hit.klen + hit.vlen);
    it->buf[hit.klen + hit.vlen] = 0;
    it->klen = hit.klen;
    it->val.kind = hit.kind;
    it->val.reserved = 0;
    if (hit.kind == MMAPOBJ_KIND_NUMBER) {
        memcpy(&it->val.number, it->buf + hit.klen, 8);
        it->val.data = NULL;
        it->val.len = 0;
    } else {
        it->val.number = 0;
        it->val.data = it->buf + hit.klen;
        it->val.len = hit.vlen;
    }
    return 1;
}

/* Advances to the next entry, leaving it in it->buf / it->klen / it->val. 1, 0 at the end, or
 * a negative error. */
static int step(mmapobj_iter *it)
{
    mmapobj_map *m = it->m;
    if (it->done) return 0;
    for (;;) {
        uint64_t s1 = 0;
        if (!mo_stable(m)) {
            int r0 = mo_seq_read_begin(m, &s1);
            if (r0) return r0;
        }
        uint64_t tref = mo_ld_acq(&m->hdr->table_ref);
        uint64_t toff = 0;
        uint32_t lg = 0;
        int rc = mo_tref_decode(tref, m->valid, &toff, &lg);
        /* a table is known by its reference and its generation: a rebuild may put a table of
         * the same size back where an older one was */
        uint64_t gen = rc == MMAPOBJ_OK ? mo_table_gen(m->base, toff) : 0;
        if (tref != it->tref || gen != it->gen) {
            /* the writer published a new table: restart in it, skipping what was produced */
            if (it->nhashes) qsort(it->hashes, it->nhashes, sizeof *it->hashes, cmp_u64);
            it->nsorted = it->nhashes;
            it->switched = 1;
            it->tref = tref;
            it->gen = gen;
            it->pos = 0;
        }
        int end = 0;
        if (rc == MMAPOBJ_OK) {
            if (it->pos >= (UINT64_C(1) << lg))
                end = 1;
            else
                rc = read_slot(it, toff, lg);
        }
        if (!mo_stable(m) && mo_seq_read_retry(m, s1)) continue;
        if (rc == MO_NEEDBUF) {
            rc = ensure_buf(it, it->want);
            if (rc) return rc;
            continue;
        }
        if (rc == MO_NEEDMAP) {
            if (!mo_stable(m)) {
                int r2 = mo_reader_remap(m);
                if (r2 == MMAPOBJ_OK) continue;
                if (r2 != MMAPOBJ_NOTFOUND) return r2;
            }
            return mo_err(m, MMAPOBJ_E_CORRUPT, "table slot %llu points past the end of the file",
                          (unsigned long long)it->pos);
        }
        if (rc < 0)
            return mo_err(m, rc, "damaged table or record at slot %llu during iteration",
                          (unsigned long long)it->pos);
        if (end) {
            it->done = 1;
            return 0;
        }
        it->pos++;
        if (rc == 0) continue;
        uint64_t h = mo_hash(m->seed, it->buf, it->klen);
        if (it->switched && seen(it, h)) continue;
        if (it->nhashes == it->caphashes) {
            size_t nc = it->caphashes ? it->caphashes * 2 : 1024;
            uint64_t *p = realloc(it->hashes, nc * sizeof *p);
            if (!p) {
                it->pos--;
                return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory for the iterator's key list");
            }
            it->hashes = p;
            it->caphashes = nc;
        }
        it->hashes[it->nhashes++] = h;
        return 1;
    }
}

static int iter_check(mmapobj_iter *it)
{
    if (!it || it->magic != MO_ITER_MAGIC || !it->m || !mo_is_map(it->m)) return MMAPOBJ_E_CLOSED;
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_iter_next(mmapobj_iter *it, const void **key, size_t *klen,
                                  mmapobj_value *val)
{
    int rc = iter_check(it);
    if (rc) return rc;
    if (!key || !klen) return mo_err(it->m, MMAPOBJ_E_INVAL, "NULL key or length pointer");
    if (!it->pending) {
        rc = step(it);
        if (rc <= 0) return rc;
    }
    it->pending = 0;
    *key = it->buf;
    *klen = it->klen;
    if (val) *val = it->val;
    return 1;
}

MMAPOBJ_API int mmapobj_iter_batch(mmapobj_iter *it, void *buf, size_t cap, int32_t with_values,
                                   uint64_t *need)
{
    int rc = iter_check(it);
    if (rc) return rc;
    if (!buf && cap) return mo_err(it->m, MMAPOBJ_E_INVAL, "NULL buffer");
    uint8_t *p = buf;
    size_t used = 0;
    int count = 0;
    while (count < INT32_MAX) {
        if (!it->pending) {
            rc = step(it);
            if (rc < 0) return count ? count : rc;
            if (rc == 0) break;
            it->pending = 1;
        }
        uint64_t n = 4 + (uint64_t)it->klen;
        if (with_values) {
            n += 1;
            n += it->val.kind == MMAPOBJ_KIND_NUMBER ? 8 : 4 + (uint64_t)it->val.len;
        }
        if (n > cap - used) {
            if (count) break;
            if (need) *need = n;
            return mo_err(it->m, MMAPOBJ_E_BUFSMALL, "iteration buffer of %zu bytes cannot hold "
                          "the next entry of %llu bytes", cap, (unsigned long long)n);
        }
        uint32_t kl = (uint32_t)it->klen;
        memcpy(p + used, &kl, 4);
        memcpy(p + used + 4, it->buf, it->klen);
        used += 4 + it->klen;
        if (with_values) {
            p[used++] = (uint8_t)it->val.kind;
            if (it->val.kind == MMAPOBJ_KIND_NUMBER) {
                memcpy(p + used, &it->val.number, 8);
                used += 8;
            } else {
                uint32_t vl = (uint32_t)it->val.len;
                memcpy(p + used, &vl, 4);
                memcpy(p + used + 4, it->val.data, it->val.len);
                used += 4 + it->val.len;
            }
        }
        it->pending = 0;
        count++;
    }
    return count;
}
