/* file.c - open, create and close of a map: the handle, the locks by role (writers' presence,
 * their open/close gate and slots; reader presence), the checks of an existing file before and
 * after it is mapped, atomic creation through a temporary file, the first writer's setup of a
 * session (repair of a dead writer's file, the free lists into the writers' index), a joining
 * writer's checks, and the last writer's close (free lists written back, shrink, clean mark). */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "format.h"
#include "freeidx.h"
#include "header.h"
#include "mapping.h"
#include "repair.h"
#include "seqlock.h"
#include "testhook.h"
#include "trust.h"
#include "wlock.h"

static mmapobj_map *map_alloc(const char *path)
{
    mmapobj_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->path = strdup(path);
    if (!m->path) {
        free(m);
        return NULL;
    }
    m->page = mo_pf_page_size();
    m->magic = MO_MAP_MAGIC;
    return m;
}

static void owner_unregister(mmapobj_map *m);

static void map_free(mmapobj_map *m)
{
    if (!m) return;
    owner_unregister(m);
    mo_map_release(m);
    mo_pf_close(m->file);
    m->file = NULL;
    m->magic = 0;
    free(m->scratch);
    free(m->path);
    free(m);
}

/* ---- owner threads ---------------------------------------------------------------------- */

/* The handles a thread has open (it opened them, or adopted them), closed by the platform's
 * thread-exit hook when the thread ends with them still open: a terminated Node worker, or a
 * thread that returns without closing, releases its locks and memory. The lists are guarded by a
 * spin lock (open and close only: never the data path). */
struct mo_owner {
    mmapobj_map *head;
};

static _Thread_local struct mo_owner *tls_owner;
static atomic_flag owners_busy = ATOMIC_FLAG_INIT;

static void owners_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&owners_busy, memory_order_acquire)) mo_pf_yield();
}

static void owners_unlock(void)
{
    atomic_flag_clear_explicit(&owners_busy, memory_order_release);
}

/* The thread-exit hook: closes what the exiting thread left open (iterators of those handles
 * included), then frees its list. */
static void owner_thread_exit(void *v)
{
    struct mo_owner *o = v;
    owners_lock();
    mmapobj_map *m = o->head;
    o->head = NULL;
    for (mmapobj_map *x = m; x; x = x->onext) x->owner = NULL;
    owners_unlock();
    while (m) {
        mmapobj_map *next = m->onext;
        while (m->iters) {
            mmapobj_iter *it = m->iters;
            mmapobj_iter_close(&it);
        }
        mmapobj_close(&m);
        m = next;
    }
    if (tls_owner == o) tls_owner = NULL;
    free(o);
}

/* Makes the calling thread the owner of m. */
static int owner_register(mmapobj_map *m)
{
    struct mo_owner *o = tls_owner;
    if (!o) {
        int e = mo_pf_thread_hook_init(owner_thread_exit);
        if (e) return mo_err_os(m, MMAPOBJ_E_NOMEM, e, "cannot set up the thread-exit hook");
        o = calloc(1, sizeof *o);
        if (!o) return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory");
        e = mo_pf_thread_hook_arm(o);
        if (e) {
            free(o);
            return mo_err_os(m, MMAPOBJ_E_NOMEM, e, "cannot arm the thread-exit hook");
        }
        tls_owner = o;
    }
    owners_lock();
    m->owner = o;
    m->oprev = NULL;
    m->onext = o->head;
    if (o->head) o->head->oprev = m;
    o->head = m;
    owners_unlock();
    return MMAPOBJ_OK;
}

/* Takes m off its owner's list (from any thread); the calling thread's list, once empty, is
 * freed and its hook disarmed. */
static void owner_unregister(mmapobj_map *m)
{
    struct mo_owner *mine = NULL;
    owners_lock();
    struct mo_owner *o = m->owner;
    if (o) {
        if (m->oprev)
            m->oprev->onext = m->onext;
        else
            o->head = m->onext;
        if (m->onext) m->onext->oprev = m->oprev;
        m->owner = NULL;
        m->onext = m->oprev = NULL;
        if (!o->head && o == tls_owner) mine = o;
    }
    owners_unlock();
    if (mine) {
        /* nothing else references an empty list of this thread's: only this thread links into
         * it, and its exit hook is disarmed first */
        (void)mo_pf_thread_hook_arm(NULL);
        tls_owner = NULL;
        free(mine);
    }
}

