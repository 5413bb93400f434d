/* repair.c - the repair walk at writer open of a DIRTY file (a writer died) or of a clean file
 * whose writer state does not check out (docs/FORMAT.md, "Trust rule" and "Crash recovery"), and
 * by a writer that took the write lock over from a holder that died: recount the table,
 * recompute alloc_end from the blocks it reaches, rebuild the free space (a new writers' index)
 * from the gaps between live blocks. Nothing the header says about the data region is used. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "freeidx.h"
#include "mapping.h"
#include "repair.h"
#include "seqlock.h"
#include "walk.h"

int mo_repair(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    struct mo_walk w;
    memset(&w, 0, sizeof w);
    /* blocks may lie anywhere in the file (a damaged alloc_end proves nothing) */
    uint64_t limit = mo_ld(&h->file_size);
    if (limit > m->valid) limit = m->valid;
    int rc = mo_walk_collect(m, &w, limit, 0, 0);
    if (rc == MMAPOBJ_OK) rc = mo_walk_check_overlap(&w, limit);
    if (rc) {
        rc = mo_err(m, rc, "cannot repair the file (a writer died, or its writer state does not "
                    "check out): %s", w.msg);
        goto out;
    }
    /* sorted by mo_walk_check_overlap (the table is always there): the last block ends highest */
    uint64_t ae = w.nblocks ? w.blocks[w.nblocks - 1].off + w.blocks[w.nblocks - 1].size
                            : MO_HEADER_SIZE;
    mo_seq_begin(m);
    mo_fi_start(m); /* a new index, in the header: no allocation can fail here */
    mo_st(&h->free_bytes, 0);
    mo_st(&h->slack_bytes, 0);
    /* everything past the last live block goes back to the tail; the gaps below it (an old
     * index block of the writers among them) become free space */
    mo_st(&h->alloc_end, ae);
    uint64_t end = MO_HEADER_SIZE;
    for (size_t i = 0; i < w.nblocks; i++) {
        /* a gap: free space, or slack if under 16 bytes */
        if (w.blocks[i].off > end) mo_fi_add(m, end, w.blocks[i].off - end);
        end = w.blocks[i].off + w.blocks[i].size;
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

int mo_recover(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    /* whoever dies during the repair leaves the mark for the next holder */
    h->state_flags |= MO_FLAG_REPAIR;
    uint64_t s = mo_ld(&h->seq);
    if (s & 1) mo_st_rel(&h->seq, s + 1);
    m->seq_odd = 0;
    /* a growth cut short: the file is longer than file_size */
    struct mo_pf_stat st;
    if (mo_pf_stat(m->file, &st) == 0 && st.size > mo_ld(&h->file_size) &&
        st.size <= mo_ld(&h->max_file_size)) {
        int rc = mo_map_follow(m, st.size);
        if (rc) return rc;
        mo_st_rel(&h->file_size, st.size);
    }
    int rc = mo_repair(m);
    if (rc == MMAPOBJ_OK) h->state_flags &= ~MO_FLAG_REPAIR;
    return rc;
}
