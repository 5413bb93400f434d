/* alloc.c - the in-file space allocator: free space first, then the bump pointer alloc_end with
 * geometric file growth (both in freeidx.c). */
#include "alloc.h"
#include "freeidx.h"

/* Frees [off, off+size): free space is tracked by the writers' index (freeidx.c), which merges
 * it with free neighbours and writes nothing into it until it is reused. */
void mo_free_block(mmapobj_map *m, uint64_t off, uint64_t size)
{
    mo_fi_add(m, off, size);
}

/* Allocates n bytes (multiple of 4, >= 16) at a multiple of align (4 or 64): from free space
 * first, else at the bump pointer (growing the file). Bytes that were ever reachable (free
 * space, or the tail below the high-water mark fresh_end) are rewritten under an odd seq,
 * which the caller ends. */
int mo_alloc(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out)
{
    if (mo_fi_take(m, n, align, out)) return MMAPOBJ_OK;
    return mo_fi_tail(m, n, align, out);
}
