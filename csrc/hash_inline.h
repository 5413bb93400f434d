/* hash_inline.h - the key hash compiled into the caller (the lookup and write paths of table.c).
 * The same function as mo_hash (hash.c): seeded XXH3-64 from the system's xxhash.h. */
#ifndef MMAPOBJ_HASH_INLINE_H
#define MMAPOBJ_HASH_INLINE_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t mo_hash_inline(uint64_t seed, const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, seed);
}

#endif
