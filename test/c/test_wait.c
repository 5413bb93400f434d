/* test_wait.c - bounded reader waits: a live writer process stopped (SIGSTOP; NtSuspendProcess on
 * Windows) in the middle of a write,
 * with the sequence counter odd, makes a reader's calls return MMAPOBJ_E_BUSY after about a
 * second instead of spinning for as long as it stays stopped; once the writer goes on they
 * succeed again. A dead writer's odd counter is not waited for. A watchdog (sp_alarm) turns a
 * reader that hangs into a failure. The writer is this program started again (spawn.h). */
#include <fcntl.h>
#include <stdatomic.h>

#include "check.h"
#include "format.h"
#include "internal.h"
#include "spawn.h"

#define WATCHDOG_S 120 /* a hang, not a timing: each E_BUSY takes about 1 s */

/* Shared with the writer child (a file mapping in the test directory). */
struct shared {
    _Atomic uint32_t stage; /* writer: 1 = seq made odd, 2 = even again */
    _Atomic uint32_t go;    /* parent: 1 = make seq even, 2 = close and exit */
};

/* Adds delta to the header's seq of a writer's own mapping, as a writer beginning or ending a
 * rewrite of reused space does. */
static void seq_add(mmapobj_map *w, uint64_t delta)
{
    __atomic_fetch_add(&w->hdr->seq, delta, __ATOMIC_SEQ_CST);
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

static void wait_for(_Atomic uint32_t *v, uint32_t want, const char *what)
{
    double end = sp_now() + 60;
    while (atomic_load(v) != want) {
        if (sp_now() > end) sp_fail("%s: not within 60 s", what);
        sp_sleep_us(1000);
    }
}

/* Child role "writer" PATH SHARED: creates the map, makes seq odd and says so; when told, makes
 * seq even again and says so; when told again, closes. (The parent stops it meanwhile.) */
static int writer_main(int argc, char **argv)
{
    if (argc != 2) return 2;
    struct shared *sh = sp_shared_open(argv[1], sizeof *sh);
    mmapobj_map *w;
    if (mmapobj_create(argv[0], 0, 0, 0, &w) != MMAPOBJ_OK) return 3;
    if (mmapobj_set_string(w, "k", 1, "value", 5) || mmapobj_set_number(w, "k2", 2, 2.0)) return 4;
    seq_add(w, 1);
    atomic_store(&sh->stage, 1);
    wait_for(&sh->go, 1, "writer: go 1");
    seq_add(w, 1);
    atomic_store(&sh->stage, 2);
    wait_for(&sh->go, 2, "writer: go 2");
    if (mmapobj_close(&w) != MMAPOBJ_OK) return 5;
    sp_shared_close(sh, sizeof *sh);
    return 0;
}

static void test_stopped_writer(const char *dir, struct shared *sh, const char *spath)
{
    const char *path = test_path(dir, "stopped.mmo");
    memset(sh, 0, sizeof *sh);
    int kid = sp_spawn("writer", 300, -1, path, spath, (const char *)NULL);
    wait_for(&sh->stage, 1, "the writer's odd seq");
    sp_suspend(kid); /* stopped in the middle of a write */
    CHECK((seq_of(path) & 1) == 1);

    mmapobj_map *r;
    CHECK_OK(NULL, mmapobj_open(path, &r)); /* opening does not wait */
    sp_alarm(WATCHDOG_S);
    expect_busy(r);
    mmapobj_value v; /* and again: the handle stays usable, each call waits its own second */
    CHECK_RC(r, mmapobj_get(r, "k", 1, &v), MMAPOBJ_E_BUSY);
    sp_alarm(0);

    sp_resume(kid);
    atomic_store(&sh->go, 1);
    wait_for(&sh->stage, 2, "the writer's even seq");
    sp_alarm(WATCHDOG_S);
    expect_served(r);
    sp_alarm(0);
    atomic_store(&sh->go, 2);
    sp_status st = sp_wait(kid, 60);
    CHECK(sp_ok(&st));
    expect_served(r);
    mmapobj_close(&r);
    unlink(path);
}

/* A writer killed with seq odd: readers go on without waiting for the limit. */
static void test_dead_writer(const char *dir, struct shared *sh, const char *spath)
{
    const char *path = test_path(dir, "dead.mmo");
    memset(sh, 0, sizeof *sh);
    int kid = sp_spawn("writer", 300, -1, path, spath, (const char *)NULL);
    wait_for(&sh->stage, 1, "the writer's odd seq");
    sp_kill(kid);
    sp_status st = sp_wait(kid, 60);
    CHECK(st.how == SP_KILLED);
    CHECK((seq_of(path) & 1) == 1);
    mmapobj_map *r;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    sp_alarm(WATCHDOG_S);
    expect_served(r);
    sp_alarm(0);
    mmapobj_close(&r);
    unlink(path);
}

int main(int argc, char **argv)
{
    static const sp_role roles[] = {{"writer", writer_main}, {NULL, NULL}};
    sp_main(argc, argv, roles);
    const char *dir = test_dir("test_wait");
    const char *spath = test_path(dir, "shared.bin");
    struct shared *sh = sp_shared_create(spath, sizeof *sh);
    test_stopped_writer(dir, sh, spath);
    test_dead_writer(dir, sh, spath);
    sp_shared_close(sh, sizeof *sh);
    unlink(spath);
    rmdir(dir);
    printf("test_wait: ok\n");
    return 0;
}
