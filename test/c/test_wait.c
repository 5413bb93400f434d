/* test_wait.c - bounded reader waits: a live writer stopped (SIGSTOP) in the middle of a write,
 * with the sequence counter odd, makes a reader's calls return MMAPOBJ_E_BUSY after about a
 * second instead of spinning for as long as it stays stopped; once the writer goes on they
 * succeed again. A dead writer's odd counter is not waited for. A watchdog (alarm) turns a
 * reader that hangs into a failure. */
#include <signal.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "check.h"
#include "format.h"

#define WATCHDOG_S 120 /* a hang, not a timing: each E_BUSY takes about 1 s */

/* Adds delta to the header's seq through a mapping of our own, as a writer beginning or ending
 * a rewrite of reused space does. */
static void seq_add(const char *path, uint64_t delta)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    void *p = mmap(NULL, MO_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    uint64_t *seq = (uint64_t *)(void *)((char *)p + offsetof(struct mo_header, seq));
    __atomic_fetch_add(seq, delta, __ATOMIC_SEQ_CST);
    munmap(p, MO_HEADER_SIZE);
    close(fd);
}

static uint64_t seq_of(const char *path)
{
    struct mo_header h;
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h);
    close(fd);
    return h.seq;
}

static void expect_busy(mmapobj_map *r)
{
    mmapobj_value v;
    CHECK_RC(r, mmapobj_get(r, "k", 1, &v), MMAPOBJ_E_BUSY);
    CHECK(strstr(mmapobj_errmsg(r), "in the middle of a write") != NULL);
    CHECK(strstr(mmapobj_errmsg(r), "try again") != NULL);
    CHECK_RC(r, mmapobj_has(r, "k", 1), MMAPOBJ_E_BUSY);
    CHECK(mmapobj_get_z(r, "k") == NULL);
    CHECK(mmapobj_status_block(r)->code == MMAPOBJ_E_BUSY);
    CHECK(mmapobj_status_block(r)->kind == MMAPOBJ_KIND_NONE);
    mmapobj_iter *it = NULL;
    CHECK_OK(r, mmapobj_iter_open(r, &it));
    const void *key;
    size_t klen;
    CHECK_RC(r, mmapobj_iter_next(it, &key, &klen, NULL), MMAPOBJ_E_BUSY);
    mmapobj_iter_close(&it);
    CHECK_RC(r, mmapobj_verify(r), MMAPOBJ_E_BUSY);
    /* calls that do not wait still answer */
    CHECK(mmapobj_count(r) == 2);
    mmapobj_stats st;
    CHECK_OK(r, mmapobj_stat(r, &st));
    CHECK(st.writer_pid > 0);
}

static void expect_served(mmapobj_map *r)
{
    mmapobj_value v;
    CHECK_OK(r, mmapobj_get(r, "k", 1, &v));
    CHECK(v.len == 5 && memcmp(v.data, "value", 5) == 0);
    CHECK_RC(r, mmapobj_has(r, "k2", 2), 1);
    mmapobj_iter *it = NULL;
    CHECK_OK(r, mmapobj_iter_open(r, &it));
    const void *key;
    size_t klen;
    int n = 0, rc;
    while ((rc = mmapobj_iter_next(it, &key, &klen, NULL)) == 1) n++;
    CHECK_RC(r, rc, 0);
    CHECK(n == 2);
    mmapobj_iter_close(&it);
    CHECK_OK(r, mmapobj_verify(r));
}

/* The writer: creates the map, makes seq odd, reports, stops itself; when continued, makes seq
 * even again, reports, and waits for the word to close. */
static void writer_child(const char *path, int up, int down)
{
    mmapobj_map *w;
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failing test leaves no stopped writer behind */
#endif
    if (mmapobj_create(path, 0, 0, 0, &w) != MMAPOBJ_OK) _exit(2);
    if (mmapobj_set_string(w, "k", 1, "value", 5) || mmapobj_set_number(w, "k2", 2, 2.0)) _exit(3);
    seq_add(path, 1);
    if (write(up, "1", 1) != 1) _exit(4);
    raise(SIGSTOP);
    seq_add(path, 1);
    if (write(up, "2", 1) != 1) _exit(5);
    char c;
    if (read(down, &c, 1) != 1) _exit(6);
    if (mmapobj_close(&w) != MMAPOBJ_OK) _exit(7);
    _exit(0);
}

static void test_stopped_writer(const char *dir)
{
    const char *path = test_path(dir, "stopped.mmo");
    int up[2], down[2];
    CHECK(pipe(up) == 0 && pipe(down) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        writer_child(path, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    char c;
    CHECK(read(up[0], &c, 1) == 1 && c == '1');
    int status;
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status));
    CHECK((seq_of(path) & 1) == 1);

    mmapobj_map *r;
    CHECK_OK(NULL, mmapobj_open(path, &r)); /* opening does not wait */
    alarm(WATCHDOG_S);
    expect_busy(r);
    mmapobj_value v; /* and again: the handle stays usable, each call waits its own second */
    CHECK_RC(r, mmapobj_get(r, "k", 1, &v), MMAPOBJ_E_BUSY);
    alarm(0);

    CHECK(kill(pid, SIGCONT) == 0);
    CHECK(read(up[0], &c, 1) == 1 && c == '2');
    alarm(WATCHDOG_S);
    expect_served(r);
    alarm(0);
    CHECK(write(down[1], "x", 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    expect_served(r);
    mmapobj_close(&r);
    close(up[0]);
    close(down[1]);
    unlink(path);
}

/* A writer killed with seq odd: readers go on without waiting for the limit. */
static void test_dead_writer(const char *dir)
{
    const char *path = test_path(dir, "dead.mmo");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        mmapobj_map *w;
        if (mmapobj_create(path, 0, 0, 0, &w) != MMAPOBJ_OK) _exit(2);
        if (mmapobj_set_string(w, "k", 1, "value", 5) || mmapobj_set_number(w, "k2", 2, 2.0))
            _exit(3);
        seq_add(path, 1);
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
    CHECK((seq_of(path) & 1) == 1);
    mmapobj_map *r;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    alarm(WATCHDOG_S);
    expect_served(r);
    alarm(0);
    mmapobj_close(&r);
    unlink(path);
}

int main(void)
{
    const char *dir = test_dir("test_wait");
    test_stopped_writer(dir);
    test_dead_writer(dir);
    rmdir(dir);
    printf("test_wait: ok\n");
    return 0;
}
