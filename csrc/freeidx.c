/* freeidx.c - the writers' index of free space: every free block of the data region, by size
 * class (doubly linked lists, for O(1) removal) and by its start and end offsets (two hash maps,
 * for O(1) coalescing with its neighbours). It lives in the file while writers have it open
 * (docs/FORMAT.md, "The writers' index of free space"): every writer handle of every process
 * works on the same index under the write lock (wlock.c), so a handover of the lock costs
 * nothing. Its layout holds node numbers and offsets, never pointers (each process maps the file
 * at its own address). The class list heads (node numbers) sit in the header's free-head array
 * and the class bitmap at header offset 1024; the nodes and maps in the index block named by
 * index_ref: first the one inside the header (offset 1088, 32 nodes: no allocation is ever
 * needed to start one, even in a full file), then blocks of the data region twice as big each
 * time. The first writer of a session loads the file's free lists into it; the last one writes
 * the lists back and frees the block. A free never writes into the freed bytes, and neighbouring
 * free blocks always merge (the file stays bounded under any churn of value sizes). Also here:
 * the bump allocation at alloc_end. */
#include <string.h>

#include "error.h"
#include "freeidx.h"
#include "hash.h"
#include "mapping.h"
#include "seqlock.h"

#define FI_NONE 0u
#define FI_SPARE UINT32_MAX   /* cls of a node on the spare list */
#define FI_FIRST_CAP 64u      /* nodes of the first index block in the data region */
#define FI_MAX_CAP (UINT32_C(1) << 30)
#define FI_HEADROOM 8u        /* nodes kept free for the adds and takes of a growth */

struct fi_node {
    uint64_t off, size;
    uint32_t prev, next; /* class list links (node numbers, FI_NONE at the ends) */
    uint32_t cls;        /* class, or FI_SPARE */
    uint32_t reserved;
};

/* An index block: this header, then nodes[capnodes] (node 0 unused, so that 0 means "none"),
 * then the two open-addressing maps offset -> node of 2 * capnodes entries each (at most half
 * full by construction): start keys, end keys (u64), start values, end values (u32). */
struct mo_freeidx {
    uint32_t marker;    /* MO_INDEX_MARKER */
    uint32_t reserved0;
    uint64_t footprint; /* bytes of the block */
    uint32_t capnodes, nnodes, spare, reserved1;
    uint64_t blocks;    /* free blocks in the index */
    uint64_t mask;      /* map entries - 1 */
    uint64_t reserved2[2];
};

_Static_assert(sizeof(struct fi_node) == 32, "index node is 32 bytes");
_Static_assert(sizeof(struct mo_freeidx) == 64, "index block header is 64 bytes");

#define FI_HEADER_CAP 32u /* nodes of the index block inside the header */
_Static_assert(sizeof(struct mo_freeidx) + FI_HEADER_CAP * 80u <= 4096u - MO_INDEX_IN_HEADER,
               "the first index block fits in the header");

static inline struct fi_node *nodes(struct mo_freeidx *fi)
{
    return (struct fi_node *)(void *)((uint8_t *)fi + sizeof *fi);
}
static inline uint64_t *skeys(struct mo_freeidx *fi)
{
    return (uint64_t *)(void *)(nodes(fi) + fi->capnodes);
}
static inline uint64_t *ekeys(struct mo_freeidx *fi)
{
    return skeys(fi) + fi->mask + 1;
}
static inline uint32_t *svals(struct mo_freeidx *fi)
{
    return (uint32_t *)(void *)(ekeys(fi) + fi->mask + 1);
}
static inline uint32_t *evals(struct mo_freeidx *fi)
{
    return svals(fi) + fi->mask + 1;
}

static uint64_t fi_footprint(uint32_t cap)
{
    return sizeof(struct mo_freeidx) + (uint64_t)cap * sizeof(struct fi_node) +
           (uint64_t)cap * 2 * (8 + 8 + 4 + 4);
}

/* ---- the offset maps ------------------------------------------------------------------- */

static inline uint64_t map_slot(uint64_t mask, uint64_t key)
{
    return (key * UINT64_C(0x9E3779B97F4A7C15)) >> 17 & mask;
}

static uint32_t map_get(const uint64_t *keys, const uint32_t *vals, uint64_t mask, uint64_t key)
{
    for (uint64_t i = map_slot(mask, key), n = 0; n <= mask; i = (i + 1) & mask, n++) {
        if (keys[i] == key) return vals[i];
        if (!keys[i]) return FI_NONE;
    }
    return FI_NONE;
}

