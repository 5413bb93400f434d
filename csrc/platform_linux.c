/* platform_linux.c - the Linux backend of platform.h: open-file-description locks (byte 0: the
 * writers, byte 1: reader presence, byte 3: the writers' open/close gate, bytes 2^32 + i: writer
 * slots), futexes on a word of the shared mapping, O_TMPFILE + linkat for atomic creation (a named temporary
 * where the filesystem has no O_TMPFILE), posix_fallocate and getrandom. What it does as the
 * portable POSIX backend does (mappings, clocks, paths, the thread-exit hook, ...) is in
 * platform_unix.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "platform_unix.h"

struct mo_pf_file {
    int fd;
};
MO_PF_FD_FIRST;

/* renameat2's flag (<linux/fs.h>; glibc's <stdio.h> has it, musl's headers do not) */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1u << 0)
#endif

#define LOCK_WRITER_BYTE 0
#define LOCK_READERS_BYTE 1
#define LOCK_GATE_BYTE 3
#define LOCK_SLOT_BASE ((off_t)1 << 32) /* slot i is byte 2^32 + i (lock ranges, not data) */

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

int mo_pf_read(mo_pf_file *f, void *buf, size_t n, uint64_t off)
{
    ssize_t got = pread(f->fd, buf, n, (off_t)off);
    if (got < 0) return errno_or(EIO);
    return (size_t)got == n ? 0 : EIO;
}

int mo_pf_allocate(mo_pf_file *f, uint64_t off, uint64_t len)
{
    int err = posix_fallocate(f->fd, (off_t)off, (off_t)len);
    if (err == EINTR) err = posix_fallocate(f->fd, (off_t)off, (off_t)len);
    return err;
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
    char *dir = mo_pf_dir_of(path);
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

/* ---- locks --------------------------------------------------------------------------------- */

static int ofd_lock(int fd, short type, off_t start, int wait)
{
    return mo_pf_fcntl_lock(fd, F_OFD_SETLK, F_OFD_SETLKW, type, start, wait);
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
    return mo_pf_fcntl_held(f->fd, F_OFD_GETLK, LOCK_WRITER_BYTE);
}

int mo_pf_lock_writer_shared(mo_pf_file *f)
{
    return ofd_lock(f->fd, F_RDLCK, LOCK_WRITER_BYTE, 0);
}

int mo_pf_lock_gate(mo_pf_file *f)
{
    /* polled: the gate is held for short work only (and see mo_pf_fcntl_lock_polled on
     * valgrind and F_OFD_SETLKW) */
    return mo_pf_fcntl_lock_polled(f->fd, F_OFD_SETLK, F_WRLCK, LOCK_GATE_BYTE);
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
    return mo_pf_fcntl_held(f->fd, F_OFD_GETLK, LOCK_SLOT_BASE + (off_t)i);
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

/* ---- randomness ----------------------------------------------------------------------------- */

int mo_pf_random(void *buf, size_t size)
{
    ssize_t got = getrandom(buf, size, GRND_NONBLOCK);
    if (got == (ssize_t)size) return 0;
    return got < 0 ? errno_or(EIO) : EIO;
}

