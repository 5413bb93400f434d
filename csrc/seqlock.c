/* seqlock.c - the writer's brackets around rewrites of once-reachable bytes, and the reader's
 * wait on an odd counter with the writer-alive probe (a dead writer's odd value is as good as
 * even: the next writer moves seq on before it changes anything). */
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
    return mo_pf_writer_alive(m->file);
}

int mo_seq_wait(mmapobj_map *m, uint64_t *s1)
{
    uint32_t spins = 0;
    for (;;) {
        uint64_t s = mo_ld_acq(&m->hdr->seq);
        /* an odd value already found to be a dead writer's is as good as even */
        if (!(s & 1) || s == m->dead_seq) {
            *s1 = s;
            return MMAPOBJ_OK;
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
        }
    }
}
