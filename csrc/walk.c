/* walk.c - the full walk of a map's table and free lists shared by mmapobj_verify (verify.c)
 * and crash repair (repair.c): every slot, record and free block as a list of blocks, which must
 * not overlap and must lie in [8192, alloc_end). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "walk.h"

static int add_block(struct mo_walk *w, uint64_t off, uint64_t size, uint32_t type, uint32_t aux)
{
    if (w->nblocks == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 1024;
        struct mo_block *p = realloc(w->blocks, nc * sizeof *p);
        if (!p) {
            snprintf(w->msg, sizeof w->msg, "out of memory while walking the file");
            return MMAPOBJ_E_NOMEM;
        }
        w->blocks = p;
        w->cap = nc;
    }
    w->blocks[w->nblocks++] = (struct mo_block){off, size, type, aux};
    return MMAPOBJ_OK;
}

void mo_walk_free(struct mo_walk *w)
{
    free(w->blocks);
    w->blocks = NULL;
    w->nblocks = w->cap = 0;
}

static int cmp_block(const void *a, const void *b)
{
    const struct mo_block *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static const char *blk_name(uint32_t t)
{
    return t == MO_BLK_TABLE ? "table" : t == MO_BLK_RECORD ? "record"
         : t == MO_BLK_INDEX ? "writers' index block" : "free block";
}

int mo_walk_add(struct mo_walk *w, uint64_t off, uint64_t size, uint32_t type)
{
    return add_block(w, off, size, type, 0);
}

int mo_walk_check_overlap(struct mo_walk *w, uint64_t limit)
{
    qsort(w->blocks, w->nblocks, sizeof *w->blocks, cmp_block);
    uint64_t end = MO_HEADER_SIZE;
    for (size_t i = 0; i < w->nblocks; i++) {
        const struct mo_block *b = &w->blocks[i];
        if (b->off < end) {
            snprintf(w->msg, sizeof w->msg, "%s at offset %llu (%llu bytes) overlaps the block "
                     "ending at %llu", blk_name(b->type), (unsigned long long)b->off,
                     (unsigned long long)b->size, (unsigned long long)end);
            return MMAPOBJ_E_CORRUPT;
        }
        if (b->off > limit || b->size > limit - b->off) {
            snprintf(w->msg, sizeof w->msg, "%s at offset %llu (%llu bytes) ends past alloc_end "
                     "%llu", blk_name(b->type), (unsigned long long)b->off,
                     (unsigned long long)b->size, (unsigned long long)limit);
            return MMAPOBJ_E_CORRUPT;
        }
        end = b->off + b->size;
    }
    return MMAPOBJ_OK;
}

static int walk_free_lists(mmapobj_map *m, struct mo_walk *w, uint64_t limit)
{
    struct mo_header *h = m->hdr;
    uint64_t max_steps = (limit - MO_HEADER_SIZE) / MO_MIN_BLOCK + 1;
    uint64_t steps = 0;
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t off = mo_ld(&h->free_head[c]);
        if (c >= m->class_count && off) {
            snprintf(w->msg, sizeof w->msg, "free-list head %u (offset %llu in the header) is set "
                     "but class_count is %u", c, (unsigned long long)(4096 + 8 * c),
                     m->class_count);
            return MMAPOBJ_E_CORRUPT;
        }
        while (off) {
            if (++steps > max_steps) {
                snprintf(w->msg, sizeof w->msg, "free list of class %u has a cycle", c);
                return MMAPOBJ_E_CORRUPT;
            }
            uint64_t size, next, hdr = 0;
            const char *bad = mo_free_block_read(m->base, off, limit, &size, &next, &hdr);
            if (bad) {
                snprintf(w->msg, sizeof w->msg, "free list of class %u: block at offset %llu: "
                         "%s (header 0x%016llx)", c, (unsigned long long)off, bad,
                         (unsigned long long)hdr);
                return MMAPOBJ_E_CORRUPT;
            }
            if (mo_class_of(size, m->class_count) != c) {
                snprintf(w->msg, sizeof w->msg, "free block at offset %llu of %llu bytes is on "
                         "list %u, not %u", (unsigned long long)off, (unsigned long long)size, c,
                         mo_class_of(size, m->class_count));
                return MMAPOBJ_E_CORRUPT;
            }
            int rc = add_block(w, off, size, MO_BLK_FREE, c);
            if (rc) return rc;
            w->free_bytes += size;
            off = next;
        }
    }
    return MMAPOBJ_OK;
}

/* Does a probe for the key of slot i reach slot i (no empty slot between its home and i, and no
 * earlier slot with the same key)? */
