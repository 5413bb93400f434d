/* header.h - the 8192-byte header: initialisation of a new one, and the checks of a file's
 * (magic -> version -> checksum -> sizes/layout -> table reference -> table block). */
#ifndef MMAPOBJ_HEADER_H
#define MMAPOBJ_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

void mo_header_init(struct mo_header *h, uint64_t seed, uint64_t file_size, uint64_t max_size,
                    uint64_t table_off, uint32_t log2);
/* Checks the header at p (a private copy or the mapping) of a file of real_size bytes
 * (real_size >= 8192 is the caller's). On failure writes the detail into msg. */
int mo_header_check(const uint8_t *p, uint64_t real_size, char *msg, size_t cap);
/* Checks the table block the header at p (mapping at least `size` bytes) points to. */
int mo_table_marker_check(const uint8_t *p, uint64_t size, char *msg, size_t cap);

#endif
