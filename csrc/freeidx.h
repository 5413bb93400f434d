/* freeidx.h - the writers' index of free space (freeidx.c): in the file while writers have it
 * open, shared by all of them under the write lock; loaded from the file's free lists by the first
 * writer of a session, written back by the last. And the bump allocation. */
#ifndef MMAPOBJ_FREEIDX_H
#define MMAPOBJ_FREEIDX_H

#include "hash.h"
#include "internal.h"

int mo_fi_has_free(const mmapobj_map *m);
/* Returns [off, off+size) to free space (merged with free neighbours; the tail lowers
 * alloc_end; under 16 bytes it is slack). Writes nothing into the block. */
void mo_fi_add(mmapobj_map *m, uint64_t off, uint64_t size);
/* Takes n bytes at a multiple of align from free space: 1 with *out set (seq made odd), or 0. */
int mo_fi_take(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out);
/* Takes n bytes at a multiple of align at alloc_end (growing the file): OK or an error. */
int mo_fi_tail(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out);
/* A new, empty index (in the header); index_ref names it. */
void mo_fi_start(mmapobj_map *m);
/* m->fi from index_ref: OK, or E_CORRUPT when no index block is there. */
int mo_fi_attach(mmapobj_map *m);
void mo_fi_detach(mmapobj_map *m);
/* Footprint of a well-formed index block of the data region at ref (0: none there), for verify. */
uint64_t mo_fi_block_size(const uint8_t *base, uint64_t size, uint64_t ref);
/* Calls fn(ctx, off, size) for every free block of the index; stops at a non-zero result. */
int mo_fi_each(mmapobj_map *m, int (*fn)(void *ctx, uint64_t off, uint64_t size), void *ctx);
/* First writer: loads the file's free lists (a clean file) into a new index, feeding every listed
 * block header to hs (NULL: none), each block checked (bounds, marker, size, class, not over the
 * table [toff, toff + tsize), no same start or end as another): OK, or E_CORRUPT when a list is
 * damaged. */
int mo_fi_load(mmapobj_map *m, mo_hstream *hs, uint64_t toff, uint64_t tsize);
/* Feeds the header of every block of the file's free lists to hs, in list order (the lists as
 * the last writer wrote them at its close). */
void mo_fi_hash(const mmapobj_map *m, mo_hstream *hs);
/* Last writer: writes the free lists into the file and frees the index (index_ref = 0), under an
 * odd seq. */
void mo_fi_close(mmapobj_map *m);

#endif
