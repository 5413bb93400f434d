/* verify.c - mmapobj_verify: the full walk (walk.c) of every slot, record and free block, then
 * every count and the space accounting; the first inconsistency is reported with its offset. A
 * reader verifies inside a seqlock read section and tries again when the writer moved. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "freeidx.h"
#include "mapping.h"
#include "seqlock.h"
#include "walk.h"
#include "wlock.h"

#define MO_VERIFY_TRIES 8

/* A free block of the writers' index, checked and added to the walk. */
static int index_block(void *ctx, uint64_t off, uint64_t size)
{
    struct mo_walk *w = ctx;
    if (off < MO_HEADER_SIZE || off % 4 || size < MO_MIN_BLOCK || size % 4) {
        snprintf(w->msg, sizeof w->msg, "the writers' index of free space holds a bad block "
                 "(offset %llu, %llu bytes)", (unsigned long long)off, (unsigned long long)size);
        return MMAPOBJ_E_CORRUPT;
    }
    w->free_bytes += size;
    return mo_walk_add(w, off, size, MO_BLK_FREE);
}

static int verify_once(mmapobj_map *m, char *msg, size_t cap)
{
    struct mo_header *h = m->hdr;
    struct mo_walk w;
    memset(&w, 0, sizeof w);
    int rc;
    uint64_t fs = mo_ld_acq(&h->file_size);
    uint64_t ae = mo_ld(&h->alloc_end);
    if (fs < MO_HEADER_SIZE || fs > m->valid) {
        snprintf(w.msg, sizeof w.msg, "file_size %llu (header offset 80) is outside [8192, %llu]",
                 (unsigned long long)fs, (unsigned long long)m->valid);
        rc = MMAPOBJ_E_CORRUPT;
        goto out;
    }
    if (ae < MO_HEADER_SIZE || ae > fs) {
        snprintf(w.msg, sizeof w.msg, "alloc_end %llu (header offset 144) is outside [8192, "
                 "file_size %llu]", (unsigned long long)ae, (unsigned long long)fs);
        rc = MMAPOBJ_E_CORRUPT;
        goto out;
    }
    /* The file's free lists are written at a writer's close (freeidx.c): while a writer has
     * the file (DIRTY), a reader checks only that the gaps match free_bytes + slack_bytes. */
    int dirty = (h->state_flags & MO_FLAG_DIRTY) != 0;
    /* a writer holding the lock checks the writers' index of free space; anyone checks the
     * file's free lists of a file at rest */
    int index = mo_stable(m) && m->fi, lists = !dirty;
    rc = mo_walk_collect(m, &w, ae, lists, 1);
    if (rc) goto out;
    if (index) {
        rc = mo_fi_each(m, index_block, &w);
        if (rc) goto out;
        lists = 1;
    }
    /* while writers have the file open, their index of free space is a block of its own */
    uint64_t iref = mo_ld(&h->index_ref), ibytes = 0;
    if (dirty && iref) {
        ibytes = mo_fi_block_size(m->base, m->valid, iref);
        if (!ibytes && mo_stable(m) && iref != MO_INDEX_IN_HEADER) {
            snprintf(w.msg, sizeof w.msg, "index_ref %llu (header offset 200) names no index "
                     "block", (unsigned long long)iref);
            rc = MMAPOBJ_E_CORRUPT;
            goto out;
        }
        if (ibytes) rc = mo_walk_add(&w, iref, ibytes, MO_BLK_INDEX);
        if (rc) goto out;
    }
    rc = mo_walk_check_overlap(&w, ae);
    if (rc) goto out;
    rc = MMAPOBJ_E_CORRUPT;
    uint64_t gaps = (ae - MO_HEADER_SIZE) - w.record_bytes - w.table_bytes - w.free_bytes - ibytes;
    if (mo_ld(&h->count) != w.live) {
        snprintf(w.msg, sizeof w.msg, "count %llu (header offset 128) but the table holds %llu keys",
                 (unsigned long long)mo_ld(&h->count), (unsigned long long)w.live);
        goto out;
    }
    if (mo_ld(&h->tombstones) != w.tombs) {
        snprintf(w.msg, sizeof w.msg, "tombstones %llu (header offset 136) but the table has %llu",
                 (unsigned long long)mo_ld(&h->tombstones), (unsigned long long)w.tombs);
        goto out;
    }
    if (mo_ld(&h->count_string) != w.kinds[1] || mo_ld(&h->count_number) != w.kinds[2] ||
        mo_ld(&h->count_bytes) != w.kinds[3]) {
        snprintf(w.msg, sizeof w.msg, "per-kind counts %llu/%llu/%llu (header offsets 168..191) "
                 "but the table holds %llu/%llu/%llu", (unsigned long long)mo_ld(&h->count_string),
                 (unsigned long long)mo_ld(&h->count_number),
                 (unsigned long long)mo_ld(&h->count_bytes), (unsigned long long)w.kinds[1],
                 (unsigned long long)w.kinds[2], (unsigned long long)w.kinds[3]);
        goto out;
    }
    if (!lists) {
        uint64_t fb = mo_ld(&h->free_bytes), sb = mo_ld(&h->slack_bytes);
        if (fb + sb != gaps) {
            snprintf(w.msg, sizeof w.msg, "free_bytes %llu + slack_bytes %llu (header offsets "
                     "152, 160) but %llu bytes of [8192, alloc_end) are in no record or table",
                     (unsigned long long)fb, (unsigned long long)sb, (unsigned long long)gaps);
            goto out;
        }
        rc = MMAPOBJ_OK;
        goto out;
    }
    if (mo_ld(&h->free_bytes) != w.free_bytes) {
        snprintf(w.msg, sizeof w.msg, "free_bytes %llu (header offset 152) but the free lists "
                 "hold %llu", (unsigned long long)mo_ld(&h->free_bytes),
                 (unsigned long long)w.free_bytes);
        goto out;
    }
    if (mo_ld(&h->slack_bytes) != gaps) {
        snprintf(w.msg, sizeof w.msg, "slack_bytes %llu (header offset 160) but %llu bytes of "
                 "[8192, alloc_end) are in no block", (unsigned long long)mo_ld(&h->slack_bytes),
                 (unsigned long long)gaps);
        goto out;
    }
    rc = MMAPOBJ_OK;
out:
    if (rc) snprintf(msg, cap, "%s", w.msg);
    mo_walk_free(&w);
    return rc;
}

MMAPOBJ_API int mmapobj_verify(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    char msg[MO_ERRMSG_CAP - 64];
    int rc = MMAPOBJ_OK;
    if (m->writable) {
        rc = mo_wlock_acquire(m);
        if (rc) return rc;
        rc = verify_once(m, msg, sizeof msg);
        mo_wlock_release(m);
    } else {
        for (int t = 0; t < MO_VERIFY_TRIES; t++) {
            int r2 = mo_reader_remap(m);
            if (r2 != MMAPOBJ_OK && r2 != MMAPOBJ_NOTFOUND) return r2;
            uint64_t s1;
            r2 = mo_seq_read_begin(m, &s1);
            if (r2) return r2;
            rc = verify_once(m, msg, sizeof msg);
            int moved = mo_seq_read_retry(m, s1);
            if (rc == MMAPOBJ_OK || (!moved && !mo_pf_writer_alive(m->file))) break;
        }
    }
    if (rc) return mo_err(m, rc, "verify: %s", msg);
    return MMAPOBJ_OK;
}
