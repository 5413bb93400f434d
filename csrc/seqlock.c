/* seqlock.c - the writer's brackets around rewrites of once-reachable bytes, and the reader's
 * wait on an odd counter with the writer-alive probe (a dead writer's odd value is as good as
 * even: the next writer moves seq on before it changes anything). */
#include "error.h"
#include "seqlock.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

void mo_seq_begin(mmapobj_map *m)
{
    if (m->seq_odd) return;
    uint64_t s = mo_ld(&m->hdr->seq);
    mo_st(&m->hdr->seq, s + 1);
    atomic_thread_fence(memory_order_release);
    m->seq_odd = 1;
}

void mo_seq_end(mmapobj_map *m)
{
    if (!m->seq_odd) return;
    uint64_t s = mo_ld(&m->hdr->seq);
    mo_st_rel(&m->hdr->seq, s + 1);
    m->seq_odd = 0;
}

int mo_writer_alive(mmapobj_map *m)
{
    /* the writer that made seq odd holds the write lock, whose word names its slot; with no
     * holder named, ask whether any writer is there (one opening the file alone, or a writer of
     * format 1.0, which knows no lock word) */
    uint64_t w = mo_ld_acq(&m->hdr->wlock);
    uint32_t holder = (uint32_t)w & 0x7FFFFFFFu;
    if (holder) return mo_pf_slot_alive(m->file, holder - 1);
    return mo_pf_writer_alive(m->file);
}

int mo_seq_wait(mmapobj_map *m, uint64_t *s1)
{
    uint32_t spins = 0;
    uint64_t odd = 0, since = 0;
    for (;;) {
        uint64_t s = mo_ld_acq(&m->hdr->seq);
        /* an odd value already found to be a dead writer's is as good as even */
        if (!(s & 1) || s == m->dead_seq) {
            *s1 = s;
            return MMAPOBJ_OK;
        }
        if (s != odd) {
            /* another write: its own wait limit (the clock starts at the first probe) */
            odd = s;
            since = 0;
        }
        spins++;
        if (spins < 256) {
            cpu_relax();
        } else if (spins % 1024 != 0) {
            mo_pf_yield();
        } else if (!mo_writer_alive(m)) {
            m->dead_seq = s;
            *s1 = s;
            return MMAPOBJ_OK;
        } else {
            uint64_t now = mo_pf_monotonic_ns();
            if (!since) {
                since = now;
            } else if (now - since >= MO_WAIT_LIMIT_NS) {
                return mo_err(m, MMAPOBJ_E_BUSY, "a writer (pid %u) has been in the middle of a "
                              "write for more than %u ms (sequence counter %llu is odd); try "
                              "again later", (unsigned)m->hdr->writer_pid,
                              (unsigned)(MO_WAIT_LIMIT_NS / 1000000u), (unsigned long long)s);
            }
        }
    }
}
