/* platform_linux.c - the Linux backend of platform.h: open-file-description locks (byte 0: the
 * writers, byte 1: reader presence, byte 3: the writers' open/close gate, bytes 2^32 + i: writer
 * slots), futexes on a word of the shared mapping, O_TMPFILE + linkat for atomic creation (a named temporary
 * where the filesystem has no O_TMPFILE), posix_fallocate, getrandom, mmap of a PROT_NONE
 * reservation with MAP_FIXED file ranges in it, and a pthread key for the thread-exit hook. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include) && !defined(MMAPOBJ_NO_VALGRIND_H)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MO_HAVE_VALGRIND_H 1
#endif
#endif

#include "platform.h"

struct mo_pf_file {
    int fd;
};

/* renameat2's flag (<linux/fs.h>; glibc's <stdio.h> has it, musl's headers do not) */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1u << 0)
#endif

#define LOCK_WRITER_BYTE 0
#define LOCK_READERS_BYTE 1
#define LOCK_GATE_BYTE 3
#define LOCK_SLOT_BASE ((off_t)1 << 32) /* slot i is byte 2^32 + i (lock ranges, not data) */

static int errno_or(int fallback)
{
    return errno ? errno : fallback;
}

static int wrap_fd(int fd, mo_pf_file **out)
{
    mo_pf_file *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return ENOMEM;
    }
    f->fd = fd;
    *out = f;
    return 0;
}

/* ---- files -------------------------------------------------------------------------------- */

int mo_pf_open(const char *path, int writable, mo_pf_file **out)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a peer; the caller's regular-file check
     * rejects it */
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return errno_or(EIO);
    return wrap_fd(fd, out);
}

void mo_pf_close(mo_pf_file *f)
{
    if (!f) return;
    if (f->fd >= 0) close(f->fd);
    free(f);
}

int mo_pf_stat(mo_pf_file *f, struct mo_pf_stat *st)
{
    struct stat s;
    if (fstat(f->fd, &s) != 0) return errno_or(EIO);
    st->size = (uint64_t)s.st_size;
    st->regular = S_ISREG(s.st_mode) ? 1 : 0;
    st->dev = (uint64_t)s.st_dev;
    st->ino = (uint64_t)s.st_ino;
    return 0;
}

int mo_pf_read(mo_pf_file *f, void *buf, size_t n, uint64_t off)
{
    ssize_t got = pread(f->fd, buf, n, (off_t)off);
    if (got < 0) return errno_or(EIO);
    return (size_t)got == n ? 0 : EIO;
}

