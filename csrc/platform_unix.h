/* platform_unix.h - what the two POSIX backends of platform.h (platform_linux.c and
 * platform_posix.c) share with platform_unix.c, which implements the part of platform.h that is
 * the same on both: stat/write/resize of a file, paths, the address space, process, clocks,
 * valgrind detection, error text and the thread-exit hook. Not part of the Windows build. */
#ifndef MMAPOBJ_PLATFORM_UNIX_H
#define MMAPOBJ_PLATFORM_UNIX_H

#include <errno.h>
#include <sys/types.h>

#include "platform.h"

/* Each POSIX backend's struct mo_pf_file begins with its descriptor, `int fd` (each checks it
 * with MO_PF_FD_FIRST): platform_unix.c reads it through this, without knowing the rest. */
static inline int mo_pf_fd(const mo_pf_file *f)
{
    return *(const int *)(const void *)f;
}
#define MO_PF_FD_FIRST                                                                           \
    _Static_assert(offsetof(struct mo_pf_file, fd) == 0 &&                                     \
                       sizeof(((struct mo_pf_file *)0)->fd) == sizeof(int),                     \
                   "platform_unix.c reads struct mo_pf_file's first member as an int fd")

static inline int errno_or(int fallback)
{
    return errno ? errno : fallback;
}

/* One fcntl record lock of byte `start` (type F_RDLCK, F_WRLCK or F_UNLCK), through the
 * backend's commands (setlk, setlkw: F_OFD_SETLK(W) or F_SETLK(W)), waiting if wait (EINTR
 * retried): 0, EAGAIN when someone else holds a conflicting lock, or another errno. */
int mo_pf_fcntl_lock(int fd, int setlk, int setlkw, short type, off_t start, int wait);

/* The same without waiting, tried again after short sleeps until it is not EAGAIN: for a lock
 * held for short work only (the writers' gate). */
int mo_pf_fcntl_lock_polled(int fd, int setlk, short type, off_t start);

/* Would a write lock of byte `start` conflict with a lock someone else holds (getlk:
 * F_OFD_GETLK or F_GETLK)? 1 also when fcntl fails: cannot tell, assume alive. */
int mo_pf_fcntl_held(int fd, int getlk, off_t start);

/* The directory part of path ("/" for a file in the root, "." for a bare name), malloc'd; NULL
 * when out of memory. */
char *mo_pf_dir_of(const char *path);

#endif
