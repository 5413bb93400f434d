/* freeidx.c - the writer's private index of free space: every free block of the data region,
 * by size class (doubly linked lists, for O(1) removal) and by its start and end offsets (two
 * hash maps, for O(1) coalescing with its neighbours). It lives in the writer's memory only: the
 * file's free lists (docs/FORMAT.md) are loaded from it at a clean writer open and written back
 * at close, so a free never writes into the freed bytes and neighbouring free blocks always
 * merge (the file stays bounded under any churn of value sizes). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "freeidx.h"
#include "hash.h"
#include "seqlock.h"

#define FI_NONE 0u

struct fi_node {
    uint64_t off, size;
    uint32_t prev, next; /* class list links (node numbers, FI_NONE at the ends) */
    uint32_t cls;        /* class, or UINT32_MAX for a node on the spare list */
};

/* Open-addressing map uint64 offset (never 0) -> node number, linear probing with
 * backward-shift deletion (private memory: nothing reads it concurrently). */
struct fi_map {
    uint64_t *keys;
    uint32_t *vals;
    uint64_t mask, used;
};

struct mo_freeidx {
    struct fi_node *nodes; /* nodes[0] is unused so that 0 can mean "none" */
    uint32_t nnodes, capnodes, spare;
    uint32_t head[MO_CLASS_LIMIT];
    uint64_t nonempty[MO_CLASS_LIMIT / 64];
    struct fi_map by_start, by_end;
    uint64_t blocks;
};

/* ---- the offset maps ------------------------------------------------------------------- */

static inline uint64_t map_slot(const struct fi_map *mp, uint64_t key)
{
    return (key * UINT64_C(0x9E3779B97F4A7C15)) >> 17 & mp->mask;
}

static int map_grow(struct fi_map *mp)
{
    uint64_t ncap = mp->mask ? (mp->mask + 1) * 2 : 1024;
    uint64_t *nk = calloc(ncap, sizeof *nk);
    uint32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return MMAPOBJ_E_NOMEM;
    }
    struct fi_map n = {nk, nv, ncap - 1, 0};
    for (uint64_t i = 0; mp->mask && i <= mp->mask; i++) {
        if (!mp->keys[i]) continue;
        uint64_t j = map_slot(&n, mp->keys[i]);
        while (n.keys[j]) j = (j + 1) & n.mask;
        n.keys[j] = mp->keys[i];
        n.vals[j] = mp->vals[i];
        n.used++;
    }
    free(mp->keys);
    free(mp->vals);
    *mp = n;
    return MMAPOBJ_OK;
}

static uint32_t map_get(const struct fi_map *mp, uint64_t key)
{
    if (!mp->mask) return FI_NONE;
    for (uint64_t i = map_slot(mp, key);; i = (i + 1) & mp->mask) {
        if (mp->keys[i] == key) return mp->vals[i];
        if (!mp->keys[i]) return FI_NONE;
    }
}

static int map_put(struct fi_map *mp, uint64_t key, uint32_t val)
{
    if ((mp->used + 1) * 2 > mp->mask + 1) {
        int rc = map_grow(mp);
        if (rc) return rc;
    }
    uint64_t i = map_slot(mp, key);
    while (mp->keys[i] && mp->keys[i] != key) i = (i + 1) & mp->mask;
    if (!mp->keys[i]) mp->used++;
    mp->keys[i] = key;
    mp->vals[i] = val;
    return MMAPOBJ_OK;
}

static void map_del(struct fi_map *mp, uint64_t key)
{
    if (!mp->mask) return;
    uint64_t i = map_slot(mp, key);
    while (mp->keys[i] != key) {
        if (!mp->keys[i]) return;
        i = (i + 1) & mp->mask;
    }
    /* backward shift: pull later members of the cluster into the hole when their home allows */
    for (uint64_t j = (i + 1) & mp->mask; mp->keys[j]; j = (j + 1) & mp->mask) {
        uint64_t home = map_slot(mp, mp->keys[j]);
        if (((j - home) & mp->mask) >= ((j - i) & mp->mask)) {
            mp->keys[i] = mp->keys[j];
            mp->vals[i] = mp->vals[j];
            i = j;
        }
    }
    mp->keys[i] = 0;
    mp->used--;
}

/* ---- nodes and class lists ------------------------------------------------------------- */

static inline void bit_set(struct mo_freeidx *fi, uint32_t c)
{
    fi->nonempty[c >> 6] |= UINT64_C(1) << (c & 63);
}