MMAPOBJ_API int mmapobj_adopt(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (m->owner && m->owner == tls_owner) return MMAPOBJ_OK;
    owner_unregister(m);
    return owner_register(m);
}

/* An errno-style code as an error code for open/create: E_LOCKED only ever means a writer. */
static int os_code(int e)
{
    int c = mo_code_from_errno(e);
    return c == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO : c;
}

/* ---- open ----------------------------------------------------------------------------- */

static int open_errno(const char *path, int errnum, const char *what)
{
    char tmp[128];
    const char *s = mo_pf_strerror(errnum, tmp, sizeof tmp);
    return mo_tls_err(path, os_code(errnum), "%s: %s", what, s);
}

/* Maps and checks an opened file (m->file set, lock taken). stable: no writer can change the file
 * meanwhile (a writer alone); otherwise look again when it seems to change under our feet. */
static int attach(mmapobj_map *m, uint64_t max_override, int stable)
{
    struct mo_pf_stat st;
    uint64_t size;
    struct mo_header hb;
    char msg[MO_ERRMSG_CAP - 64];
    int rc;
    /* A live writer grows the file (fallocate) before it publishes the new file_size, so a
     * header that claims more than fstat saw may just be newer than our fstat: look again a
     * few times before calling the file truncated. */
    for (int attempt = 0;; attempt++) {
        int e = mo_pf_stat(m->file, &st);
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
        if (!st.regular) return mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
        size = st.size;
        if (size < MO_HEADER_SIZE)
            return mo_err(m, MMAPOBJ_E_TOOSMALL, "file has %llu bytes, less than the %u-byte "
                          "header (empty or truncated)", (unsigned long long)size, MO_HEADER_SIZE);
        /* read the header privately first so that a hostile max_file_size never sizes a
         * mapping before the header is checked */
        e = mo_pf_read(m->file, &hb, sizeof hb, 0);
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot read the header");
        rc = mo_header_check((const uint8_t *)&hb, size, msg, sizeof msg);
        if (rc != MMAPOBJ_E_TOOSMALL || stable || attempt >= 100) break;
        mo_pf_yield();
    }
    if (rc) return mo_err(m, rc, "%s", msg);
    uint64_t maxfs = hb.max_file_size;
    if (max_override) maxfs = max_override;
    uint64_t reserve = maxfs > size ? maxfs : size;
    /* a reader reserves what the writer may grow to; the minimum is the file as it is */
    rc = mo_map_setup(m, size, reserve, size);
    if (rc) return rc;
    for (int attempt = 0;; attempt++) {
        /* not a read section (a writer's odd seq is no reason to wait here): just a sample */
        uint64_t s1 = mo_ld_acq(&m->hdr->seq);
        rc = mo_header_check(m->base, size, msg, sizeof msg);
        if (rc == MMAPOBJ_OK) rc = mo_table_marker_check(m->base, size, msg, sizeof msg);
        int moved = mo_seq_read_retry(m, s1);
        if (rc == MMAPOBJ_OK || stable || attempt > 100) break;
        /* A writer may have grown the file since our fstat (a new file_size, or a table built
         * in the new space, which moves no seq): follow it, then look again. */
        int r2 = mo_reader_remap(m);
        if (r2 != MMAPOBJ_OK && r2 != MMAPOBJ_NOTFOUND) return r2;
        if (r2 == MMAPOBJ_OK)
            size = m->valid;
        else if (rc != MMAPOBJ_E_TOOSMALL && !moved)
            break; /* nothing moved: the file is damaged */
        mo_pf_yield();
    }
    if (rc) return mo_err(m, rc, "%s", msg);
    m->seed = m->hdr->hash_seed;
    m->class_count = m->hdr->class_count;
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_open(const char *path, mmapobj_map **out)
{
    if (out) *out = NULL;
    if (!path || !out) return mo_tls_err(path, MMAPOBJ_E_INVAL, "NULL path or out argument");
    mmapobj_map *m = map_alloc(path);
    if (!m) return mo_tls_err(path, MMAPOBJ_E_NOMEM, "out of memory");
    int rc = owner_register(m);
    if (rc) goto fail;
    /* a FIFO opens without waiting for a peer; the regular-file check below rejects it */
    int e = mo_pf_open(path, 0, &m->file);
    if (e) {
        rc = open_errno(path, e, "cannot open");
        map_free(m);
        return rc;
    }
    struct mo_pf_stat st;
    e = mo_pf_stat(m->file, &st);
    if (e) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
        goto fail;
    }
    if (!st.regular) {
        rc = mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
        goto fail;
    }
    /* reader presence: a closing writer shrinks the file only when no reader holds it */
    e = mo_pf_lock_reader(m->file);
    if (e) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, e, "cannot take the reader lock");
        goto fail;
    }
    rc = attach(m, 0, 0);
    if (rc) goto fail;
    *out = m;
    return MMAPOBJ_OK;
