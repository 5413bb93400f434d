/* file.c - open/create/grow/remap/close of a map: address reservation at a fixed base, the
 * file mapping inside it, OFD locks (byte 0 writer, byte 1 readers), atomic creation through a
 * temporary file, flush, and the handle queries (path, writable, count, stat). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* ---- locks ---------------------------------------------------------------------------- */

static int ofd_lock(int fd, short type, off_t start, int wait)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = 1;
    int rc;
    do {
        rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

/* 1 if some open file description holds a write lock on byte 0 (a live writer). */
int mo_writer_alive(mmapobj_map *m)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (fcntl(m->fd, F_OFD_GETLK, &fl) != 0) return 1; /* cannot tell: assume alive */
    return fl.l_type != F_UNLCK;
}

/* ---- mapping -------------------------------------------------------------------------- */

static uint64_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (uint64_t)p : 4096u;
}

static mmapobj_map *map_alloc(const char *path)
{
    mmapobj_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->path = strdup(path);
    if (!m->path) {
        free(m);
        return NULL;
    }
    m->fd = -1;
    m->page = page_size();
    m->magic = MO_MAP_MAGIC;
    return m;
}

static void map_free(mmapobj_map *m)
{
    if (!m) return;
    if (m->base) munmap(m->base, m->reserve);
    if (m->fd >= 0) close(m->fd);
    m->magic = 0;
    mo_fi_destroy(m);
    free(m->scratch);
    free(m->path);
    free(m);
}

/* Reserves address space for `reserve` bytes (falling back to `minimum`) and maps the first
 * `size` bytes of the file at its start. */
