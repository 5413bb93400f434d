/* mapping.h - a handle's view of its file: a reservation of address space at a fixed base
 * (sized by max_file_size), the file mapped at its start, extended in place as the file grows. */
#ifndef MMAPOBJ_MAPPING_H
#define MMAPOBJ_MAPPING_H

#include "internal.h"

/* Reserves address space for `reserve` bytes (a reader falls back to `minimum`) and maps the
 * first `size` bytes of m->file at its start; sets base, hdr, reserve, mapped, valid. */
int mo_map_setup(mmapobj_map *m, uint64_t size, uint64_t reserve, uint64_t minimum);
/* Releases the reservation and every mapping in it. */
void mo_map_release(mmapobj_map *m);
/* Reader slow path: the file may have grown; extends the mapping to its real size. OK if the
 * mapping grew, MMAPOBJ_NOTFOUND if it did not, or an error. */
int mo_reader_remap(mmapobj_map *m);
/* Extends the mapping to cover `size` bytes of the file (another writer grew it). */
int mo_map_follow(mmapobj_map *m, uint64_t size);
/* Writer: grows the file so that [0, need_end) exists (doubling, up to max_file_size). */
int mo_grow(mmapobj_map *m, uint64_t need_end);
/* Writer: the mapping and the file made durable (msync + fsync). */
int mo_map_flush(mmapobj_map *m);

#endif