fail:
    mo_copy_err_to_tls(m);
    map_free(m);
    return rc;
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (mo_pf_random(&s, sizeof s) != 0) {
        uint64_t t = mo_pf_monotonic_ns();
        s = ((t % 1000000000u) << 20) ^ (t / 1000000000u) ^ ((uint64_t)mo_pf_pid() << 40) ^
            (uint64_t)(uintptr_t)&s;
    }
    return s;
}

/* Initialises a new map in the file m->file (locked; empty, a new unnamed or temporary file,
 * or one whose creation in place did not finish). The file first gets the magic "MMAPNEW\0" (a
 * map being created: readers say "not a map yet", the next writer starts again), then its space,
 * header and table; the real magic is stored last (docs/FORMAT.md, "Creation"). So a writer
 * killed at any step leaves a file that the next create makes anew, and no reader ever sees a
 * valid header without its table. */
static int init_file(mmapobj_map *m, uint64_t initial_size, uint64_t initial_buckets,
                     uint64_t max_size)
{
    uint32_t lg = mo_log2_for(initial_buckets, 4, 5);
    uint64_t table_off = MO_HEADER_SIZE; /* 8192 is a multiple of 64 */
    uint64_t need = table_off + mo_table_footprint(lg);
    if (need > max_size)
        return mo_err(m, MMAPOBJ_E_INVAL, "max_size %llu is smaller than the %llu bytes the header "
                      "and a table of %llu buckets need", (unsigned long long)max_size,
                      (unsigned long long)need, (unsigned long long)(UINT64_C(1) << lg));
    uint64_t size = initial_size < need ? need : initial_size;
    if (size > max_size) size = max_size;
    int err = mo_pf_write(m->file, MO_MAGIC_BUILDING, 8, 0);
    if (err != 0) return mo_err_os(m, MMAPOBJ_E_IO, err, "cannot write the header");
    MO_TEST_POINT("create:claimed", m);
    err = mo_pf_allocate(m->file, 0, size);
    if (err != 0)
        return mo_err_os(m, mo_code_from_errno(err) == MMAPOBJ_E_NOSPC ? MMAPOBJ_E_NOSPC
                                                                        : MMAPOBJ_E_IO,
                         err, "cannot allocate %llu bytes", (unsigned long long)size);
    MO_TEST_POINT("create:allocated", m);
    int rc = mo_map_setup(m, size, max_size, size);
    if (rc) return rc;
    struct mo_header *hb = malloc(sizeof *hb);
    if (!hb) return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory");
    mo_header_init(hb, random_seed(), size, max_size, table_off, lg);
    memcpy(hb->magic, MO_MAGIC_BUILDING, 8); /* header_checksum is that of the real magic */
    memcpy(m->base, hb, sizeof *hb);
    free(hb);
    mo_table_init(m->base + table_off, lg, 0);
    MO_TEST_POINT("create:built", m);
    uint64_t magic;
    memcpy(&magic, MO_MAGIC, 8);
    mo_st_rel((uint64_t *)(void *)m->base, magic); /* everything above before it */
    MO_TEST_POINT("create:done", m);
    m->seed = m->hdr->hash_seed;
    m->class_count = m->hdr->class_count;
    return MMAPOBJ_OK;
}

