/* freeidx.h - the writer's private index of free space (freeidx.c): loaded from the file's free
 * lists at a clean writer open, written back at close. */
#ifndef MMAPOBJ_FREEIDX_H
#define MMAPOBJ_FREEIDX_H

#include "hash.h"
#include "internal.h"

int mo_fi_init(mmapobj_map *m);
void mo_fi_reset(mmapobj_map *m);
void mo_fi_destroy(mmapobj_map *m);
int mo_fi_has_free(const mmapobj_map *m);
/* Returns [off, off+size) to free space (merged with free neighbours; the tail lowers
 * alloc_end; under 16 bytes it is slack). Writes nothing into the block. */
void mo_fi_add(mmapobj_map *m, uint64_t off, uint64_t size);
/* Takes n bytes at a multiple of align from free space: 1 with *out set (seq made odd), or 0. */
int mo_fi_take(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out);
/* Loads the file's free lists (a clean file), feeding every listed block header to hs (NULL:
 * none), each block checked (bounds, marker, size, class, not over the table [toff, toff +
 * tsize), no same start or end as another): OK, or E_CORRUPT when a list is damaged. */
int mo_fi_load(mmapobj_map *m, mo_hstream *hs, uint64_t toff, uint64_t tsize);
/* Feeds the header of every free block to hs in the order mo_fi_persist writes the lists. */
void mo_fi_hash(const mmapobj_map *m, mo_hstream *hs);
/* Writes the index into the file's free lists (under an odd seq). */
void mo_fi_persist(mmapobj_map *m);

#endif
