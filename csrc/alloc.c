/* alloc.c - the in-file space allocator: segregated free lists (classes) whose heads live in
 * the header, block splitting, the bump pointer alloc_end with geometric file growth, the
 * free/slack accounting, and the seqlock brackets around rewrites of once-reachable bytes. */
#include <string.h>

#include "internal.h"

#define MO_FIT_SCAN 32 /* candidates examined before falling back to the bump pointer */

/* ---- seqlock (writer side) ----------------------------------------------------------- */

void mo_seq_begin(mmapobj_map *m)
{
    if (m->seq_odd) return;
    uint64_t s = mo_ld(&m->hdr->seq);
    mo_st(&m->hdr->seq, s + 1);
    atomic_thread_fence(memory_order_release);
    m->seq_odd = 1;
}

void mo_seq_end(mmapobj_map *m)
{
    if (!m->seq_odd) return;
    uint64_t s = mo_ld(&m->hdr->seq);
    mo_st_rel(&m->hdr->seq, s + 1);
    m->seq_odd = 0;
}

/* ---- free blocks ---------------------------------------------------------------------- */

static inline void bit_set(mmapobj_map *m, uint32_t c)
{
    m->nonempty[c >> 6] |= UINT64_C(1) << (c & 63);
    m->nonempty_words |= 1u << (c >> 6);
}
static inline void bit_clear(mmapobj_map *m, uint32_t c)
{
    m->nonempty[c >> 6] &= ~(UINT64_C(1) << (c & 63));
    if (!m->nonempty[c >> 6]) m->nonempty_words &= ~(1u << (c >> 6));
}

void mo_bitmap_rebuild(mmapobj_map *m)
{
    memset(m->nonempty, 0, sizeof m->nonempty);
    m->nonempty_words = 0;
    for (uint32_t c = 0; c < m->class_count; c++)
        if (m->hdr->free_head[c]) bit_set(m, c);
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void wr64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Pushes a free block of `size` bytes (>= 16, multiple of 4) at off onto its class list. */
void mo_free_block(mmapobj_map *m, uint64_t off, uint64_t size)
{
    struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    if (off < MO_HEADER_SIZE || off > ae || size > ae - off || ae > m->valid) {
        /* a damaged file named a block outside the data region: never write there */
        return;
    }
    uint32_t c = mo_class_of(size, m->class_count);
    mo_seq_begin(m);
    wr64(m->base + off, (size << 8) | MO_FREE_MARKER);
    wr64(m->base + off + 8, h->free_head[c]);
    h->free_head[c] = off;
    bit_set(m, c);
    mo_st(&h->free_bytes, mo_ld(&h->free_bytes) + size);
}

/* Gives back [off, off+len): a free block if it is big enough, else slack. */
void mo_release_region(mmapobj_map *m, uint64_t off, uint64_t len)
{
    if (len >= MO_MIN_BLOCK)
        mo_free_block(m, off, len);
    else if (len)
        mo_st(&m->hdr->slack_bytes, mo_ld(&m->hdr->slack_bytes) + len);
}

/* Reads and checks the free block at off. Returns its size, or 0 if it is not a sane block. */
static uint64_t block_size(mmapobj_map *m, uint64_t off)
{
    uint64_t ae = mo_ld(&m->hdr->alloc_end);
    if (off < MO_HEADER_SIZE || off % 4 || off >= ae || ae - off < MO_MIN_BLOCK) return 0;
    uint64_t w = rd64(m->base + off);
    uint64_t size = w >> 8;
    if ((w & 0xFF) != MO_FREE_MARKER || size < MO_MIN_BLOCK || size % 4 || size > ae - off)
        return 0;
    return size;
}

/* Takes the block at off (of class c, after `prev` which is 0 for the head) off its list. */
static void unlink_block(mmapobj_map *m, uint32_t c, uint64_t prev, uint64_t off)
{
    struct mo_header *h = m->hdr;
    uint64_t next = rd64(m->base + off + 8);
    mo_seq_begin(m);
    if (prev)
        wr64(m->base + prev + 8, next);
    else
        h->free_head[c] = next;
    if (!h->free_head[c]) bit_clear(m, c);
}

/* Does a block [off, off+size) hold n bytes at an `align` boundary? Gives the start. */
static int fits(uint64_t off, uint64_t size, uint64_t n, uint64_t align, uint64_t *start)
{
    uint64_t a = mo_round_up(off, align);
    if (a - off > size || size - (a - off) < n) return 0;
    *start = a;
    return 1;
}

static int take_from_list(mmapobj_map *m, uint32_t c, uint64_t n, uint64_t align, int *budget,
                          uint64_t *out)
{
    struct mo_header *h = m->hdr;
    uint64_t prev = 0, off = h->free_head[c];
    while (off && *budget > 0) {
        (*budget)--;
        uint64_t size = block_size(m, off);
        if (!size) {
            /* a damaged list: drop the rest of it rather than follow it */
            mo_seq_begin(m);
            if (prev)
                wr64(m->base + prev + 8, 0);
            else
                h->free_head[c] = 0;
            if (!h->free_head[c]) bit_clear(m, c);
            return 0;
        }
        uint64_t start;
        if (fits(off, size, n, align, &start)) {
            unlink_block(m, c, prev, off);
            mo_st(&h->free_bytes, mo_ld(&h->free_bytes) - size);
            mo_release_region(m, off, start - off);
            mo_release_region(m, start + n, off + size - (start + n));
            *out = start;
            return 1;
        }
        prev = off;
        off = rd64(m->base + off + 8);
    }
    return 0;
}

/* Allocates n bytes (multiple of 4, >= 16) at a multiple of align (4 or 64). Bytes that come
 * from the free lists are rewritten under an odd seq (the caller ends it). */
int mo_alloc(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out)
{
    struct mo_header *h = m->hdr;
    if (m->nonempty_words) {
        uint32_t cc = m->class_count;
        /* with alignment, a block needs room for the worst padding */
        uint64_t want = align > 4 ? n + align - 4 : n;
        uint32_t c = mo_class_of(want, cc);
        int budget = MO_FIT_SCAN;
        if (c < cc && (m->nonempty[c >> 6] >> (c & 63) & 1)) {
            if (take_from_list(m, c, n, align, &budget, out)) return MMAPOBJ_OK;
        }
        for (uint32_t w = (c + 1) >> 6; w < MO_CLASS_LIMIT / 64 && budget > 0; w++) {
            if (!(m->nonempty_words >> w & 1)) continue;
            uint64_t bits = m->nonempty[w];
            if (w == (c + 1) >> 6) bits &= ~UINT64_C(0) << ((c + 1) & 63);
            while (bits && budget > 0) {
                uint32_t k = (uint32_t)(w * 64 + (uint32_t)__builtin_ctzll(bits));
                bits &= bits - 1;
                if (k >= cc) break;
                if (take_from_list(m, k, n, align, &budget, out)) return MMAPOBJ_OK;
            }
        }
    }
    /* bump pointer (align is a power of two) */
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t start = (ae + align - 1) & ~(align - 1);
    if (__builtin_expect(start + n > m->valid, 0)) {
        int rc = mo_grow(m, start + n);
        if (rc) return rc;
    }
    mo_st(&h->alloc_end, start + n);
    if (start != ae) mo_release_region(m, ae, start - ae);
    *out = start;
    return MMAPOBJ_OK;
}
