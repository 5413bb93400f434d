/* wlock.c - the write lock that serializes every writer handle of a file, in any process or
 * thread (docs/FORMAT.md, "Several writers"). The lock is a word in the header (offset 256)
 * naming the slot of the holding handle; a slot is an OS lock (platform.h) that a writer handle
 * holds for its life, so a waiter can ask whether the holder is alive (the OS drops the slot of a
 * process that dies, SIGKILL included) and take the lock over from a dead one, then repair what
 * it left half done. Taking and giving back a free lock is one compare-and-swap each: no system
 * call. A waiter spins briefly, then yields the CPU a few times (the holder may be waiting for
 * it), then sleeps on the word (futex; a count of sleepers next to the word tells a releaser
 * whether to wake anyone) in rounds of 10 ms, checking the holder's slot after each; a lock word left in a file by a crash or crafted by hand can thus
 * hold nobody for longer than a round. Two handles of one file in one thread share a hold (the
 * second "rides" on the first) instead of waiting for each other forever.
 * After taking the lock a handle follows the other writers: it maps what they grew and points
 * at the index of free space where they moved it. */
#include <errno.h>

#include "error.h"
#include "freeidx.h"
#include "mapping.h"
#include "repair.h"
#include "seqlock.h"
#include "wlock.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

#define WL_EPOCH_ONE (UINT64_C(1) << 32)
#define WL_LOW UINT64_C(0xFFFFFFFF)
#define WL_SPINS 200    /* pause instructions before the first yield */
#define WL_YIELDS 20    /* yields before the first sleep */
#define WL_ROUND_NS 10000000u   /* a sleep between two looks at the holder's slot */
#define WL_MAX_SLOTS 65536u     /* writer handles of one file at once */

/* A number for the calling thread, unique among the live threads of the process, at no cost. */
static _Thread_local char thread_anchor;
static inline uint64_t self_id(void)
{
    return (uint64_t)(uintptr_t)&thread_anchor;
}

static mmapobj_map *registry; /* writer handles of this process, under mo_pf_global_lock */

static inline _Atomic uint64_t *word(mmapobj_map *m)
{
    return MO_A(&m->hdr->wlock);
}

/* The low half of the word (little-endian: its first 4 bytes), where waiters sleep. */
static inline uint32_t *word_low(mmapobj_map *m)
{
    return (uint32_t *)(void *)&m->hdr->wlock;
}

static inline uint64_t held_by(uint64_t w, uint32_t slot)
{
    return ((w & ~WL_LOW) + WL_EPOCH_ONE) | (slot + 1);
}

/* Writers asleep in mo_pf_wait32 on the word (header offset 264): a releaser wakes them only
 * when there are some (a count left high by a sleeper that died costs useless wake calls until
 * the next session, nothing else). */
static inline _Atomic uint64_t *sleepers(mmapobj_map *m)
{
    return MO_A(&m->hdr->wsleepers);
}