static inline void bit_clear(struct mo_freeidx *fi, uint32_t c)
{
    fi->nonempty[c >> 6] &= ~(UINT64_C(1) << (c & 63));
}

static uint32_t node_new(struct mo_freeidx *fi)
{
    if (fi->spare) {
        uint32_t n = fi->spare;
        fi->spare = fi->nodes[n].next;
        return n;
    }
    if (fi->nnodes + 1 >= fi->capnodes) {
        if (fi->capnodes >= UINT32_MAX / 2) return FI_NONE;
        uint32_t ncap = fi->capnodes ? fi->capnodes * 2 : 256;
        struct fi_node *p = realloc(fi->nodes, (size_t)ncap * sizeof *p);
        if (!p) return FI_NONE;
        fi->nodes = p;
        fi->capnodes = ncap;
    }
    if (fi->nnodes == 0) fi->nnodes = 1; /* node 0 stays unused */
    return fi->nnodes++;
}

static void list_unlink(struct mo_freeidx *fi, uint32_t n)
{
    struct fi_node *x = &fi->nodes[n];
    if (x->prev)
        fi->nodes[x->prev].next = x->next;
    else
        fi->head[x->cls] = x->next;
    if (x->next) fi->nodes[x->next].prev = x->prev;
    if (!fi->head[x->cls]) bit_clear(fi, x->cls);
}

/* Removes node n from everything and puts it on the spare list. */
static void node_drop(struct mo_freeidx *fi, uint32_t n)
{
    struct fi_node *x = &fi->nodes[n];
    list_unlink(fi, n);
    map_del(&fi->by_start, x->off);
    map_del(&fi->by_end, x->off + x->size);
    x->cls = UINT32_MAX;
    x->next = fi->spare;
    fi->spare = n;
    fi->blocks--;
}

static int node_insert(mmapobj_map *m, uint64_t off, uint64_t size)
{
    struct mo_freeidx *fi = m->fi;
    uint32_t n = node_new(fi);
    if (n == FI_NONE) return MMAPOBJ_E_NOMEM;
    if (map_put(&fi->by_start, off, n) || map_put(&fi->by_end, off + size, n)) {
        map_del(&fi->by_start, off);
        fi->nodes[n].next = fi->spare;
        fi->spare = n;
        return MMAPOBJ_E_NOMEM;
    }
    uint32_t c = mo_class_of(size, m->class_count);
    struct fi_node *x = &fi->nodes[n];
    x->off = off;
    x->size = size;
    x->cls = c;
    x->prev = FI_NONE;
    x->next = fi->head[c];
    if (x->next) fi->nodes[x->next].prev = n;
    fi->head[c] = n;
    bit_set(fi, c);
    fi->blocks++;
    return MMAPOBJ_OK;
}

/* ---- public (internal) interface ------------------------------------------------------- */

int mo_fi_init(mmapobj_map *m)
{
    if (m->fi) return MMAPOBJ_OK;
    m->fi = calloc(1, sizeof *m->fi);
    return m->fi ? MMAPOBJ_OK : mo_err(m, MMAPOBJ_E_NOMEM, "out of memory");
}

void mo_fi_reset(mmapobj_map *m)
{
    struct mo_freeidx *fi = m->fi;
    if (!fi) return;
    free(fi->nodes);
    free(fi->by_start.keys);
    free(fi->by_start.vals);
    free(fi->by_end.keys);
    free(fi->by_end.vals);
    memset(fi, 0, sizeof *fi);
}

void mo_fi_destroy(mmapobj_map *m)
{
    mo_fi_reset(m);
    free(m->fi);
    m->fi = NULL;
}

int mo_fi_has_free(const mmapobj_map *m)
{
    return m->fi && m->fi->blocks != 0;
}

/* Returns [off, off+size) to free space, merging it with free neighbours; a block that ends at
 * alloc_end gives its bytes back to the tail instead. Space that cannot be tracked (blocks under
 * 16 bytes, or out of memory for the index) is counted as slack. Writes nothing into the block. */
