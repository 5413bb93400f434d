/* seqlock.h - the sequence counter at header offset 64 (docs/FORMAT.md, "Concurrency"): the
 * writer makes it odd while it rewrites bytes a reader may still reach, and even again after;
 * a reader samples it before and after a read and retries when it changed. The reader side is
 * inline (the lookup hot path); waiting on an odd value is the out-of-line slow path. */
#ifndef MMAPOBJ_SEQLOCK_H
#define MMAPOBJ_SEQLOCK_H

#include <stdatomic.h>

#include "internal.h"

/* Writer: make seq odd (once per operation; nested calls do nothing) / even again. */
void mo_seq_begin(mmapobj_map *m);
void mo_seq_end(mmapobj_map *m);

/* How long a reader waits on one odd value of a live writer before MMAPOBJ_E_BUSY. */
#define MO_WAIT_LIMIT_NS UINT64_C(1000000000)

/* Reader slow path: waits until seq is even, or its odd value is a dead writer's: OK with the
 * value in *s1. MMAPOBJ_E_BUSY (detail set) when a live writer has kept the same odd value for
 * MO_WAIT_LIMIT_NS; the clock is read only every 1024 spins, past the first 256. */
int mo_seq_wait(mmapobj_map *m, uint64_t *s1);

/* 1 if a writer (some other handle, any process) holds the file's writer lock. */
int mo_writer_alive(mmapobj_map *m);

/* Reader: starts a read section; *s1 is the value to hand to mo_seq_read_retry. */
static inline __attribute__((always_inline)) int mo_seq_read_begin(mmapobj_map *m, uint64_t *s1)
{
    uint64_t s = mo_ld_acq(&m->hdr->seq);
    *s1 = s;
    if (__builtin_expect(s & 1, 0)) return mo_seq_wait(m, s1);
    return MMAPOBJ_OK;
}

/* Reader: ends a read section; nonzero when the writer changed something meanwhile (what was
 * read may be torn: read again). */
static inline __attribute__((always_inline)) int mo_seq_read_retry(const mmapobj_map *m,
                                                                   uint64_t s1)
{
    atomic_thread_fence(memory_order_acquire);
    return __builtin_expect(mo_ld(&m->hdr->seq) != s1, 0);
}

#endif