static int map_setup(mmapobj_map *m, uint64_t size, uint64_t reserve, uint64_t minimum)
{
    int prot = PROT_READ | (m->writable ? PROT_WRITE : 0);
    uint64_t res = mo_round_up(reserve, m->page);
    if (res < mo_round_up(minimum, m->page)) res = mo_round_up(minimum, m->page);
    void *b = MAP_FAILED;
    if (res <= (uint64_t)SIZE_MAX)
        b = mmap(NULL, (size_t)res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b == MAP_FAILED && !m->writable) {
        /* a reader can live with a smaller reservation and report E_RESERVE later */
        res = mo_round_up(minimum, m->page);
        if (res <= (uint64_t)SIZE_MAX)
            b = mmap(NULL, (size_t)res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    }
    if (b == MAP_FAILED)
        return mo_err_os(m, MMAPOBJ_E_NOMEM, errno, "cannot reserve %llu bytes of address space",
                         (unsigned long long)res);
    m->base = b;
    m->reserve = res;
    uint64_t len = mo_round_up(size, m->page);
    if (mmap(m->base, (size_t)len, prot, MAP_SHARED | MAP_FIXED, m->fd, 0) == MAP_FAILED)
        return mo_err_os(m, errno == ENOMEM ? MMAPOBJ_E_NOMEM : MMAPOBJ_E_IO, errno,
                         "cannot map %llu bytes", (unsigned long long)len);
    m->mapped = len;
    m->valid = size;
    m->hdr = (struct mo_header *)(void *)m->base;
    return MMAPOBJ_OK;
}

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MO_HAVE_VALGRIND_H 1
#endif
#endif

/* 1 when running under valgrind (or when that cannot be told: then the safe whole remap). */
static int mo_under_valgrind(void)
{
#ifdef MO_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 1;
#endif
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
        int prot = PROT_READ | (m->writable ? PROT_WRITE : 0);
        uint64_t from = mo_under_valgrind() ? 0 : m->mapped;
        if (mmap(m->base + from, (size_t)(len - from), prot, MAP_SHARED | MAP_FIXED, m->fd,
                 (off_t)from) == MAP_FAILED) {
            int e = errno;
            /* a failed MAP_FIXED may have left a hole: keep the range reserved, and put the old
             * mapping back if it was part of the range */
            if (mmap(m->base + m->mapped, (size_t)(len - m->mapped), PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
            }
            if (from == 0 && mmap(m->base, (size_t)m->mapped, prot, MAP_SHARED | MAP_FIXED,
                                  m->fd, 0) == MAP_FAILED) {
            }
            return mo_err_os(m, MMAPOBJ_E_NOMEM, e, "cannot extend the mapping to %llu bytes",
                             (unsigned long long)len);
        }
        m->mapped = len;
    }
    if (size > m->valid) m->valid = size;
    return MMAPOBJ_OK;
}

/* Reader slow path: the file may have grown; extend the mapping to its real size.
 * Returns OK if the mapping grew, MMAPOBJ_NOTFOUND if it did not, or an error. */
int mo_reader_remap(mmapobj_map *m)
{
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mo_err_os(m, MMAPOBJ_E_IO, errno, "fstat");
    uint64_t size = (uint64_t)st.st_size;
    if (size <= m->valid) return MMAPOBJ_NOTFOUND;
    if (size > m->reserve && m->reserve > m->valid) {
        /* the file outgrew the reservation: map what fits (lookups that stay inside it keep
         * working); the next call that needs more reports E_RESERVE */
        size = m->reserve;
    }
    return map_extend(m, size);
}

/* Writer: grows the file so that [0, need_end) exists, doubling, up to max_file_size. */
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
    int err = posix_fallocate(m->fd, (off_t)cur, (off_t)(target - cur));
    if (err == EINTR) err = posix_fallocate(m->fd, (off_t)cur, (off_t)(target - cur));
    if (err != 0) {
        /* undo a partial extension so that nothing changed */
        if (ftruncate(m->fd, (off_t)cur) != 0) { /* nothing more we can do */
        }
        return mo_err_os(m, mo_code_from_errno(err) == MMAPOBJ_E_NOSPC ? MMAPOBJ_E_NOSPC
                                                                        : MMAPOBJ_E_IO,
                         err, "cannot grow the file to %llu bytes", (unsigned long long)target);
    }
    int rc = map_extend(m, target);
    if (rc != MMAPOBJ_OK) {
        if (ftruncate(m->fd, (off_t)cur) != 0) {
        }
        return rc;
    }
    mo_st_rel(&h->file_size, target);
    return MMAPOBJ_OK;
}

/* ---- open ----------------------------------------------------------------------------- */

static int open_errno(const char *path, int errnum, const char *what)
{
    char tmp[128];
    const char *s = strerror_r(errnum, tmp, sizeof tmp);
    return mo_tls_err(path, mo_code_from_errno(errnum) == MMAPOBJ_E_LOCKED
                                ? MMAPOBJ_E_IO
                                : mo_code_from_errno(errnum),
                      "%s: %s", what, s);
}

