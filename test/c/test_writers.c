/* test_writers.c - several writers on one file (issue 12): any number of writer handles, in any
 * processes and threads, write one file at once; each set/delete is atomic and serialized with the
 * others; mmapobj_lock/unlock hold the write lock across a batch; MMAPOBJ_CREATE_EXCLUSIVE keeps
 * the old one-writer behaviour; a writer SIGKILLed at any instant never blocks the others for
 * long and the next holder repairs.
 *
 * Functional parts (deterministic): two handles in one thread, the lock API and its nesting,
 * exclusive mode, max_size rules of a joining writer, shrink on close only by the last writer,
 * serialization of a transaction against another process, a crafted lock word, a dead lock holder.
 * Stress parts (forked processes, bounded by deadlines; the model of test_concurrency.c): a shared
 * counter incremented through the lock by several processes and threads with no increment lost;
 * K writer processes on disjoint keys and on overlapping keys while readers check every value they
 * see; the SIGKILL loop with several writers, where the survivors settle the victim's operation in
 * flight from the file and go on.
 * Children are copies of the test program started by the spawn harness (spawn.h: no fork), with
 * their shared state in a file mapping of the test directory; every child has a time limit and
 * every wait a deadline, so a hang fails the case instead of blocking the run.
 * Knobs: MMAPOBJ_TEST_QUICK=1 (valgrind), MMAPOBJ_TEST_LONG=1, MMAPOBJ_TEST_SECONDS=N,
 * MMAPOBJ_TEST_KILLS=N, MMAPOBJ_TEST_SEED=N. One ctest per case (`test_writers CASE`): */
// ctest-cases: functional counter disjoint overlap crash
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>

#include "relia.h"
#include "spawn.h"
#include "tthread.h"

#define MAXW 4           /* writer processes of the stress phases */
#define NREADERS 2
#define NK_MAX 4000      /* model keys: every op on them is checked exactly */
#define NKU 48           /* free-for-all keys written without the lock by every writer */
#define MAX_EXTRA 8192
#define INIT_SIZE ((uint64_t)64 * 1024)
#define MAX_SIZE ((uint64_t)1024 * 1024 * 1024)

static const char *g_dir;
static uint64_t g_salt;
static unsigned char *g_scratch;

/* What every child needs to know of the run (the first bytes of each shared region). */
struct settings {
    uint64_t salt;
    char dir[600];
    char path[700];
    uint32_t nk, nw, mode, counter_n;
};

static void settings_put(struct settings *st, const char *path)
{
    st->salt = g_salt;
    snprintf(st->dir, sizeof st->dir, "%s", g_dir);
    snprintf(st->path, sizeof st->path, "%s", path ? path : "");
}

static void settings_get(const struct settings *st)
{
    g_salt = st->salt;
    g_dir = st->dir;
}

static void wait_flag(_Atomic uint32_t *flag, const char *what)
{
    double end = relia_now() + 60;
    while (!atomic_load(flag)) {
        if (relia_now() > end) relia_fail("%s within 60 s", what);
        sp_sleep_us(1000);
    }
}

static void expect_ok(int slot, const char *what)
{
    sp_status st = sp_wait(slot, 120); /* a hang detector, not a timing assertion */
    char b[64];
    if (!sp_ok(&st)) relia_fail("%s ended with %s", what, sp_status_str(&st, b, sizeof b));
}

static int is_set(uint32_t k, uint32_t v)
{
    return v > 0 && relia_op_of(k, v, g_salt, MAX_EXTRA).kind != RELIA_OP_DELETE;
}

/* What key k must look like: present with version v, or absent. */
static int matches(const mmapobj_value *val, int rc, uint32_t k, uint32_t v, unsigned char *scratch)
{
    if (!is_set(k, v)) return rc == MMAPOBJ_NOTFOUND;
    return rc == MMAPOBJ_OK && relia_value_is(val, k, v, g_salt, MAX_EXTRA, scratch);
}

static int get_key(mmapobj_map *m, uint32_t k, mmapobj_value *val)
{
    char key[RELIA_KEY_MAX];
    size_t klen = relia_key(k, key);
    return mmapobj_get(m, key, klen, val);
}

static mmapobj_map *create_or_fail(const char *path, uint32_t flags)
{
    mmapobj_map *m = NULL;
    int rc = mmapobj_create_ex(path, INIT_SIZE, 16, MAX_SIZE, flags, &m);
    if (rc != MMAPOBJ_OK) relia_fail("create %s: %s: %s", path, mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    return m;
}

static double get_number(mmapobj_map *m, const char *key)
{
    mmapobj_value v;
    int rc = mmapobj_get(m, key, strlen(key), &v);
    if (rc == MMAPOBJ_NOTFOUND) return 0;
    if (rc != MMAPOBJ_OK || v.kind != MMAPOBJ_KIND_NUMBER)
        relia_fail("get %s: %s (kind %d): %s", key, mmapobj_code_name(rc), (int)v.kind, mmapobj_errmsg(m));
    return v.number;
}

static uint64_t file_bytes(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (uint64_t)st.st_size;
}

/* ---- functional ------------------------------------------------------------------------------ */

static void test_two_handles_one_thread(void)
{
    const char *path = test_path(g_dir, "two.mmo");
    unlink(path);
    mmapobj_map *a = NULL, *b = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &a));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &b)); /* was E_LOCKED: one writer per file */
    CHECK(mmapobj_is_writable(b) == 1);
    for (int i = 0; i < 3000; i++) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        CHECK_OK(a, mmapobj_set_number_z(i % 2 ? a : b, k, i));
        if (i % 7 == 0) CHECK_OK(b, mmapobj_set_string_z(i % 2 ? b : a, k, "overwritten by the other"));
    }
    for (int i = 0; i < 3000; i += 5) {
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        CHECK_OK(a, mmapobj_delete_z(i % 3 ? a : b, k));
    }
    /* each handle sees the other's writes, counts agree */
    CHECK(mmapobj_count(a) == 2400 && mmapobj_count(b) == 2400);
    mmapobj_value v;
    CHECK_OK(a, mmapobj_get(a, "k7", 2, &v));
    CHECK(v.kind == MMAPOBJ_KIND_STRING && v.len == 24);
    CHECK_OK(b, mmapobj_get(b, "k8", 2, &v));
    CHECK(v.kind == MMAPOBJ_KIND_NUMBER && v.number == 8);
    CHECK_RC(a, mmapobj_get(a, "k10", 3, &v), MMAPOBJ_NOTFOUND);
    CHECK_OK(a, mmapobj_verify(a));
    CHECK_OK(b, mmapobj_verify(b));
    CHECK_OK(a, mmapobj_close(&a));
    CHECK_OK(b, mmapobj_set_number_z(b, "after", 1)); /* the other handle goes on alone */
    CHECK_OK(b, mmapobj_close(&b));
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_count(r) == 2401);
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(r, mmapobj_close(&r));
    printf("two handles in one thread: OK\n");
}

