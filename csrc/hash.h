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

/* Streaming XXH3-64 (seed 0) of a byte string fed in pieces (the state checksum, trust.c).
 * NULL when out of memory; mo_hstream_add(NULL, ...) does nothing, mo_hstream_end(NULL) is 0. */
typedef struct mo_hstream mo_hstream;
mo_hstream *mo_hstream_new(void);
void mo_hstream_add(mo_hstream *s, const void *p, size_t n);
/* The digest of everything added; frees s. */
uint64_t mo_hstream_end(mo_hstream *s);

#endif