/* The maps are never more than half full (nodes <= capnodes, entries = 2 * capnodes). */
static void map_put(uint64_t *keys, uint32_t *vals, uint64_t mask, uint64_t key, uint32_t val)
{
    uint64_t i = map_slot(mask, key);
    while (keys[i] && keys[i] != key) i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = val;
}

static void map_del(uint64_t *keys, uint32_t *vals, uint64_t mask, uint64_t key)
{
    uint64_t i = map_slot(mask, key);
    for (uint64_t n = 0; keys[i] != key; i = (i + 1) & mask, n++)
        if (!keys[i] || n > mask) return;
    /* backward shift: pull later members of the cluster into the hole when their home allows */
    for (uint64_t j = (i + 1) & mask; keys[j]; j = (j + 1) & mask) {
        uint64_t home = map_slot(mask, keys[j]);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            keys[i] = keys[j];
            vals[i] = vals[j];
            i = j;
        }
    }
    keys[i] = 0;
}

/* ---- nodes and class lists ------------------------------------------------------------- */

static inline void bit_set(mmapobj_map *m, uint32_t c)
{
    m->hdr->index_bits[c >> 6] |= UINT64_C(1) << (c & 63);
}

static inline void bit_clear(mmapobj_map *m, uint32_t c)
{
    m->hdr->index_bits[c >> 6] &= ~(UINT64_C(1) << (c & 63));
}

/* The head of class c's list (a node number, in the header's free-head array while writers have
 * the file open). */
static inline uint32_t head(const mmapobj_map *m, uint32_t c)
{
    return (uint32_t)m->hdr->free_head[c];
}
static inline void set_head(mmapobj_map *m, uint32_t c, uint32_t n)
{
    m->hdr->free_head[c] = n;
}

/* Room for more nodes without growing (the spare list and the untouched tail of the array). */
static inline uint64_t room(const struct mo_freeidx *fi)
{
    return (uint64_t)fi->capnodes - 1 - fi->blocks;
}

static uint32_t node_new(struct mo_freeidx *fi)
{
    if (fi->spare) {
        uint32_t n = fi->spare;
        fi->spare = nodes(fi)[n].next;
        return n;
    }
    if (fi->nnodes >= fi->capnodes) return FI_NONE;
    if (fi->nnodes == 0) fi->nnodes = 1; /* node 0 stays unused */
    return fi->nnodes++;
}

static void list_unlink(mmapobj_map *m, struct mo_freeidx *fi, uint32_t n)
{
    struct fi_node *nd = nodes(fi), *x = &nd[n];
    if (x->prev)
        nd[x->prev].next = x->next;
    else
        set_head(m, x->cls, x->next);
    if (x->next) nd[x->next].prev = x->prev;
    if (!head(m, x->cls)) bit_clear(m, x->cls);
}

/* Removes node n from everything and puts it on the spare list. */
static void node_drop(mmapobj_map *m, struct mo_freeidx *fi, uint32_t n)
{
    struct fi_node *x = &nodes(fi)[n];
    list_unlink(m, fi, n);
    map_del(skeys(fi), svals(fi), fi->mask, x->off);
    map_del(ekeys(fi), evals(fi), fi->mask, x->off + x->size);
    x->cls = FI_SPARE;
    x->next = fi->spare;
    fi->spare = n;
    fi->blocks--;
}

static int node_insert(mmapobj_map *m, struct mo_freeidx *fi, uint64_t off, uint64_t size)
{
    uint32_t n = node_new(fi);
    if (n == FI_NONE) return MMAPOBJ_E_NOMEM;
    map_put(skeys(fi), svals(fi), fi->mask, off, n);
    map_put(ekeys(fi), evals(fi), fi->mask, off + size, n);
    uint32_t c = mo_class_of(size, m->class_count);
    struct fi_node *nd = nodes(fi), *x = &nd[n];
    x->off = off;
    x->size = size;
    x->cls = c;
    x->prev = FI_NONE;
    x->next = head(m, c);
    if (x->next) nd[x->next].prev = n;
    set_head(m, c, n);
    bit_set(m, c);
    fi->blocks++;
    return MMAPOBJ_OK;
}