static void test_lock_api(void)
{
    const char *path = test_path(g_dir, "lockapi.mmo");
    unlink(path);
    mmapobj_map *a = NULL, *b = NULL, *r = NULL;
    CHECK_RC(NULL, mmapobj_lock(NULL), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_unlock(NULL), MMAPOBJ_E_CLOSED);
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &a));
    CHECK_RC(a, mmapobj_unlock(a), MMAPOBJ_E_INVAL); /* not held */
    CHECK(strstr(mmapobj_errmsg(a), path) != NULL);
    CHECK_OK(a, mmapobj_lock(a));
    CHECK_OK(a, mmapobj_lock(a)); /* nested */
    CHECK_OK(a, mmapobj_set_number_z(a, "n", 1));
    CHECK_OK(a, mmapobj_unlock(a));
    CHECK_OK(a, mmapobj_set_number_z(a, "n", get_number(a, "n") + 1)); /* still held once */
    CHECK_OK(a, mmapobj_unlock(a));
    CHECK_RC(a, mmapobj_unlock(a), MMAPOBJ_E_INVAL);
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_RC(r, mmapobj_lock(r), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_unlock(r), MMAPOBJ_E_READONLY);

    /* two handles of one file in one thread: B rides on A's hold instead of waiting for itself */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &b));
    CHECK_OK(a, mmapobj_lock(a));
    CHECK_OK(b, mmapobj_set_number_z(b, "n", get_number(b, "n") + 1));
    CHECK_OK(b, mmapobj_lock(b));
    CHECK_OK(b, mmapobj_set_number_z(b, "n", get_number(a, "n") + 1));
    CHECK_OK(b, mmapobj_delete_z(b, "n"));
    CHECK_OK(b, mmapobj_set_number_z(b, "n", 4));
    CHECK_OK(b, mmapobj_unlock(b));
    CHECK(get_number(a, "n") == 4 && get_number(r, "n") == 4);
    CHECK_OK(a, mmapobj_unlock(a));
    /* and the other way round */
    CHECK_OK(b, mmapobj_lock(b));
    CHECK_OK(a, mmapobj_set_number_z(a, "n", get_number(a, "n") + 1));
    CHECK_OK(b, mmapobj_unlock(b));
    CHECK(get_number(r, "n") == 5);
    /* closing a handle that holds the lock releases it */
    CHECK_OK(a, mmapobj_lock(a));
    CHECK_OK(a, mmapobj_lock(a));
    CHECK_OK(a, mmapobj_close(&a));
    CHECK_OK(b, mmapobj_set_number_z(b, "n", 6));
    CHECK_OK(b, mmapobj_lock(b));
    CHECK_OK(b, mmapobj_unlock(b));
    CHECK_OK(b, mmapobj_verify(b));
    CHECK_OK(b, mmapobj_close(&b));
    CHECK(get_number(r, "n") == 6);
    CHECK_OK(r, mmapobj_close(&r));
    printf("lock API: OK\n");
}

/* Role "exclusive" PATH. */
static int exclusive_child(int argc, char **argv)
{
    if (argc < 1) return 9;
    const char *path = argv[0];
    mmapobj_map *m = NULL;
    int rc = mmapobj_create(path, 0, 0, 0, &m);
    if (rc != MMAPOBJ_E_LOCKED) return 10;
    if (!strstr(mmapobj_errmsg(NULL), path)) return 11;
    rc = mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &m);
    if (rc != MMAPOBJ_E_LOCKED) return 12;
    return 0;
}

static void test_exclusive(void)
{
    const char *path = test_path(g_dir, "excl.mmo");
    unlink(path);
    mmapobj_map *x = NULL, *y = NULL, *s1 = NULL, *s2 = NULL, *r = NULL;
    CHECK_RC(NULL, mmapobj_create_ex(path, 0, 0, 0, 0x80, &x), MMAPOBJ_E_INVAL); /* unknown flag */
    CHECK(x == NULL);
    CHECK_OK(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &x));
    CHECK_OK(x, mmapobj_set_string_z(x, "mode", "exclusive"));
    /* every other writer, in this thread or another process, gets E_LOCKED naming the file */
    CHECK_RC(NULL, mmapobj_create(path, 0, 0, 0, &y), MMAPOBJ_E_LOCKED);
    CHECK(y == NULL);
    CHECK(strstr(mmapobj_errmsg(NULL), path) != NULL);
    CHECK_RC(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &y), MMAPOBJ_E_LOCKED);
    CHECK(strstr(mmapobj_errmsg(NULL), path) != NULL);
    expect_ok(sp_spawn("exclusive", 60, -1, path, (const char *)NULL), "exclusive child");
    /* readers are welcome; the lock API works on an exclusive handle too */
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(x, mmapobj_lock(x));
    CHECK_OK(x, mmapobj_set_number_z(x, "n", 1));
    CHECK_OK(x, mmapobj_unlock(x));
    CHECK_OK(x, mmapobj_close(&x));
    /* shared writers exclude an exclusive one the same way */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &s1));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &s2));
    CHECK_RC(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &x), MMAPOBJ_E_LOCKED);
    CHECK(strstr(mmapobj_errmsg(NULL), path) != NULL);
    CHECK_OK(s1, mmapobj_close(&s1));
    CHECK_RC(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &x), MMAPOBJ_E_LOCKED);
    CHECK_OK(s2, mmapobj_close(&s2));
    CHECK_OK(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &x));
    CHECK(get_number(x, "n") == 1);
    CHECK_OK(x, mmapobj_verify(x));
    CHECK_OK(x, mmapobj_close(&x));
    CHECK_OK(r, mmapobj_close(&r));
    /* a new file created exclusive is exclusive from the start */
    const char *p2 = test_path(g_dir, "excl-new.mmo");
    unlink(p2);
    CHECK_OK(NULL, mmapobj_create_ex(p2, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &x));
    CHECK_RC(NULL, mmapobj_create(p2, 0, 0, 0, &y), MMAPOBJ_E_LOCKED);
    CHECK_OK(x, mmapobj_close(&x));
    printf("exclusive mode: OK\n");
}