void mo_fi_add(mmapobj_map *m, uint64_t off, uint64_t size)
{
    struct mo_header *h = m->hdr;
    struct mo_freeidx *fi = m->fi;
    if (!size) return;
    uint64_t ae = mo_ld(&h->alloc_end);
    if (off < MO_HEADER_SIZE || off > ae || size > ae - off) return; /* never trust a bad range */
    /* a block that starts or ends where a free block does overlaps it: those bytes are free
     * already (a damaged table freeing a record twice); refuse rather than index them twice */
    if (map_get(&fi->by_start, off) || map_get(&fi->by_end, off + size)) return;
    uint64_t free_bytes = mo_ld(&h->free_bytes) + size;
    uint32_t left = map_get(&fi->by_end, off);
    if (left) {
        off = fi->nodes[left].off;
        size += fi->nodes[left].size;
        node_drop(fi, left);
    }
    uint32_t right = map_get(&fi->by_start, off + size);
    if (right) {
        size += fi->nodes[right].size;
        node_drop(fi, right);
    }
    if (off + size == ae) {
        /* the tail: lower the bump pointer (bytes below m->fresh_from are reused under seq) */
        mo_st(&h->alloc_end, off);
        free_bytes -= size;
    } else if (size < MO_MIN_BLOCK || node_insert(m, off, size) != MMAPOBJ_OK) {
        free_bytes -= size;
        mo_st(&h->slack_bytes, mo_ld(&h->slack_bytes) + size);
    }
    mo_st(&h->free_bytes, free_bytes);
}

/* Does the block [off, off+size) hold n bytes at an align boundary, leaving either nothing or a
 * tail of at least 16 bytes (so that a split never strands bytes as slack)? */
static int fits(uint64_t off, uint64_t size, uint64_t n, uint64_t align, uint64_t *start)
{
    uint64_t a = (off + align - 1) & ~(align - 1);
    if (a - off > size || size - (a - off) < n) return 0;
    uint64_t rest = size - (a - off) - n;
    if (rest != 0 && rest < MO_MIN_BLOCK) return 0;
    *start = a;
    return 1;
}

#define FI_SCAN_BUDGET 32 /* blocks examined per allocation before falling back to the tail */

/* First fitting block of the lists of classes [lo, hi], examining at most *budget blocks. */
static uint32_t scan_classes(struct mo_freeidx *fi, uint32_t lo, uint32_t hi, uint64_t n,
                             uint64_t align, int *budget, uint64_t *start)
{
    for (uint32_t k = lo; k <= hi && k < MO_CLASS_LIMIT && *budget > 0; k++) {
        if (!(fi->nonempty[k >> 6] >> (k & 63) & 1)) continue;
        for (uint32_t x = fi->head[k]; x && *budget > 0; x = fi->nodes[x].next) {
            (*budget)--;
            if (fits(fi->nodes[x].off, fi->nodes[x].size, n, align, start)) return x;
            /* an exact-size class holds one size: if its head does not fit, none does */
            if (k < MO_SMALL_CLASSES && align <= 4) break;
        }
    }
    return FI_NONE;
}