/* Writes an empty index block of cap nodes at fi. */
static void fi_format(struct mo_freeidx *fi, uint32_t cap)
{
    memset(fi, 0, sizeof *fi);
    fi->marker = MO_INDEX_MARKER;
    fi->capnodes = cap;
    fi->mask = (uint64_t)cap * 2 - 1;
    fi->footprint = fi_footprint(cap);
    memset(skeys(fi), 0, (size_t)(fi->mask + 1) * 8 * 2);
}

/* ---- the bump allocation -------------------------------------------------------------- */

/* Allocates n bytes (multiple of 4) at a multiple of align at alloc_end, growing the file. */
int mo_fi_tail(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out)
{
    struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t start = (ae + align - 1) & ~(align - 1);
    if (__builtin_expect(start + n > m->valid, 0)) {
        int rc = mo_grow(m, start + n);
        if (rc) return rc;
    }
    uint64_t fresh = mo_ld(&h->fresh_end);
    /* bytes below the high-water mark were reachable once: rewritten under an odd seq */
    if (start < fresh) mo_seq_begin(m);
    mo_st(&h->alloc_end, start + n);
    if (start + n > fresh) mo_st(&h->fresh_end, start + n);
    /* gives back the alignment gap: free space if it is big enough, else slack */
    if (start != ae) mo_fi_add(m, ae, start - ae);
    *out = start;
    return MMAPOBJ_OK;
}

/* ---- growth ---------------------------------------------------------------------------- */

/* Moves the index into a block of the data region with twice the nodes: from free space, else
 * from the tail; the old block (unless it is the one in the header) is then freed into the new
 * index. On failure the old index stays (with less room). */
static int fi_grow(mmapobj_map *m)
{
    struct mo_freeidx *old = m->fi;
    uint32_t cap = old->capnodes < FI_FIRST_CAP ? FI_FIRST_CAP : old->capnodes * 2;
    if (old->capnodes >= FI_MAX_CAP) return MMAPOBJ_E_NOMEM;
    uint64_t foot = fi_footprint(cap), noff;
    m->fi_growing = 1;
    int rc = MMAPOBJ_OK;
    if (!mo_fi_take(m, foot, MO_INDEX_ALIGN, &noff)) rc = mo_fi_tail(m, foot, MO_INDEX_ALIGN, &noff);
    m->fi_growing = 0;
    if (rc) return rc;
    old = m->fi; /* the take or the tail's gap changed it, never moved it */
    uint64_t old_off = m->fi_ref, old_foot = old->footprint;
    struct mo_freeidx *fi = (struct mo_freeidx *)(void *)(m->base + noff);
    fi_format(fi, cap);
    fi->nnodes = old->nnodes;
    fi->spare = old->spare;
    fi->blocks = old->blocks;
    /* node numbers stay: the class heads and the bitmap in the header stay right */
    memcpy(nodes(fi), nodes(old), (size_t)old->nnodes * sizeof(struct fi_node));
    struct fi_node *nd = nodes(fi);
    for (uint32_t x = 1; x < fi->nnodes; x++) {
        if (nd[x].cls == FI_SPARE) continue;
        map_put(skeys(fi), svals(fi), fi->mask, nd[x].off, x);
        map_put(ekeys(fi), evals(fi), fi->mask, nd[x].off + nd[x].size, x);
    }
    mo_st(&m->hdr->index_ref, noff);
    m->fi = fi;
    m->fi_ref = noff;
    if (old_off >= MO_HEADER_SIZE) mo_fi_add(m, old_off, old_foot);
    return MMAPOBJ_OK;
}

/* ---- interface ------------------------------------------------------------------------- */

int mo_fi_has_free(const mmapobj_map *m)
{
    return m->fi && m->fi->blocks != 0;
}

/* Returns [off, off+size) to free space, merging it with free neighbours; a block that ends at
 * alloc_end gives its bytes back to the tail instead. Space that cannot be tracked (blocks under
 * 16 bytes, or an index that cannot grow) is counted as slack. Writes nothing into the block. */