static void test_join_rules(void)
{
    const char *path = test_path(g_dir, "join.mmo");
    unlink(path);
    mmapobj_map *a = NULL, *b = NULL, *c = NULL;
    mmapobj_stats st;
    CHECK_OK(NULL, mmapobj_create(path, 1 << 20, 0, 64u << 20, &a));
    /* raising max_file_size under another writer's feet is refused; keeping or lowering is not */
    CHECK_RC(NULL, mmapobj_create(path, 0, 0, 128u << 20, &b), MMAPOBJ_E_INVAL);
    CHECK(strstr(mmapobj_errmsg(NULL), path) != NULL);
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 64u << 20, &b));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 32u << 20, &c));
    CHECK_OK(a, mmapobj_stat(a, &st));
    CHECK(st.max_file_size == 32u << 20);
    CHECK_OK(c, mmapobj_close(&c));
    /* growth by one writer is followed by the others */
    char big[4000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "big%d", i);
        CHECK_OK(b, mmapobj_set_string(b, k, strlen(k), big, sizeof big));
    }
    CHECK(file_bytes(path) > (1u << 20));
    mmapobj_value v;
    CHECK_OK(a, mmapobj_get(a, "big999", 6, &v));
    CHECK(v.len == sizeof big);
    /* only the last writer shrinks the file on close, and only with no reader */
    for (int i = 0; i < 1000; i++) {
        char k[32];
        snprintf(k, sizeof k, "big%d", i);
        CHECK_OK(a, mmapobj_delete(a, k, strlen(k)));
    }
    CHECK_OK(a, mmapobj_set_string(a, "small", 5, "x", 1));
    uint64_t before = file_bytes(path);
    CHECK_OK(a, mmapobj_close(&a));
    CHECK(file_bytes(path) == before); /* b is still writing */
    CHECK_OK(b, mmapobj_set_string(b, "last", 4, "word", 4));
    CHECK_OK(b, mmapobj_close(&b));
    CHECK(file_bytes(path) < before / 4);
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_count(r) == 2);
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(r, mmapobj_close(&r));
    printf("joining writers (max_size, growth, shrink by the last writer): OK\n");
}

/* A transaction in another process is not interleaved with this process's set. */
struct txn_shared {
    struct settings set;
    _Atomic uint32_t locked, proceed;
};

/* Role "txn" SHARED. */
static int txn_child(int argc, char **argv)
{
    if (argc < 1) return 9;
    struct txn_shared *t = sp_shared_open(argv[0], sizeof *t);
    settings_get(&t->set);
    const char *path = t->set.path;
    mmapobj_map *w = create_or_fail(path, 0);
    CHECK_OK(w, mmapobj_lock(w));
    CHECK_OK(w, mmapobj_set_number_z(w, "a", 1));
    atomic_store(&t->locked, 1);
    /* the parent now tries to set a = 2; it must wait for our unlock */
    while (!atomic_load(&t->proceed)) sp_sleep_us(1000);
    sp_sleep_us(50000);
    CHECK_OK(w, mmapobj_set_number_z(w, "b", get_number(w, "a")));
    CHECK_OK(w, mmapobj_unlock(w));
    CHECK_OK(w, mmapobj_close(&w));
    return 0;
}

static void test_transaction_serializes(void)
{
    const char *path = test_path(g_dir, "txn.mmo");
    unlink(path);
    mmapobj_map *w = create_or_fail(path, 0);
    const char *shared = test_path(g_dir, "txn.bin");
    struct txn_shared *t = sp_shared_create(shared, sizeof *t);
    settings_put(&t->set, path);
    int slot = sp_spawn("txn", 60, -1, shared, (const char *)NULL);
    wait_flag(&t->locked, "the txn child did not lock");
    atomic_store(&t->proceed, 1);
    CHECK_OK(w, mmapobj_set_number_z(w, "a", 2)); /* waits for the child's unlock */
    CHECK(get_number(w, "b") == 1); /* the child read its own a inside its transaction */
    CHECK(get_number(w, "a") == 2);
    expect_ok(slot, "txn child");
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    sp_shared_close(t, sizeof *t);
    printf("a transaction of another process is serialized with a set: OK\n");
}

/* Patches a u64 of the header of a closed file. */
static void patch_u64(const char *path, uint64_t off, uint64_t v)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, &v, 8, off) == 8);
    close(fd);
}

