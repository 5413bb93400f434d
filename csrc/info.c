/* info.c - the handle's queries: path, writable, count, stats; flush (durability); and the
 * writer state of a file by its path. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "header.h"
#include "mapping.h"
#include "seqlock.h"

MMAPOBJ_API int mmapobj_flush(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!m->writable) return MMAPOBJ_OK;
    return mo_map_flush(m);
}

MMAPOBJ_API const char *mmapobj_path(const mmapobj_map *m)
{
    return mo_is_map(m) ? m->path : NULL;
}

MMAPOBJ_API int mmapobj_is_writable(const mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    return m->writable ? 1 : 0;
}

MMAPOBJ_API int64_t mmapobj_count(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    return (int64_t)mo_ld(&m->hdr->count);
}

MMAPOBJ_API int mmapobj_stat(mmapobj_map *m, mmapobj_stats *out)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!out) return mo_err(m, MMAPOBJ_E_INVAL, "NULL stats pointer");
    struct mo_header *h = m->hdr;
    memset(out, 0, sizeof *out);
    uint64_t fs = mo_ld_acq(&h->file_size);
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t fb = mo_ld(&h->free_bytes);
    uint64_t sb = mo_ld(&h->slack_bytes);
    uint64_t tref = mo_ld_acq(&h->table_ref);
    uint32_t lg = (uint32_t)(tref >> 56);
    out->file_size = fs;
    out->max_file_size = mo_ld(&h->max_file_size);
    out->used_bytes = ae >= fb + sb ? ae - fb - sb : ae;
    out->free_bytes = fb + (fs > ae ? fs - ae : 0);
    out->count = mo_ld(&h->count);
    out->bucket_count = lg <= 63 ? UINT64_C(1) << lg : 0;
    uint64_t room = out->max_file_size > MO_HEADER_SIZE + MO_TABLE_HDR
                        ? out->max_file_size - MO_HEADER_SIZE - MO_TABLE_HDR
                        : 0;
    uint64_t mb = 0;
    for (uint32_t l = MO_MIN_LOG2; l <= MO_MAX_LOG2; l++)
        if (((uint64_t)MO_SLOT_SIZE << l) <= room) mb = UINT64_C(1) << l;
    out->max_bucket_count = mb;
    out->load_factor = out->bucket_count ? (double)out->count / (double)out->bucket_count : 0.0;
    out->max_load_factor = MO_MAX_LOAD;
    out->format_major = m->hdr->format_major;
    out->format_minor = m->hdr->format_minor;
    out->writable = m->writable;
    if (m->writable)
        out->writer_pid = (int32_t)mo_pf_pid();
    else
        out->writer_pid = mo_pf_writer_alive(m->file) ? (int32_t)h->writer_pid : 0;
    out->count_string = mo_ld(&h->count_string);
    out->count_number = mo_ld(&h->count_number);
    out->count_bytes = mo_ld(&h->count_bytes);
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_writer_state(const char *path, int32_t *pid)
{
    if (pid) *pid = 0;
    if (!path) return mo_tls_err(path, MMAPOBJ_E_INVAL, "NULL path");
    mo_pf_file *f = NULL;
    int e = mo_pf_open(path, 0, &f);
    if (e) {
        int c = mo_code_from_errno(e);
        char tmp[128];
        return mo_tls_err(path, c == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO : c, "cannot open: %s",
                          mo_pf_strerror(e, tmp, sizeof tmp));
    }
    struct mo_pf_stat st;
    e = mo_pf_stat(f, &st);
    if (e || !st.regular) {
        mo_pf_close(f);
        return e ? mo_tls_err(path, MMAPOBJ_E_IO, "fstat failed")
                 : mo_tls_err(path, MMAPOBJ_E_NOTREG, "not a regular file");
    }
    int held = mo_pf_writer_alive(f);
    if (held && pid && st.size >= MO_HEADER_SIZE) {
        /* the pid is a hint from a checked header, shown only while that process exists */
        struct mo_header *h = malloc(sizeof *h);
        char msg[128];
        if (h && mo_pf_read(f, h, sizeof *h, 0) == 0 &&
            mo_header_check((const uint8_t *)h, st.size, msg, sizeof msg) == MMAPOBJ_OK &&
            h->writer_pid != 0 && h->writer_pid <= INT32_MAX && mo_pf_process_alive(h->writer_pid))
            *pid = (int32_t)h->writer_pid;
        free(h);
    }
    mo_pf_close(f);
    return held ? 1 : 0;
}