/* Maps and checks an opened file descriptor (m->fd set, lock taken). */
static int attach(mmapobj_map *m, uint64_t max_override)
{
    struct stat st;
    uint64_t size;
    struct mo_header hb;
    char msg[MO_ERRMSG_CAP - 64];
    int rc;
    /* A live writer grows the file (fallocate) before it publishes the new file_size, so a
     * header that claims more than fstat saw may just be newer than our fstat: look again a
     * few times before calling the file truncated. */
    for (int attempt = 0;; attempt++) {
        if (fstat(m->fd, &st) != 0) return mo_err_os(m, MMAPOBJ_E_IO, errno, "fstat");
        if (!S_ISREG(st.st_mode))
            return mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
        size = (uint64_t)st.st_size;
        if (size < MO_HEADER_SIZE)
            return mo_err(m, MMAPOBJ_E_TOOSMALL, "file has %llu bytes, less than the %u-byte "
                          "header (empty or truncated)", (unsigned long long)size, MO_HEADER_SIZE);
        /* read the header privately first so that a hostile max_file_size never sizes a
         * mapping before the header is checked */
        ssize_t got = pread(m->fd, &hb, sizeof hb, 0);
        if (got != (ssize_t)sizeof hb)
            return mo_err_os(m, MMAPOBJ_E_IO, got < 0 ? errno : EIO, "cannot read the header");
        rc = mo_header_check((const uint8_t *)&hb, size, m->path, msg, sizeof msg);
        if (rc != MMAPOBJ_E_TOOSMALL || m->writable || attempt >= 100) break;
        sched_yield();
    }
    if (rc) return mo_err(m, rc, "%s", msg);
    uint64_t maxfs = hb.max_file_size;
    if (max_override) maxfs = max_override;
    uint64_t reserve = maxfs > size ? maxfs : size;
    /* a reader reserves what the writer may grow to; the minimum is the file as it is */
    rc = map_setup(m, size, reserve, size);
    if (rc) return rc;
    for (int attempt = 0;; attempt++) {
        uint64_t s1 = mo_ld_acq(&m->hdr->seq);
        rc = mo_header_check(m->base, size, m->path, msg, sizeof msg);
        if (rc == MMAPOBJ_OK) rc = mo_table_marker_check(m->base, msg, sizeof msg);
        atomic_thread_fence(memory_order_acquire);
        uint64_t s2 = mo_ld(&m->hdr->seq);
        if (rc == MMAPOBJ_OK || m->writable || attempt > 100) break;
        if (rc == MMAPOBJ_E_TOOSMALL) {
            /* the writer grew the file since our fstat: follow it, then look again */
            int r2 = mo_reader_remap(m);
            if (r2 != MMAPOBJ_OK && r2 != MMAPOBJ_NOTFOUND) return r2;
            size = m->valid;
        } else if (s1 == s2) {
            break;
        }
        sched_yield();
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
    int rc;
    /* O_NONBLOCK: opening a FIFO must not wait for a peer; the S_ISREG check below rejects it */
    m->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (m->fd < 0) {
        rc = open_errno(path, errno, "cannot open");
        map_free(m);
        return rc;
    }
    struct stat st;
    if (fstat(m->fd, &st) != 0) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, errno, "fstat");
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
        goto fail;
    }
    /* shared lock on byte 1: a closing writer shrinks the file only when it can take it */
    if (ofd_lock(m->fd, F_RDLCK, 1, 1) != 0) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, errno, "cannot take the reader lock");
        goto fail;
    }
    rc = attach(m, 0);
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
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
            (uint64_t)(uintptr_t)&s;
    }
    return s;
}

/* Initialises a fresh file (m->fd locked, size 0 or new) in place. */
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
    int err = posix_fallocate(m->fd, 0, (off_t)size);
    if (err != 0)
        return mo_err_os(m, mo_code_from_errno(err) == MMAPOBJ_E_NOSPC ? MMAPOBJ_E_NOSPC
                                                                        : MMAPOBJ_E_IO,
                         err, "cannot allocate %llu bytes", (unsigned long long)size);
    int rc = map_setup(m, size, max_size, size);
    if (rc) return rc;
    struct mo_header *h = m->hdr;
    mo_header_init(h, random_seed(), size, max_size, table_off, lg);
    uint8_t *t = m->base + table_off;
    uint32_t marker = MO_TABLE_MARKER;
    memcpy(t, &marker, 4);
    memcpy(t + 4, &lg, 4);
    memset(t + 8, 0, 8 + ((size_t)8 << lg));
    m->seed = h->hash_seed;
    m->class_count = h->class_count;
    return MMAPOBJ_OK;
}

