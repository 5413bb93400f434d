/* file.h - what file.c offers the library's other entry points besides the public API. */
#ifndef MMAPOBJ_FILE_H
#define MMAPOBJ_FILE_H

#include "internal.h"

/* mmapobj_create of a file that must not exist: E_INVAL ("exists") when path does, never
 * opening an existing file. */
int mo_create_new_file(const char *path, uint64_t initial_size, uint64_t initial_buckets,
                        uint64_t max_size, mmapobj_map **out);

#endif