/* Role "crafted" PATH. */
static int crafted_child(int argc, char **argv)
{
    if (argc < 1) return 9;
    const char *path = argv[0];
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(path, 0, 0, 0, &w);
    if (rc != MMAPOBJ_OK) {
        fprintf(stderr, "crafted: create: %s: %s\n", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        return 2;
    }
    for (int i = 0; i < 500; i++) CHECK_OK(w, mmapobj_set_number_z(w, "n", get_number(w, "n") + 1));
    CHECK_OK(w, mmapobj_lock(w));
    CHECK_OK(w, mmapobj_unlock(w));
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    return 0;
}

/* A lock word, an index reference and a high-water mark left in a file (crafted, or by a crash)
 * never hang a writer: the first writer of a session is alone and starts from a free lock. */
static void test_crafted_lock_state(void)
{
    const char *path = test_path(g_dir, "crafted.mmo");
    static const uint64_t words[] = {
        (UINT64_C(5) << 32) | 0x80000000u | 8u, /* held by slot 7, waiters */
        (UINT64_C(9) << 32) | 1u,               /* held by slot 0: the next writer's own slot */
        UINT64_MAX,                             /* everything set */
        0x7FFFFFFFu,                            /* the largest slot */
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        unlink(path);
        mmapobj_map *w = NULL;
        CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
        CHECK_OK(w, mmapobj_set_string_z(w, "keep", "me"));
        CHECK_OK(w, mmapobj_close(&w));
        patch_u64(path, 256, words[i]);
        patch_u64(path, 208, i % 2 ? UINT64_C(0x123457) : UINT64_C(0xFFFFFFFFFFFFFFF0)); /* index_ref */
        patch_u64(path, 216, i % 2 ? 1 : UINT64_MAX);                                 /* fresh_end */
        patch_u64(path, 1024, UINT64_MAX);                          /* the index's class bitmap */
        patch_u64(path, 1088, UINT64_C(0x58444946));                /* an index block marker */
        sp_status st = sp_wait(sp_spawn("crafted", 60, -1, path, (const char *)NULL), 60);
        if (!sp_ok(&st)) {
            char b[64];
            relia_fail("crafted lock word 0x%016" PRIx64 ": writer ended with %s", words[i], sp_status_str(&st, b, sizeof b));
        }
        mmapobj_map *r = NULL;
        CHECK_OK(NULL, mmapobj_open(path, &r));
        CHECK(get_number(r, "n") == 500);
        mmapobj_value v;
        CHECK_OK(r, mmapobj_get(r, "keep", 4, &v));
        CHECK_OK(r, mmapobj_verify(r));
        CHECK_OK(r, mmapobj_close(&r));
    }
    printf("crafted lock words: OK\n");
}

/* A writer SIGKILLed while it holds the lock: a writer waiting for it goes on, after a repair. */
struct dead_shared {
    struct settings set;
    _Atomic uint32_t locked, waiting, done;
    _Atomic uint64_t wait_ns;
};

/* Role "holder" SHARED: takes the lock, then waits to be killed. */
static int dead_holder(int argc, char **argv)
{
    if (argc < 1) return 9;
    struct dead_shared *d = sp_shared_open(argv[0], sizeof *d);
    settings_get(&d->set);
    mmapobj_map *w = create_or_fail(d->set.path, 0);
    CHECK_OK(w, mmapobj_lock(w));
    CHECK_OK(w, mmapobj_set_string_z(w, "holder", "was here"));
    atomic_store(&d->locked, 1);
    for (;;) sp_sleep_us(1000000);
}

/* Role "waiter" SHARED: a set that waits for the holder. */
static int dead_waiter(int argc, char **argv)
{
    if (argc < 1) return 9;
    struct dead_shared *d = sp_shared_open(argv[0], sizeof *d);
    settings_get(&d->set);
    mmapobj_map *w = create_or_fail(d->set.path, 0);
    atomic_store(&d->waiting, 1);
    double t0 = relia_now();
    CHECK_OK(w, mmapobj_set_string_z(w, "waiter", "got through"));
    atomic_store(&d->wait_ns, (uint64_t)((relia_now() - t0) * 1e9));
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    atomic_store(&d->done, 1);
    return 0;
}

static void test_dead_holder(void)
{
    const char *path = test_path(g_dir, "dead.mmo");
    unlink(path);
    const char *shared = test_path(g_dir, "dead.bin");
    struct dead_shared *d = sp_shared_create(shared, sizeof *d);
    settings_put(&d->set, path);
    int h = sp_spawn("holder", 120, -1, shared, (const char *)NULL);
    wait_flag(&d->locked, "the holder did not lock");
    int wt = sp_spawn("waiter", 120, -1, shared, (const char *)NULL);
    wait_flag(&d->waiting, "the waiter did not open");
    sp_sleep_us(100000); /* let the waiter block on the holder */
    CHECK(!atomic_load(&d->done));
    sp_kill(h);
    sp_status st = sp_wait(h, 60);
    CHECK(st.how == SP_KILLED);
    expect_ok(wt, "waiter");
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    mmapobj_value v;
    CHECK_OK(r, mmapobj_get(r, "holder", 6, &v));
    CHECK_OK(r, mmapobj_get(r, "waiter", 6, &v));
    CHECK_OK(r, mmapobj_close(&r));
    printf("a SIGKILLed lock holder: the waiter went on %.0f ms after the kill was sent (waited %.0f ms in all)\n",
           (double)atomic_load(&d->wait_ns) / 1e6 - 100.0, (double)atomic_load(&d->wait_ns) / 1e6);
    sp_shared_close(d, sizeof *d);
}

/* ---- counter: no increment lost ----------------------------------------------------------- */

static uint32_t g_counter_n;

/* Role "counter" SHARED ID. */
static int counter_child(int argc, char **argv)
{
    if (argc < 2) return 9;
    struct settings *set = sp_shared_open(argv[0], sizeof *set);
    settings_get(set);
    g_counter_n = set->counter_n;
    uint32_t id = (uint32_t)atoi(argv[1]);
    const char *path = set->path;
    mmapobj_map *a = create_or_fail(path, 0), *b = NULL;
    if (id == 0) b = create_or_fail(path, 0); /* child 0 locks through a, writes through b */
    for (uint32_t i = 0; i < g_counter_n; i++) {
        mmapobj_map *w = b ? b : a;
        CHECK_OK(a, mmapobj_lock(a));
        double c = get_number(w, "counter");
        CHECK_OK(w, mmapobj_set_number_z(w, "counter", c + 1));
        char k[32];
        snprintf(k, sizeof k, "c:%u:%u", id, i);
        CHECK_OK(w, mmapobj_set_number_z(w, k, c));
        CHECK_OK(a, mmapobj_unlock(a));
        if (i % 97 == 96) { /* leave and join again while the others go on */
            CHECK_OK(a, mmapobj_close(&a));
            a = create_or_fail(path, 0);
        }
    }
    CHECK_OK(a, mmapobj_close(&a));
    if (b) CHECK_OK(b, mmapobj_close(&b));
    sp_shared_close(set, sizeof *set);
    return 0;
}

struct thr_arg {
    const char *path;
    uint32_t id, n;
};

static void *counter_thread(void *p)
{
    struct thr_arg *t = p;
    mmapobj_map *w = create_or_fail(t->path, 0);
    for (uint32_t i = 0; i < t->n; i++) {
        CHECK_OK(w, mmapobj_lock(w));
        CHECK_OK(w, mmapobj_set_number_z(w, "counter", get_number(w, "counter") + 1));
        CHECK_OK(w, mmapobj_unlock(w));
        char k[32];
        snprintf(k, sizeof k, "t:%u:%u", t->id, i);
        CHECK_OK(w, mmapobj_set_number_z(w, k, i)); /* plain sets, taking the lock themselves */
    }
    CHECK_OK(w, mmapobj_close(&w));
    return NULL;
}

static void test_counter(void)
{
    const char *path = test_path(g_dir, "counter.mmo");
    unlink(path);
    g_counter_n = relia_quick() ? 100 : 600;
    int procs = relia_quick() ? 3 : 4;
    mmapobj_map *r = NULL;
    mmapobj_map *w = create_or_fail(path, 0);
    CHECK_OK(NULL, mmapobj_open(path, &r));
    const char *shared = test_path(g_dir, "counter.bin");
    struct settings *set = sp_shared_create(shared, sizeof *set);
    settings_put(set, path);
    set->counter_n = g_counter_n;
    static const char *ids[] = {"0", "1", "2", "3", "4", "5", "6", "7"};
    for (int i = 0; i < procs; i++) sp_spawn("counter", 300, i, shared, ids[i], (const char *)NULL);
    /* this process reads meanwhile: the counter never goes back */
    double last = 0, end = relia_now() + 300;
    for (int left = procs; left > 0;) {
        double c = get_number(r, "counter");
        if (c < last) relia_fail("counter went back from %.0f to %.0f", last, c);
        last = c;
        sp_status st;
        if (sp_wait_any(0.0005, &st) >= 0) {
            char b[64];
            if (!sp_ok(&st)) relia_fail("a counter child ended with %s", sp_status_str(&st, b, sizeof b));
            left--;
        }
        if (relia_now() > end) relia_fail("counter children did not finish within 300 s");
    }
    sp_shared_close(set, sizeof *set);
    double want = (double)procs * g_counter_n;
    if (get_number(w, "counter") != want) relia_fail("counter %.0f, want %.0f: increments lost", get_number(w, "counter"), want);
    CHECK(mmapobj_count(w) == 1 + (int64_t)want);
    /* every increment saw a distinct previous value */
    unsigned char *seen = calloc((size_t)want, 1);
    CHECK(seen);
    for (int i = 0; i < procs; i++)
        for (uint32_t j = 0; j < g_counter_n; j++) {
            char k[32];
            snprintf(k, sizeof k, "c:%d:%u", i, j);
            double c = get_number(w, k);
            CHECK(c >= 0 && c < want && !seen[(size_t)c]);
            seen[(size_t)c] = 1;
        }
    free(seen);
    /* threads of one process, each with its own handle */
    enum { NT = 4 };
    pthread_t th[NT];
    struct thr_arg ta[NT];
    for (uint32_t i = 0; i < NT; i++) {
        ta[i] = (struct thr_arg){path, i, g_counter_n};
        CHECK(pthread_create(&th[i], NULL, counter_thread, &ta[i]) == 0);
    }
    for (int i = 0; i < NT; i++) CHECK(pthread_join(th[i], NULL) == 0);
    want += (double)NT * g_counter_n;
    if (get_number(w, "counter") != want) relia_fail("counter %.0f after threads, want %.0f", get_number(w, "counter"), want);
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(r, mmapobj_close(&r));
    printf("counter: %d processes and %d threads x %u increments through the lock, none lost\n", procs, NT, g_counter_n);
}

/* ---- K writers with readers checking ------------------------------------------------------ */

enum { MODE_DISJOINT = 0, MODE_OVERLAP = 1, MODE_CRASH = 2 };

struct shared {
    struct settings set;
    _Atomic uint32_t stop, readers_done;
    _Atomic uint32_t resolved;              /* in-flight ops of killed writers settled */
    _Atomic uint64_t ops[MAXW];
    _Atomic uint64_t reads[NREADERS], iterations[NREADERS];
    _Atomic uint32_t intent[NK_MAX], done[NK_MAX];
    _Atomic uint32_t uintent[MAXW][NKU], udone[MAXW][NKU]; /* free-for-all keys, per writer */
};

static struct shared *S;
static const char *g_path;
static uint32_t g_nk;
static int g_nw, g_mode;
static double g_seconds;

/* Free-for-all key u is key id g_nk + u; writer w writes it with versions v = c * MAXW + w + 1. */
static uint32_t ukey(uint32_t u)
{
    return g_nk + u;
}

/* Under the lock: a model key whose intent and done differ belongs to a writer that died in the
 * middle of that operation; settle it from the file (the operation happened or not). */
static void settle(mmapobj_map *w, uint32_t k, unsigned char *scratch)
{
    uint32_t d = atomic_load(&S->done[k]), i = atomic_load(&S->intent[k]);
    if (i == d) return;
    if (g_mode != MODE_CRASH || i != d + 1)
        relia_fail("key %u: intent %u done %u under the lock (mode %d)", k, i, d, g_mode);
    mmapobj_value val;
    int rc = get_key(w, k, &val);
    if (matches(&val, rc, k, i, scratch)) atomic_store(&S->done[k], i);
    else if (matches(&val, rc, k, d, scratch)) atomic_store(&S->intent[k], d);
    else relia_fail("key %u of a killed writer holds neither version %u nor %u (%s)", k, d, i, mmapobj_code_name(rc));
    atomic_fetch_add(&S->resolved, 1);
}

static void apply_or_fail(mmapobj_map *w, uint32_t k, uint32_t v, unsigned char *scratch, int id)
{
    int rc = relia_apply(w, k, v, g_salt, MAX_EXTRA, scratch);
    if (rc != MMAPOBJ_OK)
        relia_fail("writer %d: op %u on key %u: %s: %s", id, v, k, mmapobj_code_name(rc), mmapobj_errmsg(w));
}

/* A child's first step: map the shared region (argv[0]) and take the run's settings from it.
 * Returns the role's number argument (argv[1]). */
static int child_setup(int argc, char **argv)
{
    if (argc < 2) relia_fail("child: no shared region or id");
    S = sp_shared_open(argv[0], sizeof *S);
    settings_get(&S->set);
    g_path = S->set.path;
    g_nk = S->set.nk;
    g_nw = (int)S->set.nw;
    g_mode = (int)S->set.mode;
    return atoi(argv[1]);
}

/* Role "writer" SHARED ID. */
static int writer_main(int argc, char **argv)
{
    int id = child_setup(argc, argv);
    unsigned char *scratch = malloc(RELIA_SCRATCH);
    uint32_t *uc = calloc(NKU, sizeof *uc);
    CHECK(scratch && uc);
    for (uint32_t u = 0; u < NKU; u++) {
        uint32_t v = atomic_load(&S->udone[id][u]);
        uc[u] = v ? (v - 1) / MAXW + 1 : 0; /* a respawned writer goes on from its predecessor */
    }
    relia_rng rng = {g_salt ^ (0x57A11ull + (uint64_t)id * 7919) ^ (uint64_t)(relia_now() * 1e9) << 20};
    mmapobj_map *w = create_or_fail(g_path, 0);
    uint64_t ops = 0;
    while (!atomic_load_explicit(&S->stop, memory_order_acquire)) {
        unsigned dice = (unsigned)relia_below(&rng, 100);
        if (g_mode != MODE_CRASH && dice < 10) {
            /* a free-for-all key, no lock: the last writer wins, every value stays whole */
            uint32_t u = (uint32_t)relia_below(&rng, NKU);
            uint32_t v = ++uc[u] * MAXW + (uint32_t)id + 1 - MAXW;
            if (v > RELIA_VER_MAX) continue;
            atomic_store(&S->uintent[id][u], v);
            apply_or_fail(w, ukey(u), v, scratch, id);
            atomic_store(&S->udone[id][u], v);
        } else if (g_mode == MODE_DISJOINT) {
            uint32_t k = (uint32_t)id + (uint32_t)g_nw * (uint32_t)relia_below(&rng, g_nk / (uint32_t)g_nw);
            uint32_t v = atomic_load(&S->done[k]) + 1;
            atomic_store(&S->intent[k], v);
            apply_or_fail(w, k, v, scratch, id);
            atomic_store(&S->done[k], v);
        } else {
            /* any key, read-modify-write under the lock; now and then a transaction of several */
            unsigned n = dice < 20 ? 2 + (unsigned)relia_below(&rng, 12) : 1;
            CHECK_OK(w, mmapobj_lock(w));
            for (unsigned j = 0; j < n; j++) {
                uint32_t k = (uint32_t)relia_below(&rng, g_nk);
                settle(w, k, scratch);
                uint32_t v = atomic_load(&S->done[k]) + 1;
                if (v > RELIA_VER_MAX) relia_fail("version overflow on key %u", k);
                atomic_store(&S->intent[k], v);
                apply_or_fail(w, k, v, scratch, id);
                atomic_store(&S->done[k], v);
            }
            CHECK_OK(w, mmapobj_unlock(w));
        }
        ops++;
        atomic_store_explicit(&S->ops[id], atomic_load(&S->ops[id]) + 1, memory_order_relaxed);
        if (relia_below(&rng, 400) == 0) { /* leave and join while the others write */
            CHECK_OK(w, mmapobj_close(&w));
            w = create_or_fail(g_path, 0);
        }
    }
    CHECK_OK(w, mmapobj_close(&w));
    free(scratch);
    free(uc);
    (void)ops;
    return 0;
}

struct reader {
    int id;
    mmapobj_map *m;
    unsigned char *scratch;
    uint32_t *snap;
    unsigned char *seen;
    int busy_in_a_row;  /* MMAPOBJ_E_BUSY results since the last successful read */
    uint64_t busy_total;
};

#define RFAIL(r, ...)                            \
    do {                                         \
        fprintf(stderr, "reader %d: ", (r)->id); \
        relia_fail(__VA_ARGS__);                 \
    } while (0)

/* A model key k looked up between done == d (read before) and intent == i (read after). */
static void check_model(struct reader *r, uint32_t k, uint32_t d, uint32_t i, int rc, const mmapobj_value *val,
                        const char *how)
{
    if (rc == MMAPOBJ_NOTFOUND) {
        /* missing: fine if the latest confirmed op, or a later one in flight, is a delete */
        if (!is_set(k, d)) return;
        for (uint32_t v = d + 1; v <= i; v++)
            if (!is_set(k, v)) return;
        RFAIL(r, "%s key %u: missing although version %u was confirmed (intent %u)", how, k, d, i);
    }
    if (rc != MMAPOBJ_OK) RFAIL(r, "%s key %u: %s: %s", how, k, mmapobj_code_name(rc), mmapobj_errmsg(r->m));
    uint32_t ck, cv;
    if (!relia_claim(val, &ck, &cv)) RFAIL(r, "%s key %u: unparseable value", how, k);
    if (ck != k) RFAIL(r, "%s key %u: value of key %u", how, k, ck);
    if (cv == 0 || cv > i) RFAIL(r, "%s key %u: version %u from the future (intent %u)", how, k, cv, i);
    if (!relia_value_is(val, k, cv, g_salt, MAX_EXTRA, r->scratch))
        RFAIL(r, "%s key %u: torn or mixed value claiming version %u", how, k, cv);
    if (d > 0 && (is_set(k, d) ? cv < d : cv <= d))
        RFAIL(r, "%s key %u: stale version %u after version %u was confirmed", how, k, cv, d);
}

/* A free-for-all key: any whole value some writer really wrote (or intends to) for it. */
static void check_free(struct reader *r, uint32_t u, int rc, const mmapobj_value *val, const char *how)
{
    uint32_t k = ukey(u), ck, cv;
    if (rc == MMAPOBJ_NOTFOUND) return;
    if (rc != MMAPOBJ_OK) RFAIL(r, "%s free key %u: %s: %s", how, u, mmapobj_code_name(rc), mmapobj_errmsg(r->m));
    if (!relia_claim(val, &ck, &cv) || ck != k || cv == 0)
        RFAIL(r, "%s free key %u: foreign or unparseable value", how, u);
    uint32_t w = (cv - 1) % MAXW;
    if (cv > atomic_load(&S->uintent[w][u])) RFAIL(r, "%s free key %u: version %u never written", how, u, cv);
    if (!relia_value_is(val, k, cv, g_salt, MAX_EXTRA, r->scratch))
        RFAIL(r, "%s free key %u: torn or mixed value claiming version %u", how, u, cv);
}

/* MMAPOBJ_E_BUSY says a live writer kept the sequence counter odd for about a second (a table
 * rebuild descheduled on a loaded machine, under ASan or valgrind): no value was read, so the
 * reader tries again. A stall of many seconds in a row is still a failure. */
#define MAX_BUSY_IN_A_ROW 30
static int busy_retry(struct reader *r)
{
    if (++r->busy_in_a_row > MAX_BUSY_IN_A_ROW)
        RFAIL(r, "MMAPOBJ_E_BUSY %d times in a row: %s", MAX_BUSY_IN_A_ROW, mmapobj_errmsg(r->m));
    r->busy_total++;
    return 1;
}

static void reader_iterate(struct reader *r)
{
    for (uint32_t k = 0; k < g_nk; k++) r->snap[k] = atomic_load(&S->done[k]);
    memset(r->seen, 0, g_nk + NKU);
    mmapobj_iter *it = NULL;
    CHECK_OK(r->m, mmapobj_iter_open(r->m, &it));
    for (;;) {
        const void *key;
        size_t klen;
        mmapobj_value val;
        int rc = mmapobj_iter_next(it, &key, &klen, &val);
        if (rc == 0) break;
        if (rc == MMAPOBJ_E_BUSY && busy_retry(r)) continue;
        if (rc != 1) RFAIL(r, "iter_next: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(r->m));
        r->busy_in_a_row = 0;
        uint32_t k;
        if (!relia_parse_key(key, klen, &k) || k >= g_nk + NKU) RFAIL(r, "iteration: foreign key");
        if (k >= g_nk) {
            check_free(r, k - g_nk, MMAPOBJ_OK, &val, "iteration");
            continue;
        }
        uint32_t i = atomic_load(&S->intent[k]);
        if (r->seen[k] && i == r->snap[k]) RFAIL(r, "iteration: untouched key %u produced twice", k);
        r->seen[k] = 1;
        check_model(r, k, r->snap[k], i, MMAPOBJ_OK, &val, "iteration");
    }
    mmapobj_iter_close(&it);
    for (uint32_t k = 0; k < g_nk; k++) {
        uint32_t d = r->snap[k];
        if (r->seen[k] || !is_set(k, d)) continue;
        if (atomic_load(&S->intent[k]) == d && atomic_load(&S->done[k]) == d)
            RFAIL(r, "iteration: key %u (version %u, untouched) not produced", k, d);
    }
}

/* Role "reader" SHARED ID. */
static int reader_main(int argc, char **argv)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    r.id = child_setup(argc, argv);
    r.scratch = malloc(RELIA_SCRATCH);
    r.snap = calloc(g_nk, sizeof *r.snap);
    r.seen = calloc(g_nk + NKU, 1);
    CHECK(r.scratch && r.snap && r.seen);
    CHECK_OK(NULL, mmapobj_open(g_path, &r.m));
    relia_rng rng = {g_salt ^ (0x4EADull + (uint64_t)r.id)};
    uint64_t reads = 0, iters = 0;
    while (!atomic_load_explicit(&S->stop, memory_order_acquire)) {
        if (reads % 4096 == 4095) {
            reader_iterate(&r);
            iters++;
        }
        uint32_t k = (uint32_t)relia_below(&rng, g_nk + NKU);
        mmapobj_value val;
        uint32_t d = k < g_nk ? atomic_load(&S->done[k]) : 0;
        int rc = get_key(r.m, k, &val);
        if (rc == MMAPOBJ_E_BUSY && busy_retry(&r)) continue;
        r.busy_in_a_row = 0;
        if (k < g_nk) check_model(&r, k, d, atomic_load(&S->intent[k]), rc, &val, "get");
        else check_free(&r, k - g_nk, rc, &val, "get");
        reads++;
        if (reads % 256 == 0 || reads == 1) {
            atomic_store(&S->reads[r.id], reads);
            atomic_store(&S->iterations[r.id], iters);
        }
    }
    atomic_store(&S->reads[r.id], reads);
    atomic_store(&S->iterations[r.id], iters);
    if (r.busy_total)
        fprintf(stderr, "reader %d: %llu reads met MMAPOBJ_E_BUSY and were tried again\n", r.id,
                (unsigned long long)r.busy_total);
    CHECK_OK(r.m, mmapobj_close(&r.m));
    free(r.scratch);
    free(r.snap);
    free(r.seen);
    return 0;
}

static uint64_t total_ops(void)
{
    uint64_t t = 0;
    for (int i = 0; i < g_nw; i++) t += atomic_load(&S->ops[i]);
    return t;
}

/* After everyone stopped: the file holds exactly the model's state. */
static void final_check(const char *phase)
{
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_open(g_path, &m));
    uint64_t live = 0;
    for (uint32_t k = 0; k < g_nk; k++) {
        mmapobj_value val;
        int rc = get_key(m, k, &val);
        uint32_t d = atomic_load(&S->done[k]), i = atomic_load(&S->intent[k]);
        if (i != d) { /* a killed writer's op that nobody settled */
            if (g_mode != MODE_CRASH || i != d + 1) relia_fail("%s: key %u intent %u done %u", phase, k, i, d);
            if (matches(&val, rc, k, i, g_scratch)) d = i;
            atomic_store(&S->done[k], d);
            atomic_store(&S->intent[k], d);
        }
        if (!matches(&val, rc, k, d, g_scratch)) relia_fail("%s: key %u does not hold version %u (%s)", phase, k, d, mmapobj_code_name(rc));
        live += is_set(k, d);
    }
    for (uint32_t u = 0; u < NKU; u++) {
        mmapobj_value val;
        int rc = get_key(m, ukey(u), &val);
        int ok = 0, any = 0;
        for (int w = 0; w < MAXW && !ok; w++) {
            uint32_t v = atomic_load(&S->udone[w][u]);
            if (!v) continue;
            any = 1;
            ok = matches(&val, rc, ukey(u), v, g_scratch);
        }
        if (!any) ok = rc == MMAPOBJ_NOTFOUND;
        if (!ok) relia_fail("%s: free key %u holds no writer's last value (%s)", phase, u, mmapobj_code_name(rc));
        live += rc == MMAPOBJ_OK;
    }
    if ((uint64_t)mmapobj_count(m) != live)
        relia_fail("%s: count %" PRId64 " but %" PRIu64 " keys are live", phase, mmapobj_count(m), live);
    int rc = mmapobj_verify(m);
    if (rc != MMAPOBJ_OK) relia_fail("%s: verify: %s: %s", phase, mmapobj_code_name(rc), mmapobj_errmsg(m));
    CHECK_OK(m, mmapobj_close(&m));
    /* and a writer opening it afterwards finds it clean and consistent */
    mmapobj_map *w = create_or_fail(g_path, 0);
    rc = mmapobj_verify(w);
    if (rc != MMAPOBJ_OK) relia_fail("%s: verify by a writer: %s: %s", phase, mmapobj_code_name(rc), mmapobj_errmsg(w));
    CHECK((uint64_t)mmapobj_count(w) == live);
    CHECK_OK(w, mmapobj_close(&w));
}