/* Writer setup common to new and existing files once the header is valid. */
static int writer_begin(mmapobj_map *m, uint64_t max_size)
{
    struct mo_header *h = m->hdr;
    uint64_t ae = mo_ld(&h->alloc_end);
    uint64_t fs = mo_ld(&h->file_size);
    if (ae < MO_HEADER_SIZE || ae > fs)
        return mo_err(m, MMAPOBJ_E_CORRUPT, "alloc_end %llu outside [8192, file_size %llu]",
                      (unsigned long long)ae, (unsigned long long)fs);
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
    int dirty = (h->state_flags & MO_FLAG_DIRTY) != 0;
    if ((mo_ld(&h->seq) & 1) != 0) {
        mo_st_rel(&h->seq, mo_ld(&h->seq) + 1);
        dirty = 1;
    }
    h->writer_pid = (uint32_t)getpid();
    h->state_flags |= MO_FLAG_DIRTY;
    /* bytes inside the file may still be read through old offsets by readers of an earlier
     * session: only space the writer grows from here on is fresh */
    m->fresh_from = m->valid;
    int rc = mo_fi_init(m);
    if (rc) return rc;
    /* a clean file's free lists are loaded; a dead writer's file, or damaged lists, get the
     * free space rebuilt from the gaps between live blocks */
    if (!dirty && mo_fi_load(m) != MMAPOBJ_OK) dirty = 1;
    if (dirty) rc = mo_repair(m);
    return rc;
}

static int writer_open_existing(mmapobj_map *m, uint64_t initial_size, uint64_t initial_buckets,
                                uint64_t max_size)
{
    struct stat st;
    if (fstat(m->fd, &st) != 0) return mo_err_os(m, MMAPOBJ_E_IO, errno, "fstat");
    if (!S_ISREG(st.st_mode)) return mo_err(m, MMAPOBJ_E_NOTREG, "not a regular file");
    if (ofd_lock(m->fd, F_WRLCK, 0, 0) != 0) {
        if (errno == EAGAIN || errno == EACCES)
            return mo_err(m, MMAPOBJ_E_LOCKED, "file is locked by another writer");
        return mo_err_os(m, MMAPOBJ_E_IO, errno, "cannot take the writer lock");
    }
    m->writable = 1;
    if (st.st_size == 0) {
        /* an empty file (e.g. made by touch) becomes a new map */
        int rc = init_file(m, initial_size ? initial_size : MMAPOBJ_DEFAULT_FILE_SIZE,
                           initial_buckets ? initial_buckets : MMAPOBJ_DEFAULT_BUCKETS,
                           max_size ? max_size : MMAPOBJ_DEFAULT_MAX_FILE_SIZE);
        if (rc) return rc;
        return writer_begin(m, 0);
    }
    int rc = attach(m, max_size);
    if (rc) return rc;
    return writer_begin(m, max_size);
}

/* Opens an unnamed file (O_TMPFILE) in the directory of m->path; -1 with errno when the
 * directory does not exist, or 0 with m->fd = -1 when the filesystem cannot make one. */
static int open_unnamed(mmapobj_map *m)
{
    /* linking an unnamed file in needs /proc (AT_EMPTY_PATH needs a capability): without /proc
     * use a named temporary */
    m->fd = -1;
    if (access("/proc/self/fd", X_OK) != 0) return 0;
    const char *slash = strrchr(m->path, '/');
    char *dir = slash ? strndup(m->path, slash == m->path ? 1 : (size_t)(slash - m->path))
                      : strdup(".");
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    m->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    int e = errno;
    free(dir);
    if (m->fd >= 0) return 0;
    if (e == EOPNOTSUPP || e == EISDIR || e == EINVAL || e == ENOSYS) return 0; /* no O_TMPFILE */
    errno = e;
    return -1;
}

/* Links the complete file into place at m->path: an unnamed file through /proc/self/fd (or
 * AT_EMPTY_PATH), a named temporary with link(). 0, 1 when m->path exists by now, or an error. */