/* Writer setup of a map init_file has just made: nothing in it was ever reachable; an empty
 * index of free space. */
static int writer_fresh(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    h->writer_pid = mo_pf_pid();
    h->state_flags |= MO_FLAG_DIRTY;
    mo_st(&h->fresh_end, mo_ld(&h->alloc_end));
    mo_fi_start(m);
    return MMAPOBJ_OK;
}

/* The first writer of a session (it has the file alone), once the header is valid: the checks
 * and setup of a single writer, then the writers' shared state: the lock word reset (a crash or a
 * crafted file may have left anything there), the high-water mark, and the free space in the
 * writers' index (from the free lists, or rebuilt by the repair walk). */
static int writer_begin(mmapobj_map *m, uint64_t max_size)
{
    struct mo_header *h = m->hdr;
    uint64_t fs = mo_ld(&h->file_size);
    if (max_size) {
        if (max_size < m->valid)
            return mo_err(m, MMAPOBJ_E_INVAL, "max_size %llu is smaller than the file (%llu bytes)",
                          (unsigned long long)max_size, (unsigned long long)m->valid);
        mo_st(&h->max_file_size, max_size);
    } else if (mo_ld(&h->max_file_size) < m->valid) {
        mo_st(&h->max_file_size, m->valid);
    }
    /* the file may be longer than file_size (a writer died after growing it) */
    if (fs < m->valid) mo_st_rel(&h->file_size, m->valid);
    int dirty = (h->state_flags & (MO_FLAG_DIRTY | MO_FLAG_REPAIR)) != 0;
    if ((mo_ld(&h->seq) & 1) != 0) {
        mo_st_rel(&h->seq, mo_ld(&h->seq) + 1);
        dirty = 1;
    }
    uint64_t stored = h->state_checksum;
    h->writer_pid = mo_pf_pid();
    h->state_flags = (h->state_flags | MO_FLAG_DIRTY) & ~MO_FLAG_REPAIR;
    h->state_checksum = 0; /* stored again by the last writer's clean close */
    mo_st_rel(&h->wlock, 0);
    mo_st(&h->wsleepers, 0);
    /* bytes inside the file may still be read through old offsets by readers of an earlier
     * session: only space grown from here on is fresh */
    mo_st(&h->fresh_end, m->valid);
    mo_st(&h->index_ref, 0);
    mo_fi_detach(m);
    /* The trust rule (docs/FORMAT.md): a clean file's writer state is used when its checksum
     * and the checks of trust.c hold; a dead writer's file, or a state that does not check out,
     * gets counts, alloc_end and free space rebuilt by the walk of every record. */
    int rc = MMAPOBJ_OK;
    if (!dirty && !mo_trust_clean(m, stored)) dirty = 1;
    if (dirty) {
        MO_TEST_POINT("writer:repair", m);
        rc = mo_repair(m);
    }
    mo_seq_end(m);
    return rc;
}

/* A writer joining others: it may keep or lower max_file_size, not raise it (their reservations
 * could not follow). */
static int writer_join(mmapobj_map *m, uint64_t max_size)
{
    /* the same value changes nothing: no need to wait for the lock */
    if (!max_size || max_size == mo_ld(&m->hdr->max_file_size)) return MMAPOBJ_OK;
    int rc = mo_wlock_acquire(m);
    if (rc) return rc;
    struct mo_header *h = m->hdr;
    uint64_t cur = mo_ld(&h->max_file_size), fs = mo_ld(&h->file_size);
    if (max_size > cur)
        rc = mo_err(m, MMAPOBJ_E_INVAL, "max_size %llu is larger than the file's max_file_size "
                    "%llu, which other writers that have the file open cannot follow (pass 0 or at "
                    "most %llu, or close them first)", (unsigned long long)max_size,
                    (unsigned long long)cur, (unsigned long long)cur);
    else if (max_size < fs)
        rc = mo_err(m, MMAPOBJ_E_INVAL, "max_size %llu is smaller than the file (%llu bytes)",
                    (unsigned long long)max_size, (unsigned long long)fs);
    else
        mo_st(&h->max_file_size, max_size);
    mo_wlock_release(m);
    return rc;
}