/* First non-empty class at or above lo (MO_CLASS_LIMIT if none), through the bitmap. */
static uint32_t first_class_from(const struct mo_freeidx *fi, uint32_t lo)
{
    for (uint32_t w = lo >> 6; w < MO_CLASS_LIMIT / 64; w++) {
        uint64_t bits = fi->nonempty[w];
        if (w == lo >> 6) bits &= ~UINT64_C(0) << (lo & 63);
        if (bits) return w * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return MO_CLASS_LIMIT;
}

/* Takes n bytes (multiple of 4) at a multiple of align (a power of two >= 4) from free space.
 * Returns 1 with *out set (seq is made odd: the caller rewrites once-reachable bytes), or 0 when
 * no free block fits. Good fit, as in TLSF: a block of want's own class (exact for small sizes,
 * a short scan for ranged classes); else the head of the first non-empty class whose every block
 * fits with room to spare (O(1)); else a bounded scan of the classes in between. */
int mo_fi_take(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out)
{
    struct mo_freeidx *fi = m->fi;
    struct mo_header *h = m->hdr;
    if (!fi || !fi->blocks) return 0;
    uint32_t cc = m->class_count;
    uint64_t want = align > 4 ? n + align - 4 : n;
    uint32_t c = mo_class_of(want, cc);
    /* classes above this one hold only blocks of at least want + 16 bytes: they always fit and
     * leave a remainder big enough to be a free block */
    uint32_t sure = mo_class_of(want + MO_MIN_BLOCK, cc) + 1;
    int budget = FI_SCAN_BUDGET / 4;
    uint64_t start = 0;
    uint32_t found = scan_classes(fi, c, c, n, align, &budget, &start);
    if (!found && sure < cc) {
        uint32_t k = first_class_from(fi, sure);
        if (k < cc && fits(fi->nodes[fi->head[k]].off, fi->nodes[fi->head[k]].size, n, align,
                           &start))
            found = fi->head[k];
    }
    if (!found) {
        budget = FI_SCAN_BUDGET;
        found = scan_classes(fi, c + 1, sure - 1 < cc ? sure - 1 : cc - 1, n, align, &budget,
                             &start);
    }
    if (!found) return 0;
    uint64_t off = fi->nodes[found].off, size = fi->nodes[found].size;
    node_drop(fi, found);
    mo_st(&h->free_bytes, mo_ld(&h->free_bytes) - size);
    mo_seq_begin(m);
    /* the pieces before and after go back (the block was maximal, so they merge with nothing) */
    if (start > off) mo_fi_add(m, off, start - off);
    if (off + size > start + n) mo_fi_add(m, start + n, off + size - start - n);
    *out = start;
    return 1;
}

/* Loads the file's free lists (a clean file: DIRTY was clear), feeding the header of every
 * listed block to the state checksum hs (NULL: none) in list order. Every block is checked: in
 * [8192, alloc_end), its marker, size and class, not over the table block [toff, toff + tsize),
 * not starting or ending where a block loaded before it does; the number of blocks is capped by
 * what alloc_end can hold (so a cycle ends). Returns E_CORRUPT if a list is damaged (the caller
 * then rebuilds free space from the gaps with mo_repair). */
int mo_fi_load(mmapobj_map *m, mo_hstream *hs, uint64_t toff, uint64_t tsize)
{
    struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t max_steps = (ae - MO_HEADER_SIZE) / MO_MIN_BLOCK + 1, steps = 0;
    mo_fi_reset(m);
    /* mo_fi_add keeps free_bytes; recount it from what the lists really hold */
    mo_st(&h->free_bytes, 0);
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t off = h->free_head[c];
        if (off && c >= m->class_count) return MMAPOBJ_E_CORRUPT;
        while (off) {
            if (++steps > max_steps) return MMAPOBJ_E_CORRUPT;
            uint64_t size, next, word;
            if (mo_free_block_read(m->base, off, ae, &size, &next, &word) ||
                mo_class_of(size, m->class_count) != c)
                return MMAPOBJ_E_CORRUPT;
            if (off < toff + tsize && toff < off + size) return MMAPOBJ_E_CORRUPT; /* the table */
            /* two listed blocks that overlap would be a damaged file */
            if (map_get(&m->fi->by_start, off) || map_get(&m->fi->by_end, off + size))
                return MMAPOBJ_E_CORRUPT;
            uint64_t bytes[2] = {word, next};
            mo_hstream_add(hs, bytes, sizeof bytes);
            mo_fi_add(m, off, size);
            off = next;
        }
    }
    return MMAPOBJ_OK;
}

/* Feeds the header of every free block to hs as mo_fi_persist writes it: classes in order, each
 * list from its head (the index's order). */
void mo_fi_hash(const mmapobj_map *m, mo_hstream *hs)
{
    const struct mo_freeidx *fi = m->fi;
    if (!fi) return;
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++)
        for (uint32_t x = fi->head[c]; x; x = fi->nodes[x].next) {
            uint32_t y = fi->nodes[x].next;
            uint64_t bytes[2] = {(fi->nodes[x].size << 8) | MO_FREE_MARKER,
                                 y ? fi->nodes[y].off : 0};
            mo_hstream_add(hs, bytes, sizeof bytes);
        }
}

/* Writes the index into the file's free lists (block headers + heads), under an odd seq: the
 * blocks may still be read through stale offsets by readers. */
void mo_fi_persist(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    struct mo_freeidx *fi = m->fi;
    mo_seq_begin(m);
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t prev_off = 0;
        h->free_head[c] = 0;
        if (!fi) continue;
        /* keep the in-memory order: write the list back to front so heads match */
        uint32_t last = FI_NONE;
        for (uint32_t x = fi->head[c]; x; x = fi->nodes[x].next) last = x;
        for (uint32_t x = last; x; x = fi->nodes[x].prev) {
            uint64_t w = (fi->nodes[x].size << 8) | MO_FREE_MARKER;
            memcpy(m->base + fi->nodes[x].off, &w, 8);
            memcpy(m->base + fi->nodes[x].off + 8, &prev_off, 8);
            prev_off = fi->nodes[x].off;
        }
        h->free_head[c] = prev_off;
    }
    mo_seq_end(m);
}
