/* trust.c - what a writer trusts in a cleanly closed file (docs/FORMAT.md, "Trust rule").
 *
 * A writer acts on header fields that a reader never needs: the counters and the space
 * accounting (128..191), alloc_end, the free lists. At a clean close it stores state_checksum,
 * XXH3 of table_ref, bytes 128..191, the 512 free-list heads and the 16-byte header of every
 * listed free block in list order. The next writer checks alloc_end against the table and the
 * file in O(1), loads the lists (each block checked) while it recomputes the checksum, and runs
 * the full repair walk when anything does not add up, or when the file has no checksum (0:
 * written before it existed), as after a crash. */
#include "trust.h"
#include "freeidx.h"
#include "hash.h"

/* A stream over the header parts of the state checksum (NULL when out of memory). */
static mo_hstream *state_begin(const struct mo_header *h)
{
    const unsigned char *p = (const unsigned char *)h;
    mo_hstream *s = mo_hstream_new();
    mo_hstream_add(s, p + offsetof(struct mo_header, table_ref), 8);
    mo_hstream_add(s, p + offsetof(struct mo_header, count), 64); /* bytes 128..191 */
    mo_hstream_add(s, p + offsetof(struct mo_header, free_head), sizeof h->free_head);
    return s;
}

void mo_trust_seal(mmapobj_map *m)
{
    /* out of memory stores 0: the next writer then repairs */
    mo_hstream *s = state_begin(m->hdr);
    if (s) mo_fi_hash(m, s);
    m->hdr->state_checksum = mo_hstream_end(s);
}

int mo_trust_clean(mmapobj_map *m, uint64_t stored)
{
    struct mo_header *h = m->hdr;
    if (stored == 0) return 0;
    uint64_t toff;
    uint32_t lg;
    if (mo_tref_decode(mo_ld(&h->table_ref), m->valid, &toff, &lg) != MMAPOBJ_OK) return 0;
    uint64_t tsize = mo_table_footprint(lg);
    uint64_t ae = mo_ld(&h->alloc_end), fs = mo_ld(&h->file_size);
    if (ae < toff + tsize || ae > fs || fs > m->valid) return 0;
    mo_hstream *s = state_begin(h); /* before the load recounts free_bytes */
    if (!s) return 0;
    int ok = mo_fi_load(m, s, toff, tsize) == MMAPOBJ_OK;
    uint64_t d = mo_hstream_end(s);
    return ok && d == stored;
}
