/* hash.c - seeded XXH3 for the modules off the hot path (iteration, verify, repair) and the
 * header checksum. */
#include "hash.h"
#include "hash_inline.h"

uint64_t mo_hash(uint64_t seed, const void *key, size_t len)
{
    return mo_hash_inline(seed, key, len);
}

uint64_t mo_header_checksum(const void *p)
{
    return XXH3_64bits(p, 56);
}
