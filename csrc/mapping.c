/* mapping.c - reserve, extend, grow and remap: the address reservation at a fixed base, the
 * file mapped inside it, growth of the file (claimed on disk before it is mapped) and a
 * reader's catch-up when the writer grew the file. */
#include "error.h"
#include "mapping.h"

int mo_map_setup(mmapobj_map *m, uint64_t size, uint64_t reserve, uint64_t minimum)
{
    uint64_t res = mo_round_up(reserve, m->page);
    if (res < mo_round_up(minimum, m->page)) res = mo_round_up(minimum, m->page);
    void *b = NULL;
    int e = mo_pf_reserve(res, &b);
    if (e && !m->writable) {
        /* a reader can live with a smaller reservation and report E_RESERVE later */
        res = mo_round_up(minimum, m->page);
        e = mo_pf_reserve(res, &b);
    }
    if (e)
        return mo_err_os(m, MMAPOBJ_E_NOMEM, e, "cannot reserve %llu bytes of address space",
                         (unsigned long long)res);
    m->base = b;
    m->reserve = res;
    uint64_t len = mo_round_up(size, m->page);
    e = mo_pf_map(m->base, m->file, 0, len, m->writable);
    if (e)
        return mo_err_os(m, mo_code_from_errno(e) == MMAPOBJ_E_NOMEM ? MMAPOBJ_E_NOMEM
                                                                      : MMAPOBJ_E_IO,
                         e, "cannot map %llu bytes", (unsigned long long)len);
    m->mapped = len;
    m->valid = size;
    m->hdr = (struct mo_header *)(void *)m->base;
    return MMAPOBJ_OK;
}

void mo_map_release(mmapobj_map *m)
{
    if (m->base) mo_pf_release(m->base, m->reserve);
    m->base = NULL;
    m->hdr = NULL;
}

/* Extends the mapping to cover `size` bytes of the file. */
static int map_extend(mmapobj_map *m, uint64_t size)
{
    if (size > m->reserve)
        return mo_err(m, MMAPOBJ_E_RESERVE, "file grew to %llu bytes, past this handle's "
                      "reservation of %llu bytes; reopen it", (unsigned long long)size,
                      (unsigned long long)m->reserve);
    uint64_t len = mo_round_up(size, m->page);
    if (len > m->mapped) {
        /* Map only the new part next to the old one (the kernel merges the two, and the pages
         * already mapped keep their entries: no refaults). Under valgrind, whose address-space
         * manager fails an assertion on many adjacent file segments, one mapping of the whole
         * file replaces the old one at the same address instead. */
        uint64_t from = mo_pf_under_valgrind() ? 0 : m->mapped;
        int e = mo_pf_map(m->base + from, m->file, from, len - from, m->writable);
        if (e) {
            /* a failed fixed mapping may have left a hole: keep the range reserved, and put the
             * old mapping back if it was part of the range */
            (void)mo_pf_unmap_range(m->base + m->mapped, len - m->mapped);
            if (from == 0) (void)mo_pf_map(m->base, m->file, 0, m->mapped, m->writable);
            return mo_err_os(m, MMAPOBJ_E_NOMEM, e, "cannot extend the mapping to %llu bytes",
                             (unsigned long long)len);
        }
        m->mapped = len;
    }
    if (size > m->valid) m->valid = size;
    return MMAPOBJ_OK;
}

int mo_map_follow(mmapobj_map *m, uint64_t size)
{
    return map_extend(m, size);
}

int mo_reader_remap(mmapobj_map *m)
{
    struct mo_pf_stat st;
    int e = mo_pf_stat(m->file, &st);
    if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
    uint64_t size = st.size;
    if (size <= m->valid) return MMAPOBJ_NOTFOUND;
    if (size > m->reserve && m->reserve > m->valid) {
        /* the file outgrew the reservation: map what fits (lookups that stay inside it keep
         * working); the next call that needs more reports E_RESERVE */
        size = m->reserve;
    }
    return map_extend(m, size);
}

int mo_grow(mmapobj_map *m, uint64_t need_end)
{
    struct mo_header *h = m->hdr;
    uint64_t cur = m->valid;
    uint64_t maxfs = mo_ld(&h->max_file_size);
    if (need_end <= cur) return MMAPOBJ_OK;
    if (need_end > maxfs)
        return mo_err(m, MMAPOBJ_E_FULL, "the write needs %llu bytes of file, more than "
                      "max_file_size %llu", (unsigned long long)need_end, (unsigned long long)maxfs);
    uint64_t target = cur * 2;
    if (target < need_end) target = need_end;
    target = mo_round_up(target, 4096);
    if (target > maxfs) target = maxfs;
    if (target > m->reserve) target = m->reserve;
    if (target < need_end)
        return mo_err(m, MMAPOBJ_E_FULL, "the write needs %llu bytes, beyond the reservation",
                      (unsigned long long)need_end);
    int err = mo_pf_allocate(m->file, cur, target - cur);
    if (err != 0) {
        /* undo a partial extension so that nothing changed */
        (void)mo_pf_resize(m->file, cur);
        return mo_err_os(m, mo_code_from_errno(err) == MMAPOBJ_E_NOSPC ? MMAPOBJ_E_NOSPC
                                                                        : MMAPOBJ_E_IO,
                         err, "cannot grow the file to %llu bytes", (unsigned long long)target);
    }
    int rc = map_extend(m, target);
    if (rc != MMAPOBJ_OK) {
        (void)mo_pf_resize(m->file, cur);
        return rc;
    }
    mo_st_rel(&h->file_size, target);
    return MMAPOBJ_OK;
}

int mo_map_flush(mmapobj_map *m)
{
    int e = mo_pf_flush_range(m->base, m->mapped);
    if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "msync");
    e = mo_pf_sync(m->file);
    if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fsync");
    return MMAPOBJ_OK;
}
