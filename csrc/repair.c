/* repair.c - crash repair at writer open of a DIRTY file: recount the table, rebuild the free
 * lists from the gaps between live blocks (per docs/FORMAT.md, "Crash recovery"). */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "freeidx.h"
#include "repair.h"
#include "seqlock.h"
#include "walk.h"

int mo_repair(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    struct mo_walk w;
    memset(&w, 0, sizeof w);
    uint64_t ae = mo_ld(&h->alloc_end);
    int rc = mo_walk_collect(m, &w, ae, 0, 0);
    if (rc == MMAPOBJ_OK) rc = mo_walk_check_overlap(&w, ae);
    if (rc) {
        rc = mo_err(m, rc, "cannot repair the file left by a writer that died: %s", w.msg);
        goto out;
    }
    mo_seq_begin(m);
    for (uint32_t c = 0; c < MO_CLASS_LIMIT; c++) h->free_head[c] = 0;
    mo_fi_reset(m);
    mo_st(&h->free_bytes, 0);
    mo_st(&h->slack_bytes, 0);
    uint64_t end = MO_HEADER_SIZE;
    for (size_t i = 0; i <= w.nblocks; i++) {
        uint64_t next = i < w.nblocks ? w.blocks[i].off : ae;
        if (next > end) {
            /* a gap: free space, or slack if under 16 bytes; keep free blocks 4-aligned */
            mo_fi_add(m, end, next - end);
        }
        if (i < w.nblocks) end = w.blocks[i].off + w.blocks[i].size;
    }
    mo_st(&h->count, w.live);
    mo_st(&h->tombstones, w.tombs);
    mo_st(&h->count_string, w.kinds[MMAPOBJ_KIND_STRING]);
    mo_st(&h->count_number, w.kinds[MMAPOBJ_KIND_NUMBER]);
    mo_st(&h->count_bytes, w.kinds[MMAPOBJ_KIND_BYTES]);
    mo_seq_end(m);
out:
    mo_walk_free(&w);
    return rc;
}