static int publish(mmapobj_map *m, const char *tmp)
{
    int e;
    if (!tmp) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", m->fd);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, m->path, AT_SYMLINK_FOLLOW) == 0) return 0;
        e = errno;
        if (e != EEXIST && linkat(m->fd, "", AT_FDCWD, m->path, AT_EMPTY_PATH) == 0) return 0;
        if (e != EEXIST) e = errno;
    } else {
        if (link(tmp, m->path) == 0) return 0;
        e = errno;
        if (e == EPERM || e == EOPNOTSUPP || e == ENOSYS) {
            if (renameat2(AT_FDCWD, tmp, AT_FDCWD, m->path, RENAME_NOREPLACE) == 0) return 0;
            e = errno;
        }
    }
    if (e == EEXIST) return 1; /* someone created it meanwhile: open theirs */
    return mo_err_os(m, mo_code_from_errno(e) == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO
                                                                   : mo_code_from_errno(e),
                     e, "cannot link the new file into place");
}

/* Creates m->path complete: the file is built unnamed (O_TMPFILE; a named temporary next to it
 * where the filesystem has no O_TMPFILE) and linked into place when its header and table are
 * written, so no process sees it half made and a crash leaves nothing behind (with O_TMPFILE).
 * Returns 0, 1 if the path appeared meanwhile (the caller opens it), or an error. */
static int create_new(mmapobj_map *m, uint64_t initial_size, uint64_t initial_buckets,
                      uint64_t max_size)
{
    char *tmp = NULL;
    int rc;
    m->fd = -1;
    if (open_unnamed(m) != 0) {
        int e = errno;
        return mo_err_os(m, mo_code_from_errno(e) == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO
                                                                       : mo_code_from_errno(e),
                         e, "cannot create the file");
    }
    if (m->fd < 0) {
        size_t n = strlen(m->path);
        tmp = malloc(n + 32);
        if (!tmp) return mo_err(m, MMAPOBJ_E_NOMEM, "out of memory");
        for (int i = 0; i < 100 && m->fd < 0; i++) {
            snprintf(tmp, n + 32, "%s.tmp-%016llx", m->path, (unsigned long long)random_seed());
            m->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
            if (m->fd < 0 && errno != EEXIST) break;
        }
        if (m->fd < 0) {
            int e = errno;
            free(tmp);
            return mo_err_os(m, mo_code_from_errno(e) == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO
                                                                           : mo_code_from_errno(e),
                             e, "cannot create a temporary file next to it");
        }
    }
    m->writable = 1;
    if (ofd_lock(m->fd, F_WRLCK, 0, 0) != 0) {
        rc = mo_err_os(m, MMAPOBJ_E_IO, errno, "cannot lock the new file");
        goto fail;
    }
    rc = init_file(m, initial_size, initial_buckets, max_size);
    if (rc == MMAPOBJ_OK) rc = mo_fi_init(m);
    if (rc) goto fail;
    m->hdr->writer_pid = (uint32_t)getpid();
    m->hdr->state_flags |= MO_FLAG_DIRTY;
    rc = publish(m, tmp);
    if (rc) goto fail;
    if (tmp) unlink(tmp);
    free(tmp);
    m->fresh_from = mo_ld(&m->hdr->alloc_end);
    return MMAPOBJ_OK;
fail:
    if (tmp) unlink(tmp);
    free(tmp);
    if (m->base) munmap(m->base, m->reserve);
    m->base = NULL;
    m->hdr = NULL;
    close(m->fd);
    m->fd = -1;
    m->writable = 0;
    return rc;
}