static void run_stress(const char *phase, int mode, int nw, long kills)
{
    g_mode = mode;
    g_nw = nw;
    unlink(g_path);
    const char *shared = test_path(g_dir, "stress.bin");
    S = sp_shared_create(shared, sizeof *S);
    settings_put(&S->set, g_path);
    S->set.nk = g_nk;
    S->set.nw = (uint32_t)nw;
    S->set.mode = (uint32_t)mode;
    mmapobj_map *c = create_or_fail(g_path, 0);
    CHECK_OK(c, mmapobj_close(&c));
    unsigned budget = (unsigned)(g_seconds * 4 + 120 + kills * 2);
    static const char *ids[] = {"0", "1", "2", "3", "4", "5", "6", "7"};
    int writers[MAXW], readers[NREADERS];
    for (int i = 0; i < nw; i++) writers[i] = sp_spawn("writer", budget, i, shared, ids[i], (const char *)NULL);
    for (int i = 0; i < NREADERS; i++) readers[i] = sp_spawn("reader", budget, i + 1, shared, ids[i], (const char *)NULL);

    /* the run starts when every child is at work (children start slowly under valgrind) */
    double start_by = relia_now() + 300;
    for (int ready = 0; !ready;) {
        ready = 1;
        for (int i = 0; i < nw; i++) ready &= atomic_load(&S->ops[i]) > 0;
        for (int i = 0; i < NREADERS; i++) ready &= atomic_load(&S->reads[i]) > 0;
        sp_status st;
        int ended = sp_wait_any(0.005, &st);
        if (ended >= 0) {
            char b[64];
            relia_fail("%s: a child (slot %d) ended early with %s", phase, ended, sp_status_str(&st, b, sizeof b));
        }
        if (relia_now() > start_by) relia_fail("%s: the children did not all start working within 300 s", phase);
    }
    relia_rng rng = {g_salt ^ 0x4B494C4Cull};
    double t0 = relia_now();
    long killed = 0;
    double worst_ms = 0;
    while (relia_now() - t0 < g_seconds || killed < kills) {
        if (killed < kills) {
            unsigned e = (unsigned)relia_below(&rng, 7);
            uint64_t delay = (500u << e) + relia_below(&rng, 500u << e); /* 0.5 .. 64 ms */
            if (relia_quick()) delay *= 8;
            sp_sleep_us(delay);
            int victim = (int)relia_below(&rng, (uint64_t)nw);
            sp_kill(writers[victim]);
            sp_status st = sp_wait(writers[victim], 60);
            if (st.how != SP_KILLED) {
                char b[64];
                relia_fail("%s: writer %d ended with %s before the kill", phase, victim, sp_status_str(&st, b, sizeof b));
            }
            killed++;
            /* the survivors must go on (a hang detector: the bound is generous on purpose) */
            uint64_t before = total_ops();
            double k0 = relia_now();
            while (total_ops() < before + 20) {
                if (relia_now() - k0 > 60) relia_fail("%s: writers made no progress for 60 s after a kill", phase);
                sp_sleep_us(200);
            }
            double ms = (relia_now() - k0) * 1000;
            if (ms > worst_ms) worst_ms = ms;
            writers[victim] = sp_spawn("writer", budget, victim, shared, ids[victim], (const char *)NULL);
            continue;
        }
        sp_status st;
        int ended = sp_wait_any(0.02, &st);
        if (ended >= 0) {
            char b[64];
            relia_fail("%s: a child (slot %d) ended early with %s", phase, ended, sp_status_str(&st, b, sizeof b));
        }
    }
    atomic_store_explicit(&S->stop, 1, memory_order_release);
    for (int i = 0; i < nw + NREADERS; i++) {
        int p = i < nw ? writers[i] : readers[i - nw];
        sp_status st = sp_wait(p, 120);
        if (!sp_ok(&st)) {
            char b[64];
            relia_fail("%s: %s %d ended with %s", phase, i < nw ? "writer" : "reader", i, sp_status_str(&st, b, sizeof b));
        }
    }
    final_check(phase);
    uint64_t reads = 0, iters = 0;
    for (int i = 0; i < NREADERS; i++) {
        reads += atomic_load(&S->reads[i]);
        iters += atomic_load(&S->iterations[i]);
        if (atomic_load(&S->reads[i]) == 0) relia_fail("%s: reader %d checked nothing", phase, i);
    }
    for (int i = 0; i < nw; i++)
        if (atomic_load(&S->ops[i]) == 0) relia_fail("%s: writer %d wrote nothing", phase, i);
    printf("%s: %d writers, %" PRIu64 " ops, %" PRIu64 " reads and %" PRIu64 " iterations checked", phase, nw,
           total_ops(), reads, iters);
    if (kills)
        printf(", %ld writers killed, %u operations in flight settled from the file, slowest recovery %.0f ms",
               killed, atomic_load(&S->resolved), worst_ms);
    printf("\n");
    sp_shared_close(S, sizeof *S);
    S = NULL;
}