/* The identity of the file (the process's registry of writer handles). */
static int writer_identity(mmapobj_map *m)
{
    struct mo_pf_stat st;
    int e = mo_pf_stat(m->file, &st);
    if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
    m->dev = st.dev;
    m->ino = st.ino;
    return MMAPOBJ_OK;
}

static int writer_open_existing(mmapobj_map *m, uint64_t initial_size, uint64_t initial_buckets,
                                uint64_t max_size)
{
    struct mo_pf_stat st;
    int e = mo_pf_stat(m->file, &st);
    if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
    if (!st.regular) return mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
    int first = 1;
    if (m->exclusive) {
        e = mo_pf_lock_writer(m->file, 0);
        if (e == EAGAIN)
            return mo_err(m, MMAPOBJ_E_LOCKED, "file is locked by another writer (an exclusive "
                          "writer wants the file alone)");
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot take the writer lock");
    } else {
        /* one opening or closing writer at a time decides whether it is the first or the last */
        e = mo_pf_lock_gate(m->file);
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot take the writers' gate");
        e = mo_pf_lock_writer(m->file, 0);
        if (e == EAGAIN) {
            first = 0;
            e = mo_pf_lock_writer_shared(m->file);
            if (e == EAGAIN)
                return mo_err(m, MMAPOBJ_E_LOCKED, "file is locked by another writer (opened "
                              "exclusive, or by a library older than 1.1)");
        }
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot take the writer lock");
        e = mo_pf_stat(m->file, &st); /* as it is now that we are in */
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "fstat");
    }
    m->writable = 1;
    int rc = writer_identity(m);
    if (rc) return rc;
    char magic[8] = {0};
    if (first && (st.size == 0 || (st.size >= 8 && mo_pf_read(m->file, magic, 8, 0) == 0 &&
                                   memcmp(magic, MO_MAGIC_BUILDING, 8) == 0))) {
        /* An empty file (e.g. made by touch) becomes a new map in place (its owner, mode and
         * links stay); so does one whose creation did not finish (we have the file alone: its
         * creator is gone), from the start. */
        if (st.size != 0 && (e = mo_pf_resize(m->file, 0)) != 0)
            return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot restart an unfinished creation");
        rc = init_file(m, initial_size ? initial_size : MMAPOBJ_DEFAULT_FILE_SIZE,
                       initial_buckets ? initial_buckets : MMAPOBJ_DEFAULT_BUCKETS,
                       max_size ? max_size : MMAPOBJ_DEFAULT_MAX_FILE_SIZE);
        if (rc) {
            mo_map_release(m);
            (void)mo_pf_resize(m->file, 0); /* give back the empty file we found (best effort) */
            return rc;
        }
        rc = writer_fresh(m);
    } else {
        rc = attach(m, first ? max_size : 0, first);
        if (rc == MMAPOBJ_OK && first) rc = writer_begin(m, max_size);
    }
    if (rc == MMAPOBJ_OK) rc = mo_wlock_take_slot(m);
    if (rc == MMAPOBJ_OK && first && !m->exclusive) {
        e = mo_pf_lock_writer_shared(m->file); /* from "alone" to "one of the writers" */
        if (e) rc = mo_err_os(m, MMAPOBJ_E_IO, e, "cannot share the writer lock");
    }
    /* (never wait for the write lock while holding the gate: its holder may be closing) */
    if (!m->exclusive) mo_pf_unlock_gate(m->file);
    if (rc == MMAPOBJ_OK && !first) rc = writer_join(m, max_size);
    return rc;
}

/* Creates m->path complete: the file is built where no process sees it (an unnamed file, or a
 * named temporary next to it where the filesystem cannot) and linked into place when its
 * header and table are written, so no process sees it half made and a crash leaves nothing
 * behind (with an unnamed file). A shared writer holds the gate until it shares the writer lock,
 * so that a writer opening the new file meanwhile does not take it for an exclusive one.
 * Returns 0, 1 if the path appeared meanwhile (the caller opens it), or an error. */