static int probe_position_ok(mmapobj_map *m, const uint64_t *slots, uint64_t mask, uint64_t i,
                             uint64_t h, const uint8_t *key, uint32_t klen, char *msg, size_t cap)
{
    uint64_t tag = h >> MO_SLOT_OFF_BITS;
    for (uint64_t j = h & mask, n = 0; n <= mask; j = (j + 1) & mask, n++) {
        if (j == i) return 1;
        uint64_t s = mo_ld(&slots[j]);
        if (s == MO_SLOT_EMPTY) {
            snprintf(msg, cap, "slot %llu: an empty slot %llu lies between the key's home slot "
                     "%llu and it", (unsigned long long)i, (unsigned long long)j,
                     (unsigned long long)(h & mask));
            return 0;
        }
        if (s == MO_SLOT_TOMB || (s >> MO_SLOT_OFF_BITS) != tag) continue;
        struct mo_hit hit;
        uint64_t off = (s & MO_SLOT_OFF_MASK) << 2;
        if (mo_record_decode(m->base, m->valid, off, &hit) == MMAPOBJ_OK && hit.klen == klen &&
            memcmp(m->base + off + MO_REC_HDR, key, klen) == 0) {
            snprintf(msg, cap, "slot %llu: the same key is also in slot %llu",
                     (unsigned long long)i, (unsigned long long)j);
            return 0;
        }
    }
    return 0;
}

int mo_walk_collect(mmapobj_map *m, struct mo_walk *w, uint64_t limit, int free_lists, int strict)
{
    struct mo_header *h = m->hdr;
    uint64_t tref = mo_ld_acq(&h->table_ref);
    int rc = mo_tref_decode(tref, m->valid, &w->toff, &w->log2);
    if (rc) {
        snprintf(w->msg, sizeof w->msg, "table reference 0x%016llx (header offset 72) is invalid",
                 (unsigned long long)tref);
        return MMAPOBJ_E_CORRUPT;
    }
    uint32_t marker, tlg;
    if (!mo_table_marker_ok(m->base, w->toff, w->log2, &marker, &tlg)) {
        snprintf(w->msg, sizeof w->msg, "table at offset %llu has marker 0x%08x and log2 %u",
                 (unsigned long long)w->toff, (unsigned)marker, (unsigned)tlg);
        return MMAPOBJ_E_CORRUPT;
    }
    w->table_bytes = mo_table_footprint(w->log2);
    rc = add_block(w, w->toff, w->table_bytes, MO_BLK_TABLE, 0);
    if (rc) return rc;
    const uint64_t *slots = (const uint64_t *)(const void *)(m->base + w->toff + MO_TABLE_HDR);
    uint64_t nb = UINT64_C(1) << w->log2, mask = nb - 1;
    for (uint64_t i = 0; i < nb; i++) {
        uint64_t s = mo_ld(&slots[i]);
        if (s == MO_SLOT_EMPTY) continue;
        if (s == MO_SLOT_TOMB) {
            w->tombs++;
            continue;
        }
        uint64_t off = (s & MO_SLOT_OFF_MASK) << 2;
        struct mo_hit hit;
        rc = mo_record_decode(m->base, m->valid, off, &hit);
        if (rc != MMAPOBJ_OK || off > limit) {
            snprintf(w->msg, sizeof w->msg, "slot %llu (file offset %llu) points at a bad record "
                     "at offset %llu", (unsigned long long)i,
                     (unsigned long long)(w->toff + MO_TABLE_HDR + 8 * i), (unsigned long long)off);
            return MMAPOBJ_E_CORRUPT;
        }
        uint64_t foot = mo_record_footprint(hit.klen, hit.vlen);
        if (strict) {
            const uint8_t *key = m->base + off + MO_REC_HDR;
            uint64_t hh = mo_hash(m->seed, key, hit.klen);
            if ((hh >> MO_SLOT_OFF_BITS) != (s >> MO_SLOT_OFF_BITS)) {
                snprintf(w->msg, sizeof w->msg, "slot %llu: tag 0x%06llx does not match the hash "
                         "of the key of the record at offset %llu", (unsigned long long)i,
                         (unsigned long long)(s >> MO_SLOT_OFF_BITS), (unsigned long long)off);
                return MMAPOBJ_E_CORRUPT;
            }
            if (!probe_position_ok(m, slots, mask, i, hh, key, hit.klen, w->msg, sizeof w->msg))
                return MMAPOBJ_E_CORRUPT;
        }
        rc = add_block(w, off, foot, MO_BLK_RECORD, (uint32_t)i);
        if (rc) return rc;
        w->live++;
        w->kinds[hit.kind & 3]++;
        w->record_bytes += foot;
    }
    if (free_lists) return walk_free_lists(m, w, limit);
    return MMAPOBJ_OK;
}