void mo_fi_add(mmapobj_map *m, uint64_t off, uint64_t size)
{
    struct mo_header *h = m->hdr;
    if (!size) return;
    if (m->fi && room(m->fi) < FI_HEADROOM && !m->fi_growing) (void)fi_grow(m);
    struct mo_freeidx *fi = m->fi;
    uint64_t ae = mo_ld(&h->alloc_end);
    if (off < MO_HEADER_SIZE || off > ae || size > ae - off) return; /* never trust a bad range */
    /* a block that starts or ends where a free block does overlaps it: those bytes are free
     * already (a damaged table freeing a record twice); refuse rather than index them twice */
    if (fi && (map_get(skeys(fi), svals(fi), fi->mask, off) ||
               map_get(ekeys(fi), evals(fi), fi->mask, off + size)))
        return;
    uint64_t free_bytes = mo_ld(&h->free_bytes) + size;
    uint32_t left = fi ? map_get(ekeys(fi), evals(fi), fi->mask, off) : FI_NONE;
    if (left) {
        off = nodes(fi)[left].off;
        size += nodes(fi)[left].size;
        node_drop(m, fi, left);
    }
    uint32_t right = fi ? map_get(skeys(fi), svals(fi), fi->mask, off + size) : FI_NONE;
    if (right) {
        size += nodes(fi)[right].size;
        node_drop(m, fi, right);
    }
    if (off + size == ae) {
        /* the tail: lower the bump pointer (bytes below fresh_end are reused under seq) */
        mo_st(&h->alloc_end, off);
        free_bytes -= size;
    } else if (size < MO_MIN_BLOCK || !fi || node_insert(m, fi, off, size) != MMAPOBJ_OK) {
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
static uint32_t scan_classes(mmapobj_map *m, struct mo_freeidx *fi, uint32_t lo, uint32_t hi,
                             uint64_t n, uint64_t align, int *budget, uint64_t *start)
{
    struct fi_node *nd = nodes(fi);
    const uint64_t *bits = m->hdr->index_bits;
    for (uint32_t k = lo; k <= hi && k < MO_CLASS_LIMIT && *budget > 0; k++) {
        if (!(bits[k >> 6] >> (k & 63) & 1)) continue;
        for (uint32_t x = head(m, k); x && *budget > 0; x = nd[x].next) {
            (*budget)--;
            if (fits(nd[x].off, nd[x].size, n, align, start)) return x;
            /* an exact-size class holds one size: if its head does not fit, none does */
            if (k < MO_SMALL_CLASSES && align <= 4) break;
        }
    }
    return FI_NONE;
}

/* First non-empty class at or above lo (MO_CLASS_LIMIT if none), through the bitmap. */
static uint32_t first_class_from(const mmapobj_map *m, uint32_t lo)
{
    const uint64_t *bm = m->hdr->index_bits;
    for (uint32_t w = lo >> 6; w < MO_CLASS_LIMIT / 64; w++) {
        uint64_t bits = bm[w];
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
    struct fi_node *nd = nodes(fi);
    uint32_t cc = m->class_count;
    uint64_t want = align > 4 ? n + align - 4 : n;
    uint32_t c = mo_class_of(want, cc);
    /* classes above this one hold only blocks of at least want + 16 bytes: they always fit and
     * leave a remainder big enough to be a free block */
    uint32_t sure = mo_class_of(want + MO_MIN_BLOCK, cc) + 1;
    int budget = FI_SCAN_BUDGET / 4;
    uint64_t start = 0;
    uint32_t found = scan_classes(m, fi, c, c, n, align, &budget, &start);
    if (!found && sure < cc) {
        uint32_t k = first_class_from(m, sure);
        uint32_t x = k < cc ? head(m, k) : FI_NONE;
        if (x && fits(nd[x].off, nd[x].size, n, align, &start)) found = x;
    }
    if (!found) {
        budget = FI_SCAN_BUDGET;
        found = scan_classes(m, fi, c + 1, sure - 1 < cc ? sure - 1 : cc - 1, n, align, &budget,
                             &start);
    }
    if (!found) return 0;
    uint64_t off = nd[found].off, size = nd[found].size;
    node_drop(m, fi, found);
    mo_st(&h->free_bytes, mo_ld(&h->free_bytes) - size);
    mo_seq_begin(m);
    /* the pieces before and after go back (the block was maximal, so they merge with nothing) */
    if (start > off) mo_fi_add(m, off, start - off);
    if (off + size > start + n) mo_fi_add(m, start + n, off + size - start - n);
    *out = start;
    return 1;
}

/* A new, empty index in the header (a new session, or a repair): class heads and bitmap
 * cleared, the block at offset 1088 with 32 nodes; index_ref names it. */
void mo_fi_start(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    memset(h->free_head, 0, sizeof h->free_head);
    memset(h->index_bits, 0, sizeof h->index_bits);
    memset(h->index_first, 0, sizeof h->index_first);
    struct mo_freeidx *fi = (struct mo_freeidx *)(void *)(m->base + MO_INDEX_IN_HEADER);
    fi_format(fi, FI_HEADER_CAP);
    mo_st(&h->index_ref, MO_INDEX_IN_HEADER);
    m->fi = fi;
    m->fi_ref = MO_INDEX_IN_HEADER;
}

/* Checks the index block at ref of a region of `size` mapped bytes: its footprint (for the one
 * in the header too), or 0 when there is no well-formed index block there. */
static uint64_t block_check(const uint8_t *base, uint64_t size, uint64_t ref)
{
    int in_header = ref == MO_INDEX_IN_HEADER;
    if (!in_header && (ref < MO_HEADER_SIZE || ref % MO_INDEX_ALIGN || ref > size ||
                       size - ref < sizeof(struct mo_freeidx)))
        return 0;
    struct mo_freeidx fi;
    memcpy(&fi, base + ref, sizeof fi);
    if (fi.marker != MO_INDEX_MARKER || fi.capnodes < FI_HEADER_CAP ||
        fi.capnodes > FI_MAX_CAP || (fi.capnodes & (fi.capnodes - 1)) ||
        fi.footprint != fi_footprint(fi.capnodes) || fi.mask != (uint64_t)fi.capnodes * 2 - 1 ||
        fi.nnodes > fi.capnodes || fi.blocks >= fi.capnodes)
        return 0;
    if (in_header ? fi.capnodes != FI_HEADER_CAP : fi.footprint > size - ref) return 0;
    return fi.footprint;
}

/* Points m->fi at the index block named by index_ref (another writer may have moved it):
 * OK, or E_CORRUPT when it is not a well-formed index block inside the mapping. */
int mo_fi_attach(mmapobj_map *m)
{
    uint64_t ref = mo_ld(&m->hdr->index_ref);
    m->fi = NULL;
    m->fi_ref = 0;
    if (!block_check(m->base, m->valid, ref)) return MMAPOBJ_E_CORRUPT;
    m->fi = (struct mo_freeidx *)(void *)(m->base + ref);
    m->fi_ref = ref;
    return MMAPOBJ_OK;
}

void mo_fi_detach(mmapobj_map *m)
{
    m->fi = NULL;
    m->fi_ref = 0;
}

uint64_t mo_fi_block_size(const uint8_t *base, uint64_t size, uint64_t ref)
{
    if (ref == MO_INDEX_IN_HEADER) return 0;
    return block_check(base, size, ref);
}

/* Calls fn for every free block of the index (verify); stops at the first non-zero result. */
int mo_fi_each(mmapobj_map *m, int (*fn)(void *ctx, uint64_t off, uint64_t size), void *ctx)
{
    struct mo_freeidx *fi = m->fi;
    if (!fi) return 0;
    struct fi_node *nd = nodes(fi);
    for (uint32_t x = 1; x < fi->nnodes; x++) {
        if (nd[x].cls == FI_SPARE) continue;
        int rc = fn(ctx, nd[x].off, nd[x].size);
        if (rc) return rc;
    }
    return 0;
}

/* First writer of a session: the file's free lists (a clean file: DIRTY was clear) into a new
 * index, feeding the header of every listed block to the state checksum hs (NULL: none) in list
 * order. Every block is checked: in [8192, alloc_end), its marker, size and class, not over the
 * table block [toff, toff + tsize), not starting or ending where a block loaded before it does;
 * the number of blocks is capped by what alloc_end can hold (so a cycle ends). Returns E_CORRUPT
 * if a list is damaged (the caller then rebuilds free space from the gaps with mo_repair). */
int mo_fi_load(mmapobj_map *m, mo_hstream *hs, uint64_t toff, uint64_t tsize)
{
    struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t max_steps = (ae - MO_HEADER_SIZE) / MO_MIN_BLOCK + 1, steps = 0;
    uint64_t heads[MO_CLASS_LIMIT];
    memcpy(heads, h->free_head, sizeof heads); /* the index keeps its heads in the header's array */
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++)
        if (heads[c] && c >= m->class_count) return MMAPOBJ_E_CORRUPT;
    /* mo_fi_add keeps free_bytes; recount it from what the lists really hold */
    mo_st(&h->free_bytes, 0);
    mo_fi_start(m);
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t off = heads[c];
        while (off) {
            if (++steps > max_steps) return MMAPOBJ_E_CORRUPT;
            uint64_t size, next, word;
            if (mo_free_block_read(m->base, off, ae, &size, &next, &word) ||
                mo_class_of(size, m->class_count) != c)
                return MMAPOBJ_E_CORRUPT;
            if (off < toff + tsize && toff < off + size) return MMAPOBJ_E_CORRUPT; /* the table */
            /* two listed blocks that overlap would be a damaged file */
            struct mo_freeidx *fi = m->fi;
            if (map_get(skeys(fi), svals(fi), fi->mask, off) ||
                map_get(ekeys(fi), evals(fi), fi->mask, off + size))
                return MMAPOBJ_E_CORRUPT;
            uint64_t bytes[2] = {word, next};
            mo_hstream_add(hs, bytes, sizeof bytes);
            mo_fi_add(m, off, size);
            off = next;
        }
    }
    return MMAPOBJ_OK;
}

/* Feeds the header of every block of the file's free lists to hs, classes in order, each list
 * from its head: the lists as mo_fi_close wrote them (the bound on the steps only guards against
 * a damaged file). */
void mo_fi_hash(const mmapobj_map *m, mo_hstream *hs)
{
    const struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t max_steps = (ae - MO_HEADER_SIZE) / MO_MIN_BLOCK + 1, steps = 0;
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t off = h->free_head[c];
        while (off && ++steps <= max_steps) {
            uint64_t size, next, word;
            if (mo_free_block_read(m->base, off, ae, &size, &next, &word)) break;
            uint64_t bytes[2] = {word, next};
            mo_hstream_add(hs, bytes, sizeof bytes);
            off = next;
        }
    }
}

