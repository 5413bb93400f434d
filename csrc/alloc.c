/* alloc.c - the in-file space allocator: free space first (freeidx.c), then the bump pointer
 * alloc_end with geometric file growth (mapping.c). */
#include "alloc.h"
#include "freeidx.h"
#include "mapping.h"
#include "seqlock.h"

/* Frees [off, off+size): free space is tracked by the writer's private index (freeidx.c), which
 * merges it with free neighbours and writes nothing into it until it is reused. */
void mo_free_block(mmapobj_map *m, uint64_t off, uint64_t size)
{
    mo_fi_add(m, off, size);
}

/* Allocates n bytes (multiple of 4, >= 16) at a multiple of align (4 or 64): from free space
 * first, else at the bump pointer (growing the file). Bytes that were ever reachable (free
 * space, or the tail below the high-water mark fresh_from) are rewritten under an odd seq,
 * which the caller ends. */
int mo_alloc(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out)
{
    struct mo_header *h = m->hdr;
    if (mo_fi_take(m, n, align, out)) return MMAPOBJ_OK;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t start = (ae + align - 1) & ~(align - 1);
    if (__builtin_expect(start + n > m->valid, 0)) {
        int rc = mo_grow(m, start + n);
        if (rc) return rc;
    }
    if (start < m->fresh_from) mo_seq_begin(m);
    mo_st(&h->alloc_end, start + n);
    if (start + n > m->fresh_from) m->fresh_from = start + n;
    /* gives back the alignment gap: free space if it is big enough, else slack */
    if (start != ae) mo_fi_add(m, ae, start - ae);
    *out = start;
    return MMAPOBJ_OK;
}