static int create_new(mmapobj_map *m, uint64_t initial_size, uint64_t initial_buckets,
                      uint64_t max_size)
{
    char *tmp = NULL;
    int rc;
    int e = mo_pf_create_temp(m->path, &m->file, &tmp);
    if (e)
        return mo_err_os(m, os_code(e), e, "cannot create the file");
    m->writable = 1;
    e = mo_pf_lock_writer(m->file, 0);
    if (e == 0 && !m->exclusive) e = mo_pf_lock_gate(m->file);
    if (e) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, e, "cannot lock the new file");
        goto fail;
    }
    rc = init_file(m, initial_size, initial_buckets, max_size);
    if (rc == MMAPOBJ_OK) rc = writer_identity(m);
    if (rc == MMAPOBJ_OK) rc = writer_fresh(m);
    if (rc == MMAPOBJ_OK) rc = mo_wlock_take_slot(m);
    if (rc) goto fail;
    e = mo_pf_publish(m->file, tmp, m->path);
    if (e == EEXIST) {
        rc = 1; /* someone created it meanwhile: open theirs */
        goto fail;
    }
    if (e) {
        rc = mo_err_os(m, os_code(e), e, "cannot link the new file into place");
        goto fail;
    }
    mo_pf_remove(tmp);
    free(tmp);
    if (!m->exclusive) {
        e = mo_pf_lock_writer_shared(m->file);
        mo_pf_unlock_gate(m->file);
        if (e) return mo_err_os(m, MMAPOBJ_E_IO, e, "cannot share the writer lock");
    }
    return MMAPOBJ_OK;
fail:
    mo_pf_remove(tmp);
    free(tmp);
    mo_fi_detach(m);
    mo_map_release(m);
    mo_pf_close(m->file);
    m->file = NULL;
    m->writable = 0;
    return rc;
}

/* mmapobj_create_ex; new_only: the file must not exist (E_INVAL "exists" when it does: an existing
 * file is never opened). */