/* Writes the index into the file's free lists (block headers, heads as offsets), under an odd
 * seq: the blocks may still be read through stale offsets by readers. The index is gone after
 * this (its class heads are overwritten). */
static void persist(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    struct mo_freeidx *fi = m->fi;
    uint64_t heads[MO_CLASS_LIMIT];
    mo_seq_begin(m);
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) {
        uint64_t prev_off = 0;
        if (fi) {
            struct fi_node *nd = nodes(fi);
            /* keep the index's order: write the list back to front so heads match */
            uint32_t last = FI_NONE;
            for (uint32_t x = head(m, c); x; x = nd[x].next) last = x;
            for (uint32_t x = last; x; x = nd[x].prev) {
                uint64_t w = (nd[x].size << 8) | MO_FREE_MARKER;
                memcpy(m->base + nd[x].off, &w, 8);
                memcpy(m->base + nd[x].off + 8, &prev_off, 8);
                prev_off = nd[x].off;
            }
        }
        heads[c] = prev_off;
    }
    memcpy(h->free_head, heads, sizeof heads);
}

/* Last writer of a session: the free lists into the file, and the index freed (a block of the
 * data region merged with its free neighbours, or given back to the tail; the one in the header
 * zeroed); index_ref becomes 0. Under an odd seq, which the caller ends. */
