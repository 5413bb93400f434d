/* alloc.h - the in-file space allocator: free space first, then the bump pointer alloc_end with
 * geometric file growth. */
#ifndef MMAPOBJ_ALLOC_H
#define MMAPOBJ_ALLOC_H

#include "internal.h"

/* Allocates n bytes (multiple of 4, >= 16) at a multiple of align (4 or 64). Bytes that were
 * ever reachable are handed out under an odd seq, which the caller ends (mo_seq_end). */
int mo_alloc(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *off);
/* Frees [off, off+size) (a record or an old table). */
void mo_free_block(mmapobj_map *m, uint64_t off, uint64_t size);

#endif
