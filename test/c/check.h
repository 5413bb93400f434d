/* check.h - the tiny assertion kit of the C tests: each failure prints file:line, the
 * expression, the code and mmapobj_errmsg(), then exits non-zero. */
#ifndef MMAPOBJ_TEST_CHECK_H
#define MMAPOBJ_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmapobj.h"

#define CHECK(expr)                                                                  \
    do {                                                                             \
        if (!(expr)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* Checks that a call returns `want`; on failure prints both codes and the error detail. */
#define CHECK_RC(map, call, want)                                                          \
    do {                                                                                   \
        int rc_ = (int)(call);                                                             \
        if (rc_ != (want)) {                                                               \
            fprintf(stderr, "%s:%d: %s returned %d (%s), wanted %d (%s); detail: %s\n",    \
                    __FILE__, __LINE__, #call, rc_, mmapobj_code_name(rc_), (int)(want),    \
                    mmapobj_code_name(want), mmapobj_errmsg(map));                         \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define CHECK_OK(map, call) CHECK_RC(map, call, MMAPOBJ_OK)

#ifdef _WIN32
#include <direct.h>
#include <fcntl.h>
#include <io.h>
#define test_mkdir(p) _mkdir(p)
/* open() and fopen() in binary mode, as on POSIX (the Windows C runtime defaults to text) */
__attribute__((constructor)) static void test_binary_mode(void)
{
    _fmode = _O_BINARY;
}
#define TEST_NULL_DEVICE "NUL"
/* positional reads and writes of the tests (one thread per descriptor) */
static inline int test_pread(int fd, void *buf, size_t n, long long off)
{
    if (_lseeki64(fd, off, SEEK_SET) < 0) return -1;
    return read(fd, buf, (unsigned)n);
}
static inline int test_pwrite(int fd, const void *buf, size_t n, long long off)
{
    if (_lseeki64(fd, off, SEEK_SET) < 0) return -1;
    return write(fd, buf, (unsigned)n);
}
#define pread(fd, buf, n, off) test_pread((fd), (buf), (n), (long long)(off))
#define pwrite(fd, buf, n, off) test_pwrite((fd), (buf), (n), (long long)(off))
#else
#define test_mkdir(p) mkdir((p), 0755)
#define TEST_NULL_DEVICE "/dev/null"
#endif

/* A fresh directory for this test's files: $MMAPOBJ_TEST_DIR/<name>.<pid> (ctest sets it), else
 * in /tmp (Windows: %TEMP%). */
static inline const char *test_dir(const char *name)
{
    static char dir[512];
    const char *base = getenv("MMAPOBJ_TEST_DIR");
#ifdef _WIN32
    if (!base || !*base) base = getenv("TEMP");
#endif
    if (!base || !*base) base = "/tmp";
    test_mkdir(base);
    /* a new directory: process ids repeat (under Wine, in every new session) */
    snprintf(dir, sizeof dir, "%s/%s.%d", base, name, (int)getpid());
    for (int i = 1; test_mkdir(dir) != 0 && i < 1000; i++)
        snprintf(dir, sizeof dir, "%s/%s.%d.%d", base, name, (int)getpid(), i);
    return dir;
}

/* path = dir/file, in a static rotating buffer. */
static inline const char *test_path(const char *dir, const char *file)
{
    static char bufs[8][640];
    static int next;
    char *p = bufs[next++ & 7];
    snprintf(p, sizeof bufs[0], "%s/%s", dir, file);
    return p;
}

#endif