int mo_pf_write(mo_pf_file *f, const void *buf, size_t n, uint64_t off)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(f->fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno_or(EIO) : EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int mo_pf_allocate(mo_pf_file *f, uint64_t off, uint64_t len)
{
    int err = posix_fallocate(f->fd, (off_t)off, (off_t)len);
    if (err == EINTR) err = posix_fallocate(f->fd, (off_t)off, (off_t)len);
    return err;
}

int mo_pf_resize(mo_pf_file *f, uint64_t size)
{
    return ftruncate(f->fd, (off_t)size) == 0 ? 0 : errno_or(EIO);
}

int mo_pf_sync(mo_pf_file *f)
{
    return fsync(f->fd) == 0 ? 0 : errno_or(EIO);
}

/* ---- atomic creation ------------------------------------------------------------------------ */

/* An unnamed file (O_TMPFILE) in the directory of path: 0 with *fd set, 0 with *fd = -1 when
 * the filesystem (or a missing /proc) cannot make or link one, or an errno. */
static int open_unnamed(const char *path, int *fd)
{
    /* linking an unnamed file in needs /proc (AT_EMPTY_PATH needs a capability): without /proc
     * use a named temporary */
    *fd = -1;
    if (access("/proc/self/fd", X_OK) != 0) return 0;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return ENOMEM;
    *fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    int e = errno;
    free(dir);
    if (*fd >= 0) return 0;
    if (e == EOPNOTSUPP || e == EISDIR || e == EINVAL || e == ENOSYS) return 0; /* no O_TMPFILE */
    return e ? e : EIO;
}

int mo_pf_create_temp(const char *path, mo_pf_file **out, char **tmpname)
{
    int fd;
    *out = NULL;
    *tmpname = NULL;
    int e = open_unnamed(path, &fd);
    if (e) return e;
    if (fd >= 0) return wrap_fd(fd, out);
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return ENOMEM;
    for (int i = 0; i < 100 && fd < 0; i++) {
        uint64_t r = 0;
        if (mo_pf_random(&r, sizeof r) != 0)
            r = mo_pf_monotonic_ns() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&r;
        snprintf(tmp, n + 32, "%s.tmp-%016llx", path, (unsigned long long)r);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        e = errno_or(EIO);
        free(tmp);
        return e;
    }
    e = wrap_fd(fd, out);
    if (e) {
        unlink(tmp);
        free(tmp);
        return e;
    }
    *tmpname = tmp;
    return 0;
}

int mo_pf_publish(mo_pf_file *f, const char *tmpname, const char *path)
{
    int e;
    if (!tmpname) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) return 0;
        e = errno;
        if (e != EEXIST && linkat(f->fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) return 0;
        if (e != EEXIST) e = errno;
    } else {
        if (link(tmpname, path) == 0) return 0;
        e = errno;
        if (e == EPERM || e == EOPNOTSUPP || e == ENOSYS) {
            /* the system call itself: musl has no renameat2() wrapper, and glibc's needs 2.28 */
            if (syscall(SYS_renameat2, AT_FDCWD, tmpname, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
                return 0;
            e = errno;
        }
    }
    return e ? e : EIO;
}

int mo_pf_replace(const char *src, const char *dst)
{
    return rename(src, dst) == 0 ? 0 : errno_or(EIO);
}

void mo_pf_remove(const char *path)
{
    if (path) unlink(path);
}

char *mo_pf_resolve(const char *path, int *err)
{
    char *r = realpath(path, NULL);
    if (!r) *err = errno_or(EIO);
    return r;
}

int mo_pf_copy_mode(mo_pf_file *model, const char *path)
{
    struct stat s;
    if (fstat(model->fd, &s) != 0) return errno_or(EIO);
    return chmod(path, s.st_mode & 07777) == 0 ? 0 : errno_or(EIO);
}

int mo_pf_sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = fd < 0 || fsync(fd) != 0 ? errno_or(EIO) : 0;
    if (fd >= 0) close(fd);
    free(dir);
    return e;
}

/* ---- locks --------------------------------------------------------------------------------- */

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
    if (rc == 0) return 0;
    if (errno == EACCES) return EAGAIN; /* "held by another" is EAGAIN or EACCES */
    return errno_or(EIO);
}

int mo_pf_lock_writer(mo_pf_file *f, int wait)
{
    return ofd_lock(f->fd, F_WRLCK, LOCK_WRITER_BYTE, wait);
}

int mo_pf_lock_reader(mo_pf_file *f)
{
    return ofd_lock(f->fd, F_RDLCK, LOCK_READERS_BYTE, 1);
}

int mo_pf_lock_no_readers(mo_pf_file *f)
{
    return ofd_lock(f->fd, F_WRLCK, LOCK_READERS_BYTE, 0);
}

int mo_pf_writer_alive(mo_pf_file *f)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = LOCK_WRITER_BYTE;
    fl.l_len = 1;
    if (fcntl(f->fd, F_OFD_GETLK, &fl) != 0) return 1; /* cannot tell: assume alive */
    return fl.l_type != F_UNLCK;
}

int mo_pf_lock_writer_shared(mo_pf_file *f)
{
    return ofd_lock(f->fd, F_RDLCK, LOCK_WRITER_BYTE, 0);
}

int mo_pf_lock_gate(mo_pf_file *f)
{
    /* Polled, not F_OFD_SETLKW: the gate is held for short work only, and valgrind (3.19) does
     * not know that F_OFD_SETLKW blocks, so a thread waiting in it would stop every other thread
     * of its process there, the gate's holder among them. */
    for (unsigned i = 0;; i++) {
        int e = ofd_lock(f->fd, F_WRLCK, LOCK_GATE_BYTE, 0);
        if (e != EAGAIN) return e;
        struct timespec ts = {0, i < 16 ? 20000L : i < 200 ? 200000L : 2000000L};
        nanosleep(&ts, NULL);
    }
}

void mo_pf_unlock_gate(mo_pf_file *f)
{
    (void)ofd_lock(f->fd, F_UNLCK, LOCK_GATE_BYTE, 0);
}

int mo_pf_lock_slot(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS) return EINVAL;
    return ofd_lock(f->fd, F_WRLCK, LOCK_SLOT_BASE + (off_t)i, 0);
}

int mo_pf_slot_alive(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS) return 0; /* no handle can hold it */
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = LOCK_SLOT_BASE + (off_t)i;
    fl.l_len = 1;
    if (fcntl(f->fd, F_OFD_GETLK, &fl) != 0) return 1; /* cannot tell: assume alive */
    return fl.l_type != F_UNLCK;
}

