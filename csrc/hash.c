/* hash.c - seeded XXH3 for the modules off the hot path (iteration, verify, repair) and the
 * header checksum. */
#include <stdlib.h>
#include <string.h>

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

/* Small pieces are gathered first: one XXH3 update per 4 KiB. */
struct mo_hstream {
    XXH3_state_t *st;
    size_t n;
    unsigned char buf[4096];
};

mo_hstream *mo_hstream_new(void)
{
    mo_hstream *s = malloc(sizeof *s);
    if (!s) return NULL;
    s->st = XXH3_createState();
    if (!s->st) {
        free(s);
        return NULL;
    }
    XXH3_64bits_reset(s->st);
    s->n = 0;
    return s;
}

void mo_hstream_add(mo_hstream *s, const void *p, size_t n)
{
    if (!s) return;
    if (s->n + n > sizeof s->buf) {
        XXH3_64bits_update(s->st, s->buf, s->n);
        s->n = 0;
    }
    if (n > sizeof s->buf) {
        XXH3_64bits_update(s->st, p, n);
        return;
    }
    memcpy(s->buf + s->n, p, n);
    s->n += n;
}

uint64_t mo_hstream_end(mo_hstream *s)
{
    if (!s) return 0;
    XXH3_64bits_update(s->st, s->buf, s->n);
    uint64_t d = XXH3_64bits_digest(s->st);
    XXH3_freeState(s->st);
    free(s);
    return d;
}