MMAPOBJ_API int mmapobj_create(const char *path, uint64_t initial_size, uint64_t initial_buckets,
                               uint64_t max_size, mmapobj_map **out)
{
    if (out) *out = NULL;
    if (!path || !out) return mo_tls_err(path, MMAPOBJ_E_INVAL, "NULL path or out argument");
    if (!*path) return mo_tls_err(path, MMAPOBJ_E_INVAL, "empty path");
    mmapobj_map *m = map_alloc(path);
    if (!m) return mo_tls_err(path, MMAPOBJ_E_NOMEM, "out of memory");
    uint64_t isz = initial_size ? initial_size : MMAPOBJ_DEFAULT_FILE_SIZE;
    uint64_t nb = initial_buckets ? initial_buckets : MMAPOBJ_DEFAULT_BUCKETS;
    if (max_size > MO_MAX_FILE_LIMIT) max_size = MO_MAX_FILE_LIMIT;
    uint64_t mx = max_size ? max_size : MMAPOBJ_DEFAULT_MAX_FILE_SIZE;
    int rc = MMAPOBJ_E_IO;
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
        m->fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (m->fd >= 0) {
            rc = writer_open_existing(m, initial_size, initial_buckets, max_size);
            break;
        }
        if (errno != ENOENT) {
            int e = errno;
            rc = mo_err_os(m, mo_code_from_errno(e) == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO
                                                                         : mo_code_from_errno(e),
                           e, "cannot open for writing");
            break;
        }
        rc = create_new(m, isz, nb, mx);
        if (rc != 1) break;
        rc = mo_err(m, MMAPOBJ_E_NOENT, "the name exists but does not open (a dangling symbolic "
                    "link?), or the file kept appearing and disappearing while creating it");
    }
    if (rc != MMAPOBJ_OK) {
        mo_copy_err_to_tls(m);
        map_free(m);
        return rc;
    }
    *out = m;
    return MMAPOBJ_OK;
}

/* ---- close, flush, queries ------------------------------------------------------------- */

MMAPOBJ_API int mmapobj_close(mmapobj_map **mp)
{
    if (!mp || !*mp) return MMAPOBJ_OK;
    mmapobj_map *m = *mp;
    *mp = NULL;
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    int rc = MMAPOBJ_OK;
    for (struct mmapobj_iter *it = m->iters; it; it = it->next) it->m = NULL;
    if (m->writable) {
        struct mo_header *h = m->hdr;
        if (m->seq_odd) mo_seq_end(m);
        mo_fi_persist(m); /* the file's free lists, for the next writer */
        if (ofd_lock(m->fd, F_WRLCK, 1, 0) == 0) {
            /* no reader has the file open: shrink to what is in use */
            uint64_t ae = mo_ld(&h->alloc_end);
            if (ae < m->valid) {
                mo_st_rel(&h->file_size, ae);
                if (ftruncate(m->fd, (off_t)ae) != 0) {
                    rc = mo_err_os(m, MMAPOBJ_E_IO, errno, "cannot shrink the file on close");
                    mo_st_rel(&h->file_size, m->valid);
                } else {
                    m->valid = ae;
                }
            }
            if (rc == MMAPOBJ_OK) h->state_flags &= ~MO_FLAG_DIRTY;
        } else {
            h->state_flags &= ~MO_FLAG_DIRTY;
        }
    }
    if (rc) mo_copy_err_to_tls(m);
    map_free(m);
    return rc;
}

MMAPOBJ_API int mmapobj_flush(mmapobj_map *m)
{
    if (!mo_is_map(m)) return MMAPOBJ_E_CLOSED;
    if (!m->writable) return MMAPOBJ_OK;
    if (msync(m->base, (size_t)m->mapped, MS_SYNC) != 0)
        return mo_err_os(m, MMAPOBJ_E_IO, errno, "msync");
    if (fsync(m->fd) != 0) return mo_err_os(m, MMAPOBJ_E_IO, errno, "fsync");
    return MMAPOBJ_OK;
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
        out->writer_pid = (int32_t)getpid();
    else
        out->writer_pid = mo_writer_alive(m) ? (int32_t)h->writer_pid : 0;
    out->count_string = mo_ld(&h->count_string);
    out->count_number = mo_ld(&h->count_number);
    out->count_bytes = mo_ld(&h->count_bytes);
    return MMAPOBJ_OK;
}