int main(int argc, char **argv)
{
    static const sp_role roles[] = {
        {"exclusive", exclusive_child}, {"txn", txn_child},       {"crafted", crafted_child},
        {"holder", dead_holder},        {"waiter", dead_waiter},  {"counter", counter_child},
        {"writer", writer_main},        {"reader", reader_main},  {NULL, NULL}};
    sp_main(argc, argv, roles);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *which = argc > 1 ? argv[1] : "all";
    int all = strcmp(which, "all") == 0;
    g_salt = relia_seed();
    g_scratch = malloc(RELIA_SCRATCH);
    CHECK(g_scratch);
    g_dir = test_dir("writers");
    g_seconds = relia_long() ? 120.0 : relia_quick() ? 1.0 : 3.0;
    g_seconds = (double)relia_env_long("MMAPOBJ_TEST_SECONDS", (long)g_seconds);
    g_nk = relia_long() ? NK_MAX : relia_quick() ? 600 : 2000;
    long kills = relia_env_long("MMAPOBJ_TEST_KILLS", relia_quick() ? 8 : 40);
    printf("test_writers %s: seed %" PRIu64 " (MMAPOBJ_TEST_SEED), %u keys, %.0f s per phase, %ld kills\n", which,
           g_salt, g_nk, g_seconds, kills);
    int ran = 0;
    if (all || strcmp(which, "functional") == 0) {
        test_two_handles_one_thread();
        test_lock_api();
        test_exclusive();
        test_join_rules();
        test_transaction_serializes();
        test_crafted_lock_state();
        test_dead_holder();
        ran = 1;
    }
    if (all || strcmp(which, "counter") == 0) {
        test_counter();
        ran = 1;
    }
    g_path = test_path(g_dir, "stress.mmo");
    if (all || strcmp(which, "disjoint") == 0) {
        run_stress("K writers, disjoint keys", MODE_DISJOINT, 3, 0);
        ran = 1;
    }
    if (all || strcmp(which, "overlap") == 0) {
        run_stress("K writers, overlapping keys", MODE_OVERLAP, 3, 0);
        ran = 1;
    }
    if (all || strcmp(which, "crash") == 0) {
        run_stress("K writers, kill loop", MODE_CRASH, 3, kills);
        ran = 1;
    }
    if (!ran) relia_fail("unknown case %s (functional counter disjoint overlap crash, or all)", which);
    printf("test_writers %s: OK\n", which);
    relia_rmdir(g_dir);
    free(g_scratch);
    return 0;
}