static inline int cas(_Atomic uint64_t *p, uint64_t *expected, uint64_t v)
{
    return atomic_compare_exchange_strong_explicit(p, expected, v, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

/* ---- registry -------------------------------------------------------------------------- */

void mo_wlock_register(mmapobj_map *m)
{
    mo_pf_global_lock();
    m->reg_next = registry;
    registry = m;
    mo_pf_global_unlock();
}

void mo_wlock_unregister(mmapobj_map *m)
{
    mo_pf_global_lock();
    for (mmapobj_map **p = &registry; *p; p = &(*p)->reg_next)
        if (*p == m) {
            *p = m->reg_next;
            break;
        }
    mo_pf_global_unlock();
}

/* The handle of this process, on this file, that holds the lock in the calling thread with the
 * given slot: a hold to ride on. */
static mmapobj_map *ride_target(mmapobj_map *m, uint32_t slot)
{
    mmapobj_map *found = NULL;
    uint64_t me = self_id();
    mo_pf_global_lock();
    for (mmapobj_map *x = registry; x && !found; x = x->reg_next)
        if (x != m && x->slot == slot && x->dev == m->dev && x->ino == m->ino &&
            atomic_load_explicit(&x->holder_thread, memory_order_relaxed) == me)
            found = x;
    mo_pf_global_unlock();
    return found;
}

/* ---- acquire / release ----------------------------------------------------------------- */

/* After an acquisition: follow what the other writers did; repair after a dead holder. */
static int follow(mmapobj_map *m, int stolen)
{
    struct mo_header *h = m->hdr;
    uint64_t fs = mo_ld_acq(&h->file_size);
    if (__builtin_expect(fs > m->valid, 0)) {
        int rc = mo_map_follow(m, fs);
        if (rc) return rc;
    }
    if (__builtin_expect(stolen || (h->state_flags & MO_FLAG_REPAIR) != 0, 0)) return mo_recover(m);
    uint64_t ref = mo_ld(&h->index_ref);
    if (__builtin_expect(ref != m->fi_ref, 0)) {
        if (!ref) mo_fi_detach(m);
        else if (mo_fi_attach(m) != MMAPOBJ_OK) return mo_recover(m);
    }
    return MMAPOBJ_OK;
}

static void release_word(mmapobj_map *o)
{
    atomic_store_explicit(&o->holder_thread, 0, memory_order_relaxed);
    o->hold = NULL;
    _Atomic uint64_t *wp = word(o);
    uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
    /* seq_cst, with the sleepers' increment and look at the word (acquire_slow): either they see
     * the word free, or this sees them counted */
    while (!atomic_compare_exchange_weak_explicit(wp, &w, w & ~WL_LOW, memory_order_seq_cst,
                                                  memory_order_relaxed)) {
    }
    if (atomic_load_explicit(sleepers(o), memory_order_seq_cst)) mo_pf_wake32(word_low(o));
}

#define WL_RIDE 1

/* The contended path: OK (taken; *stolen when from a dead holder), WL_RIDE, or an error. */
static int acquire_slow(mmapobj_map *m, int *stolen)
{
    _Atomic uint64_t *wp = word(m);
    uint32_t me = m->slot + 1;
    int spins = 0, yields = 0, ride_checked = 0;
    for (;;) {
        uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
        uint32_t holder = (uint32_t)w & MO_WL_HOLDER;
        if (holder == 0) {
            if (cas(wp, &w, held_by(w, m->slot))) return MMAPOBJ_OK;
            continue;
        }
        if (holder == me) {
            /* the word names this handle's own slot, which it does not hold the lock with: the
             * slot's previous owner died holding the lock */
            if (cas(wp, &w, held_by(w, m->slot))) {
                *stolen = 1;
                return MMAPOBJ_OK;
            }
            continue;
        }
        if (!ride_checked) {
            ride_checked = 1;
            mmapobj_map *o = ride_target(m, holder - 1);
            if (o) {
                m->hold = o;
                m->own = 1;
                o->total++;
                m->ride_next = o->riders;
                o->riders = m;
                return WL_RIDE;
            }
        }
        if (spins < WL_SPINS) {
            spins++;
            cpu_relax();
            continue;
        }
        if (yields < WL_YIELDS) {
            /* the holder may be waiting for this CPU (more writers than CPUs) */
            yields++;
            mo_pf_yield();
            continue;
        }
        atomic_fetch_add_explicit(sleepers(m), 1, memory_order_seq_cst);
        uint64_t now = atomic_load_explicit(wp, memory_order_seq_cst);
        if (now == w) mo_pf_wait32(word_low(m), (uint32_t)w, WL_ROUND_NS);
        atomic_fetch_sub_explicit(sleepers(m), 1, memory_order_relaxed);
        now = atomic_load_explicit(wp, memory_order_acquire);
        if (now != w) {
            spins = WL_SPINS / 2; /* the word moved: the lock may be free soon */
            yields = 0;
            continue;
        }
        /* the same hold for a whole round: is its holder alive? (its slot dies with it) */
        if (!mo_pf_slot_alive(m->file, holder - 1)) {
            if (cas(wp, &w, held_by(w, m->slot))) {
                *stolen = 1;
                return MMAPOBJ_OK;
            }
        }
    }
}

int mo_wlock_acquire(mmapobj_map *m)
{
    if (m->hold) {
        /* nested, or riding: another handle of this thread may have moved things meanwhile */
        int rc = follow(m, 0);
        if (rc) return rc;
        m->own++;
        m->hold->total++;
        return MMAPOBJ_OK;
    }
    _Atomic uint64_t *wp = word(m);
    uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
    int stolen = 0;
    if (!(__builtin_expect(((uint32_t)w & MO_WL_HOLDER) == 0, 1) &&
          cas(wp, &w, held_by(w, m->slot)))) {
        int rc = acquire_slow(m, &stolen);
        if (rc == WL_RIDE) {
            rc = follow(m, 0);
            if (rc) mo_wlock_release(m);
            return rc;
        }
        if (rc) return rc;
    }
    m->hold = m;
    m->own = 1;
    m->total = 1;
    m->riders = NULL;
    atomic_store_explicit(&m->holder_thread, self_id(), memory_order_relaxed);
    int rc = follow(m, stolen);
    if (__builtin_expect(rc != MMAPOBJ_OK, 0)) {
        m->own = 0;
        m->total = 0;
        if (m->seq_odd) mo_seq_end(m);
        release_word(m);
    }
    return rc;
}

/* Takes rider r off the list of owner o. */
static void unride(mmapobj_map *o, mmapobj_map *r)
{
    for (mmapobj_map **p = &o->riders; *p; p = &(*p)->ride_next)
        if (*p == r) {
            *p = r->ride_next;
            break;
        }
    r->ride_next = NULL;
    r->hold = NULL;
}

void mo_wlock_release(mmapobj_map *m)
{
    mmapobj_map *o = m->hold;
    m->own--;
    o->total--;
    if (m != o && m->own == 0) unride(o, m);
    if (o->total == 0) release_word(o);
}

void mo_wlock_close(mmapobj_map *m)
{
    mmapobj_map *o = m->hold;
    if (!o) return;
    if (m->seq_odd) mo_seq_end(m);
    o->total -= m->own;
    m->own = 0;
    if (m != o) {
        unride(o, m);
        if (o->total == 0) release_word(o);
        return;
    }
    if (o->total == 0 || !m->riders) {
        m->total = 0;
        release_word(m);
        return;
    }
    /* other handles of this thread ride on this hold: it passes to the first of them */
    mmapobj_map *r = m->riders;
    r->hold = r;
    r->riders = r->ride_next;
    r->ride_next = NULL;
    r->total = m->total;
    for (mmapobj_map *x = r->riders; x; x = x->ride_next) x->hold = r;
    m->riders = NULL;
    m->total = 0;
    m->hold = NULL;
    atomic_store_explicit(&r->holder_thread, self_id(), memory_order_relaxed);
    atomic_store_explicit(&m->holder_thread, 0, memory_order_relaxed);
    _Atomic uint64_t *wp = word(m);
    uint64_t w = atomic_load_explicit(wp, memory_order_relaxed);
    while (!cas(wp, &w, held_by(w, r->slot))) {
    }
}

/* ---- slots ----------------------------------------------------------------------------- */

int mo_wlock_take_slot(mmapobj_map *m)
{
    uint32_t i = 0;
    for (;; i++) {
        if (i >= WL_MAX_SLOTS)
            return mo_err(m, MMAPOBJ_E_LOCKED, "%u writer handles have the file open: no writer "
                          "slot left", WL_MAX_SLOTS);
        int e = mo_pf_lock_slot(m->file, i);
        if (e == 0) break;
        if (e != EAGAIN) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot take a writer slot");
    }
    m->slot = i;
    /* a lock word naming this slot was left by a holder that died: take over and repair now,
     * or the others would wait for this (live) slot forever */
    _Atomic uint64_t *wp = word(m);
    uint64_t w = atomic_load_explicit(wp, memory_order_acquire);
    if (((uint32_t)w & MO_WL_HOLDER) != i + 1) return MMAPOBJ_OK;
    if (!cas(wp, &w, held_by(w, i))) return MMAPOBJ_OK; /* taken over already */
    m->hold = m;
    m->own = 1;
    m->total = 1;
    atomic_store_explicit(&m->holder_thread, self_id(), memory_order_relaxed);
    int rc = follow(m, 1);
    mo_wlock_release(m);
    return rc;
}

/* ---- public ---------------------------------------------------------------------------- */

MMAPOBJ_API int mmapobj_lock(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!m->writable) return mo_err(m, MMAPOBJ_E_READONLY, "the map is open read-only");
    return mo_wlock_acquire(m);
}

MMAPOBJ_API int mmapobj_unlock(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!m->writable) return mo_err(m, MMAPOBJ_E_READONLY, "the map is open read-only");
    if (!m->hold || m->own == 0)
        return mo_err(m, MMAPOBJ_E_INVAL, "unlock without lock: this handle does not hold the "
                      "write lock");
    if (m->seq_odd) mo_seq_end(m);
    mo_wlock_release(m);
    return MMAPOBJ_OK;
}
