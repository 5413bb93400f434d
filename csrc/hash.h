/* hash.h - the key hash (XXH3-64 with the file's seed) and the header checksum. Hot paths inline
 * the hash: mo_hash_inline is XXH3 itself, compiled into the caller (hash_inline.h pulls in
 * xxhash.h with XXH_INLINE_ALL); mo_hash is the same function behind one call. */
#ifndef MMAPOBJ_HASH_H
#define MMAPOBJ_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t mo_hash(uint64_t seed, const void *key, size_t len);
/* XXH3-64 of the first 56 bytes of the header (docs/FORMAT.md, header_checksum). */
uint64_t mo_header_checksum(const void *p);

#endif