void mo_pf_wait32(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    /* a shared (not FUTEX_PRIVATE) futex: the word lives in a file mapping of several processes */
    struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
    (void)syscall(SYS_futex, addr, FUTEX_WAIT, expected, &ts, NULL, 0);
}

void mo_pf_wake32(uint32_t *addr)
{
    (void)syscall(SYS_futex, addr, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static pthread_mutex_t global_mutex = PTHREAD_MUTEX_INITIALIZER;

void mo_pf_global_lock(void)
{
    (void)pthread_mutex_lock(&global_mutex);
}

void mo_pf_global_unlock(void)
{
    (void)pthread_mutex_unlock(&global_mutex);
}

/* ---- address space -------------------------------------------------------------------------- */

uint64_t mo_pf_page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (uint64_t)p : 4096u;
}

int mo_pf_reserve(uint64_t size, void **base)
{
    *base = NULL;
    if (size > (uint64_t)SIZE_MAX) return ENOMEM;
    void *b = mmap(NULL, (size_t)size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   0);
    if (b == MAP_FAILED) return errno_or(ENOMEM);
    *base = b;
    return 0;
}

int mo_pf_map(void *addr, mo_pf_file *f, uint64_t off, uint64_t len, int writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    if (len > (uint64_t)SIZE_MAX) return ENOMEM;
    if (mmap(addr, (size_t)len, prot, MAP_SHARED | MAP_FIXED, f->fd, (off_t)off) == MAP_FAILED)
        return errno_or(ENOMEM);
    return 0;
}

int mo_pf_unmap_range(void *addr, uint64_t len)
{
    if (mmap(addr, (size_t)len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
             -1, 0) == MAP_FAILED)
        return errno_or(ENOMEM);
    return 0;
}

void mo_pf_release(void *base, uint64_t size)
{
    if (base) munmap(base, (size_t)size);
}

int mo_pf_flush_range(void *addr, uint64_t len)
{
    return msync(addr, (size_t)len, MS_SYNC) == 0 ? 0 : errno_or(EIO);
}

/* ---- process, time, randomness ------------------------------------------------------------- */

int mo_pf_random(void *buf, size_t size)
{
    ssize_t got = getrandom(buf, size, GRND_NONBLOCK);
    if (got == (ssize_t)size) return 0;
    return got < 0 ? errno_or(EIO) : EIO;
}

uint32_t mo_pf_pid(void)
{
    return (uint32_t)getpid();
}

int mo_pf_process_alive(uint32_t pid)
{
    if (pid == 0 || pid > INT32_MAX) return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

uint64_t mo_pf_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mo_pf_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mo_pf_yield(void)
{
    sched_yield();
}

/* Valgrind's own client request where its header was there at build time; in any case the
 * preload valgrind puts into every program it runs (vgpreload_core-<arch>-<os>.so), so that the
 * answer never depends on which development headers were installed. */
int mo_pf_under_valgrind(void)
{
    static _Atomic int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v >= 0) return v;
    v = 0;
#ifdef MO_HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND) v = 1;
#endif
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "/vgpreload_core-")) v = 1;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

const char *mo_pf_strerror(int errnum, char *buf, size_t cap)
{
#if defined(__GLIBC__)
    return strerror_r(errnum, buf, cap); /* the GNU variant: returns the text */
#else
    /* the XSI variant (musl): fills buf, returns 0 or an error */
    if (cap == 0) return "";
    if (strerror_r(errnum, buf, cap) != 0) snprintf(buf, cap, "error %d", errnum);
    return buf;
#endif
}

/* ---- thread exit ---------------------------------------------------------------------------- */

static pthread_key_t hook_key;
static int hook_err = EAGAIN; /* until the key exists */
static void (*_Atomic hook_fn)(void *);
static pthread_once_t hook_once = PTHREAD_ONCE_INIT;

/* The key's destructor: pthread calls it at the exit of a thread whose value is not NULL. */
static void hook_run(void *v)
{
    void (*fn)(void *) = atomic_load(&hook_fn);
    if (v && fn) fn(v);
}

static void hook_create(void)
{
    hook_err = pthread_key_create(&hook_key, hook_run);
}

int mo_pf_thread_hook_init(void (*fn)(void *))
{
    void (*none)(void *) = NULL;
    atomic_compare_exchange_strong(&hook_fn, &none, fn);
    pthread_once(&hook_once, hook_create);
    return hook_err;
}

int mo_pf_thread_hook_arm(void *v)
{
    if (hook_err) return hook_err; /* mo_pf_thread_hook_init has made the key (ordered by once) */
    return pthread_setspecific(hook_key, v);
}