void mo_fi_close(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    struct mo_freeidx *fi = m->fi;
    uint64_t off = m->fi_ref, size = 0, neigh = 0;
    if (fi && off >= MO_HEADER_SIZE) {
        size = fi->footprint;
        uint32_t left = map_get(ekeys(fi), evals(fi), fi->mask, off);
        if (left) {
            off = nodes(fi)[left].off;
            size += nodes(fi)[left].size;
            neigh += nodes(fi)[left].size;
            node_drop(m, fi, left);
        }
        uint32_t right = map_get(skeys(fi), svals(fi), fi->mask, off + size);
        if (right) {
            size += nodes(fi)[right].size;
            neigh += nodes(fi)[right].size;
            node_drop(m, fi, right);
        }
    }
    persist(m);
    if (size) {
        uint64_t fb = mo_ld(&h->free_bytes) - neigh;
        if (off + size == mo_ld(&h->alloc_end)) {
            mo_st(&h->alloc_end, off);
        } else {
            uint32_t c = mo_class_of(size, m->class_count);
            uint64_t w = (size << 8) | MO_FREE_MARKER, next = h->free_head[c];
            memcpy(m->base + off, &w, 8);
            memcpy(m->base + off + 8, &next, 8);
            h->free_head[c] = off;
            fb += size;
        }
        mo_st(&h->free_bytes, fb);
    }
    memset(h->index_bits, 0, sizeof h->index_bits);
    memset(h->index_first, 0, sizeof h->index_first);
    mo_st(&h->index_ref, 0);
    mo_fi_detach(m);
}
