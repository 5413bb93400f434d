/* platform_unix.c - the part of platform.h that the Linux backend (platform_linux.c) and the
 * portable POSIX backend (platform_posix.c) implement the same way, compiled into both (not into
 * the Windows build): stat, write and resize of an open file, rename/unlink/realpath/chmod and
 * fsync of a directory, the address space (a PROT_NONE reservation with MAP_FIXED file ranges in
 * it), the process-wide mutex, pid and liveness, clocks, valgrind detection, error text and the
 * thread-exit hook (a pthread key). What differs (opening, reading, preallocation, syncing,
 * atomic creation, locks, waits, randomness) stays in the backend. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include) && !defined(MMAPOBJ_NO_VALGRIND_H)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define MO_HAVE_VALGRIND_H 1
#endif
#endif

#include "platform_unix.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif

/* ---- files -------------------------------------------------------------------------------- */

int mo_pf_stat(mo_pf_file *f, struct mo_pf_stat *st)
{
    struct stat s;
    if (fstat(mo_pf_fd(f), &s) != 0) return errno_or(EIO);
    st->size = (uint64_t)s.st_size;
    st->regular = S_ISREG(s.st_mode) ? 1 : 0;
    st->dev = (uint64_t)s.st_dev;
    st->ino = (uint64_t)s.st_ino;
    return 0;
}

int mo_pf_write(mo_pf_file *f, const void *buf, size_t n, uint64_t off)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(mo_pf_fd(f), p, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno_or(EIO) : EIO;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int mo_pf_resize(mo_pf_file *f, uint64_t size)
{
    return ftruncate(mo_pf_fd(f), (off_t)size) == 0 ? 0 : errno_or(EIO);
}

/* ---- paths ---------------------------------------------------------------------------------- */

char *mo_pf_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
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
    if (fstat(mo_pf_fd(model), &s) != 0) return errno_or(EIO);
    return chmod(path, s.st_mode & 07777) == 0 ? 0 : errno_or(EIO);
}

int mo_pf_sync_dir(const char *path)
{
    /* a descriptor of the directory, not of a map's file: closing it drops no lock (which
     * matters to platform_posix.c, whose fcntl locks go with any close of the file) */
    char *dir = mo_pf_dir_of(path);
    if (!dir) return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = fd < 0 || fsync(fd) != 0 ? errno_or(EIO) : 0;
    if (fd >= 0) close(fd);
    free(dir);
    return e;
}

/* ---- record locks (the backends' lock bytes) --------------------------------------------------- */

int mo_pf_fcntl_lock(int fd, int setlk, int setlkw, short type, off_t start, int wait)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = 1;
    int rc;
    do {
        rc = fcntl(fd, wait ? setlkw : setlk, &fl);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) return 0;
    if (errno == EACCES) return EAGAIN; /* "held by another" is EAGAIN or EACCES */
    return errno_or(EIO);
}

int mo_pf_fcntl_lock_polled(int fd, int setlk, short type, off_t start)
{
    /* Polled, not F_OFD_SETLKW / F_SETLKW: valgrind (3.19) does not know that F_OFD_SETLKW
     * blocks, so a thread waiting in it would stop every other thread of its process there, the
     * lock's holder among them. */
    for (unsigned i = 0;; i++) {
        int e = mo_pf_fcntl_lock(fd, setlk, setlk, type, start, 0);
        if (e != EAGAIN) return e;
        struct timespec ts = {0, i < 16 ? 20000L : i < 200 ? 200000L : 2000000L};
        nanosleep(&ts, NULL);
    }
}

int mo_pf_fcntl_held(int fd, int getlk, off_t start)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = 1;
    if (fcntl(fd, getlk, &fl) != 0) return 1; /* cannot tell: assume alive */
    return fl.l_type != F_UNLCK;
}

/* ---- process-wide lock ------------------------------------------------------------------------ */

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
    if (mmap(addr, (size_t)len, prot, MAP_SHARED | MAP_FIXED, mo_pf_fd(f), (off_t)off) ==
        MAP_FAILED)
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

/* ---- process, time -------------------------------------------------------------------------- */

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
 * preload valgrind puts into every program it runs (vgpreload_core-<arch>-<os>.so, through
 * LD_PRELOAD, or DYLD_INSERT_LIBRARIES on macOS), so that the answer never depends on which
 * development headers were installed. */
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
    pre = getenv("DYLD_INSERT_LIBRARIES");
    if (pre && strstr(pre, "/vgpreload_core-")) v = 1;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

const char *mo_pf_strerror(int errnum, char *buf, size_t cap)
{
    if (cap == 0) return "";
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(errnum, buf, cap); /* the GNU variant: returns the text */
#else
    /* the XSI variant (musl, macOS, BSDs): fills buf, returns 0 or an error */
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