static int create_impl(const char *path, uint64_t initial_size, uint64_t initial_buckets,
                       uint64_t max_size, uint32_t flags, int new_only, mmapobj_map **out)
{
    if (out) *out = NULL;
    if (!path || !out) return mo_tls_err(path, MMAPOBJ_E_INVAL, "NULL path or out argument");
    if (!*path) return mo_tls_err(path, MMAPOBJ_E_INVAL, "empty path");
    if (flags & ~MMAPOBJ_CREATE_EXCLUSIVE)
        return mo_tls_err(path, MMAPOBJ_E_INVAL, "unknown flags 0x%x", (unsigned)flags);
    mmapobj_map *m = map_alloc(path);
    if (!m) return mo_tls_err(path, MMAPOBJ_E_NOMEM, "out of memory");
    m->exclusive = (flags & MMAPOBJ_CREATE_EXCLUSIVE) != 0;
    uint64_t isz = initial_size ? initial_size : MMAPOBJ_DEFAULT_FILE_SIZE;
    uint64_t nb = initial_buckets ? initial_buckets : MMAPOBJ_DEFAULT_BUCKETS;
    if (max_size > MO_MAX_FILE_LIMIT) max_size = MO_MAX_FILE_LIMIT;
    uint64_t mx = max_size ? max_size : MMAPOBJ_DEFAULT_MAX_FILE_SIZE;
    int rc = owner_register(m);
    if (rc) {
        mo_copy_err_to_tls(m);
        map_free(m);
        return rc;
    }
    rc = MMAPOBJ_E_IO;
    if (initial_size > mx) {
        /* most likely a size in the wrong unit: refuse rather than claim max_size of disk */
        map_free(m);
        return mo_tls_err(path, MMAPOBJ_E_INVAL, "initial_size %llu is larger than max_size %llu%s",
                          (unsigned long long)initial_size, (unsigned long long)mx,
                          max_size ? "" : " (the default)");
    }
    if (initial_buckets > (UINT64_C(1) << 38)) {
        map_free(m);
        return mo_tls_err(path, MMAPOBJ_E_INVAL, "initial_buckets %llu is too large",
                          (unsigned long long)initial_buckets);
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        if (new_only) {
            rc = create_new(m, isz, nb, mx);
            if (rc == 1) rc = mo_err(m, MMAPOBJ_E_INVAL, "exists; not replacing it");
            break;
        }
        int e = mo_pf_open(path, 1, &m->file);
        if (e == 0) {
            rc = writer_open_existing(m, initial_size, initial_buckets, max_size);
            break;
        }
        if (e != ENOENT) {
            rc = mo_err_os(m, os_code(e), e, "cannot open for writing");
            break;
        }
        rc = create_new(m, isz, nb, mx);
        if (rc != 1) break;
        rc = mo_err(m, MMAPOBJ_E_NOENT, "the name exists but does not open (a dangling symbolic "
                    "link?), or the file kept appearing and disappearing while creating it");
    }
    if (rc != MMAPOBJ_OK) {
        mo_copy_err_to_tls(m);
        if (m->writable) mo_wlock_close(m);
        map_free(m);
        return rc;
    }
    mo_wlock_register(m);
    *out = m;
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_create(const char *path, uint64_t initial_size, uint64_t initial_buckets,
                               uint64_t max_size, mmapobj_map **out)
{
    return create_impl(path, initial_size, initial_buckets, max_size, 0, 0, out);
}

MMAPOBJ_API int mmapobj_create_ex(const char *path, uint64_t initial_size,
                                  uint64_t initial_buckets, uint64_t max_size, uint32_t flags,
                                  mmapobj_map **out)
{
    return create_impl(path, initial_size, initial_buckets, max_size, flags, 0, out);
}

int mo_create_new_file(const char *path, uint64_t initial_size, uint64_t initial_buckets,
                        uint64_t max_size, mmapobj_map **out)
{
    return create_impl(path, initial_size, initial_buckets, max_size, 0, 1, out);
}

/* ---- close ------------------------------------------------------------- */

/* The last writer of a session (alone: the writer lock exclusive, and no writer can come in):
 * the free lists written back and the writers' index freed, the file shrunk to what is in use
 * when no reader has it open, the state checksum stored (the trust rule), and marked clean. */
static int writer_finish(mmapobj_map *m)
{
    struct mo_header *h = m->hdr;
    int rc = mo_wlock_acquire(m); /* repairs what a writer that died holding it left */
    if (rc) return rc;
    mo_fi_close(m);
    mo_seq_end(m);
    if (mo_pf_lock_no_readers(m->file) == 0) {
        /* no reader has the file open: shrink to what is in use */
        uint64_t ae = mo_ld(&h->alloc_end);
        if (ae < m->valid) {
            mo_st_rel(&h->file_size, ae);
            int e = mo_pf_resize(m->file, ae);
            if (e) {
                rc = mo_err_os(m, MMAPOBJ_E_IO, e, "cannot shrink the file on close");
                mo_st_rel(&h->file_size, m->valid);
            } else {
                m->valid = ae;
            }
        }
    }
    if (rc == MMAPOBJ_OK) {
        mo_trust_seal(m); /* the checksum of the state the next writer will use */
        h->state_flags &= ~MO_FLAG_DIRTY;
    }
    mo_wlock_release(m);
    return rc;
}

MMAPOBJ_API int mmapobj_close(mmapobj_map **mp)
{
    if (!mp || !*mp) return MMAPOBJ_OK;
    mmapobj_map *m = *mp;
    *mp = NULL;
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    owner_unregister(m);
    int rc = MMAPOBJ_OK;
    for (struct mmapobj_iter *it = m->iters; it; it = it->next) it->m = NULL;
    if (m->writable) {
        mo_wlock_close(m);
        mo_wlock_unregister(m);
        if (m->exclusive) {
            rc = writer_finish(m);
        } else if (mo_pf_lock_gate(m->file) == 0) {
            /* the last writer (no other handle shares the writer lock) finishes the session */
            if (mo_pf_lock_writer(m->file, 0) == 0) rc = writer_finish(m);
        }
    }
    if (rc) mo_copy_err_to_tls(m);
    map_free(m);
    return rc;
}
