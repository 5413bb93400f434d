/* test_concurrency.c - one writer process and several reader processes on one file, at full speed
 * (children are this program started again, spawn.h; they share their bookkeeping through a file
 * mapping).
 *
 * The writer applies a deterministic sequence of operations (relia.h): operation v on key k is a
 * delete or a set of a value that names (k, v) and whose every byte follows from (k, v). Before
 * each operation it publishes intent[k] = v in the shared mapping, and done[k] = v after the call
 * returned. Readers (each with its own read-only handle) look keys up
 * and iterate as fast as they can and check every value they see:
 *   - it is exactly the value of some set (k, v) of that key (no torn, mixed or foreign value);
 *   - v <= intent[k] read after the lookup (nothing from the future);
 *   - v is not older than done[k] read before the lookup (no stale value after a confirmed set,
 *     no resurrection after a confirmed delete), and a confirmed value is not missing;
 *   - an iteration produces no key twice and every key that was present for the whole iteration.
 * The file starts small and must grow to several times its initial size during the run.
 * Two phases: "steady" (the writer reopens rarely) and "open/close churn" (the writer closes and
 * reopens every ~200 operations and readers reopen every few rounds, so opens race growth and a
 * closing writer's shrink), and "writer handover" (three processes take turns as the exclusive
 * writer (MMAPOBJ_CREATE_EXCLUSIVE): E_LOCKED for the others, never two at once; one of them is
 * killed and the next repairs the file under the readers). Several writers at once:
 * test_writers.c. At the end the readers, then the parent, check the exact final state.
 * Knobs: MMAPOBJ_TEST_LONG=1 (minutes), MMAPOBJ_TEST_QUICK=1 (valgrind), MMAPOBJ_TEST_SECONDS=N,
 * MMAPOBJ_TEST_READERS=N, MMAPOBJ_TEST_SEED=N. */
#include <stdatomic.h>

#include "relia.h"

#define MAX_READERS 8
#define MAX_KEYS 50000
#define INIT_SIZE ((uint64_t)64 * 1024)
#define MAX_SIZE ((uint64_t)1024 * 1024 * 1024)
#define GROWTH 4 /* the file must reach GROWTH x its initial size */

struct shared {
    /* the run's settings, written by the parent before it starts the children */
    uint64_t salt;
    double seconds;
    uint32_t nkeys;
    int32_t readers;
    int32_t churn;
    char path[1024];
    /* the run */
    _Atomic uint32_t stop;          /* writer finished its operations */
    _Atomic uint32_t writer_ready;  /* the file exists */
    _Atomic uint32_t final_ready;   /* writer is quiescent, final_* are set */
    _Atomic uint32_t readers_done;
    _Atomic uint32_t next_new;      /* keys [0, next_new) have been touched */
    _Atomic uint64_t final_file_size;
    _Atomic uint64_t final_count;
    _Atomic uint64_t writer_ops;
    _Atomic uint32_t holder;          /* handover: 1 + id of the writer holding the file, 0 none */
    _Atomic uint32_t dead[8];         /* handover: candidates killed by the parent */
    _Atomic uint64_t sessions, lock_refusals;
    _Atomic uint64_t reads[MAX_READERS];      /* lookups checked */
    _Atomic uint64_t iter_reads[MAX_READERS]; /* entries checked during iterations */
    _Atomic uint64_t iterations[MAX_READERS];
    _Atomic uint64_t dups[MAX_READERS];
    _Atomic uint64_t opens[MAX_READERS];       /* keys changed during an iteration and produced twice */
    _Atomic uint64_t max_size_seen[MAX_READERS];
    _Atomic uint32_t intent[MAX_KEYS];
    _Atomic uint32_t done[MAX_KEYS];
};

static struct shared *S;
static const char *g_path;
static uint64_t g_salt;
static uint32_t g_nkeys;
static double g_seconds;
static int g_readers;
static int g_churn; /* run_phase(): open/close churn */

#define MAX_EXTRA 65536

static int is_set(uint32_t k, uint32_t v)
{
    return v > 0 && relia_op_of(k, v, g_salt, MAX_EXTRA).kind != RELIA_OP_DELETE; /* 0: never written */
}

/* ---- writer --------------------------------------------------------------------------------- */

/* A child's first step: map the shared region (argv[0]) and take the run's settings from it.
 * Returns the role's number argument (argv[1]) or 0. */
static int child_setup(int argc, char **argv)
{
    if (argc < 1) relia_fail("child: no shared region named");
    S = sp_shared_open(argv[0], sizeof *S);
    g_salt = S->salt;
    g_seconds = S->seconds;
    g_nkeys = S->nkeys;
    g_readers = S->readers;
    g_churn = S->churn;
    g_path = S->path;
    return argc > 1 ? atoi(argv[1]) : 0;
}

/* Role "writer" SHARED. */
static int writer_main(int argc, char **argv)
{
    child_setup(argc, argv);
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(g_path, INIT_SIZE, 16, MAX_SIZE, &w);
    if (rc != MMAPOBJ_OK) relia_fail("writer: create %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    mmapobj_stats st;
    CHECK_OK(w, mmapobj_stat(w, &st));
    uint64_t init_size = st.file_size;
    unsigned char *scratch = malloc(RELIA_SCRATCH);
    uint32_t *ver = calloc(g_nkeys, sizeof *ver);
    CHECK(scratch && ver);
    atomic_store_explicit(&S->writer_ready, 1, memory_order_release);

    relia_rng rng = {g_salt ^ 0x57524954ull};
    uint32_t next_new = 0;
    uint64_t ops = 0, reopens = 0, cap = relia_long() ? 2000000000ull : 50000000ull;
    double t0 = relia_now();
    for (;;) {
        if ((ops & 255) == 0) {
            CHECK_OK(w, mmapobj_stat(w, &st));
            if (relia_now() - t0 >= g_seconds && st.file_size >= GROWTH * init_size) break;
            if (ops > cap)
                relia_fail("writer: %" PRIu64 " ops and the file is only %" PRIu64 " bytes (initial %" PRIu64 ")",
                           ops, st.file_size, init_size);
        }
        uint32_t k;
        if (next_new < g_nkeys && (next_new < 16 || relia_below(&rng, 10) < 3)) {
            k = next_new++;
            atomic_store_explicit(&S->next_new, next_new, memory_order_release);
        } else {
            k = (uint32_t)relia_below(&rng, next_new);
        }
        uint32_t v = ++ver[k];
        if (v > RELIA_VER_MAX) relia_fail("writer: version overflow on key %u", k);
        atomic_store_explicit(&S->intent[k], v, memory_order_seq_cst);
        rc = relia_apply(w, k, v, g_salt, MAX_EXTRA, scratch);
        if (rc != MMAPOBJ_OK)
            relia_fail("writer: op %u on key %u: %s: %s", v, k, mmapobj_code_name(rc), mmapobj_errmsg(w));
        atomic_store_explicit(&S->done[k], v, memory_order_seq_cst);
        ops++;
        if (ops % (g_churn ? 211 : 20011) == 0) {
            /* Close and reopen under the readers' feet: the close must not shrink the file
             * while they have it open, and they must go on reading across the reopen. */
            CHECK_OK(w, mmapobj_close(&w));
            rc = mmapobj_create(g_path, 0, 0, 0, &w);
            if (rc != MMAPOBJ_OK) relia_fail("writer: reopen: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
            reopens++;
        }
    }
    atomic_store_explicit(&S->writer_ops, ops, memory_order_relaxed);
    CHECK_OK(w, mmapobj_stat(w, &st));
    atomic_store_explicit(&S->final_file_size, st.file_size, memory_order_relaxed);
    atomic_store_explicit(&S->final_count, st.count, memory_order_relaxed);
    atomic_store_explicit(&S->stop, 1, memory_order_release);
    atomic_store_explicit(&S->final_ready, 1, memory_order_release);
    printf("writer: %" PRIu64 " ops, %" PRIu64 " close+reopen, %u keys touched, file %" PRIu64 " -> %" PRIu64
           " bytes, %" PRIu64 " live keys, %" PRIu64 " buckets\n",
           ops, reopens, next_new, init_size, st.file_size, st.count, st.bucket_count);
    /* Stay open (and quiescent) until the readers have done their final pass. */
    while (atomic_load_explicit(&S->readers_done, memory_order_acquire) < (uint32_t)g_readers) sp_sleep_us(1000);
    rc = mmapobj_verify(w);
    if (rc != MMAPOBJ_OK) relia_fail("writer: verify: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(w));
    CHECK_OK(w, mmapobj_close(&w));
    free(scratch);
    free(ver);
    return 0;
}

/* ---- readers -------------------------------------------------------------------------------- */

struct reader {
    int id;
    mmapobj_map *m;
    unsigned char *scratch; /* expected values */
    unsigned char *copy;    /* values fetched with mmapobj_copy_last / from batches */
    size_t copy_cap;
    unsigned char *batch;
    size_t batch_cap;
    uint32_t *snap;
    unsigned char *seen;
    uint64_t reads, iter_reads, iterations, dups, opens;
};

#define RFAIL(r, ...)                                                                   \
    do {                                                                                \
        fprintf(stderr, "reader %d: ", (r)->id);                                        \
        relia_fail(__VA_ARGS__);                                                        \
    } while (0)

/* Is there a delete among versions (lo, hi]? */
static int delete_between(uint32_t k, uint32_t lo, uint32_t hi)
{
    for (uint32_t v = lo + 1; v <= hi; v++)
        if (!is_set(k, v)) return 1;
    return 0;
}

/* A value val was read for key k between done == d (before) and intent == i (after). */
static void check_value(struct reader *r, uint32_t k, uint32_t d, uint32_t i, const mmapobj_value *val,
                        const char *how)
{
    uint32_t ck, cv;
    if (!relia_claim(val, &ck, &cv))
        RFAIL(r, "%s key %u: unparseable value (kind %d, len %zu)", how, k, (int)val->kind, val->len);
    if (ck != k) RFAIL(r, "%s key %u: foreign value of key %u version %u", how, k, ck, cv);
    if (cv == 0 || cv > i)
        RFAIL(r, "%s key %u: version %u never written (intent %u)", how, k, cv, i);
    if (!relia_value_is(val, k, cv, g_salt, MAX_EXTRA, r->scratch))
        RFAIL(r, "%s key %u: torn/mixed value claiming version %u (kind %d len %zu)", how, k, cv,
              (int)val->kind, val->len);
    if (d > 0 && (is_set(k, d) ? cv < d : cv <= d))
        RFAIL(r, "%s key %u: stale version %u after version %u was confirmed", how, k, cv, d);
}

static void check_missing(struct reader *r, uint32_t k, uint32_t d, uint32_t i, const char *how)
{
    if (d > 0 && is_set(k, d) && !delete_between(k, d, i))
        RFAIL(r, "%s key %u: missing although version %u was confirmed (intent %u)", how, k, d, i);
}

static void check_present(struct reader *r, uint32_t k, uint32_t d, uint32_t i, const char *how)
{
    uint32_t lo = d == 0 ? 1 : is_set(k, d) ? d : d + 1;
    for (uint32_t v = lo; v <= i; v++)
        if (is_set(k, v)) return;
    RFAIL(r, "%s key %u: present but no set in versions [%u, %u]", how, k, lo, i);
}

static void ensure_copy(struct reader *r, size_t n)
{
    if (n + 1 <= r->copy_cap) return;
    r->copy_cap = n + 1;
    r->copy = realloc(r->copy, r->copy_cap);
    CHECK(r->copy);
}

/* One lookup of key k by one of the lookup paths, checked. */
static void lookup_one(struct reader *r, uint32_t k, unsigned how)
{
    char key[RELIA_KEY_MAX + 1];
    size_t klen = relia_key(k, key);
    key[klen] = 0;
    uint32_t d = atomic_load_explicit(&S->done[k], memory_order_seq_cst);
    mmapobj_value val;
    int rc;
    const char *name;
    if (how == 0 || (how == 1 && relia_key_has_nul(k))) {
        name = "get";
        rc = mmapobj_get(r->m, key, klen, &val);
    } else if (how == 1) {
        name = "get_z";
        const char *s = mmapobj_get_z(r->m, key);
        const mmapobj_status *sb = mmapobj_status_block(r->m);
        rc = sb->code;
        memset(&val, 0, sizeof val);
        val.kind = sb->kind;
        if (s) {
            if (rc != MMAPOBJ_OK || sb->kind != MMAPOBJ_KIND_STRING)
                RFAIL(r, "get_z key %u: string returned but status code %d kind %d", k, rc, (int)sb->kind);
            val.data = s;
            val.len = sb->len;
            if (strlen(s) != sb->len) RFAIL(r, "get_z key %u: strlen %zu != status len %" PRIu64, k, strlen(s), sb->len);
        } else if (rc == MMAPOBJ_OK && sb->kind == MMAPOBJ_KIND_NUMBER) {
            val.number = sb->number;
        } else if (rc == MMAPOBJ_OK) {
            ensure_copy(r, sb->len);
            int64_t n = mmapobj_copy_last(r->m, r->copy, r->copy_cap);
            if (n != (int64_t)sb->len) RFAIL(r, "copy_last key %u: %" PRId64 " != %" PRIu64, k, n, sb->len);
            r->copy[n] = 0;
            val.data = r->copy;
            val.len = (size_t)n;
        }
    } else {
        name = "has";
        rc = mmapobj_has(r->m, key, klen);
        uint32_t i = atomic_load_explicit(&S->intent[k], memory_order_seq_cst);
        if (rc == 1) check_present(r, k, d, i, name);
        else if (rc == 0) check_missing(r, k, d, i, name);
        else RFAIL(r, "has key %u: %s: %s", k, mmapobj_code_name(rc), mmapobj_errmsg(r->m));
        r->reads++;
        return;
    }
    uint32_t i = atomic_load_explicit(&S->intent[k], memory_order_seq_cst);
    if (rc == MMAPOBJ_OK) check_value(r, k, d, i, &val, name);
    else if (rc == MMAPOBJ_NOTFOUND) check_missing(r, k, d, i, name);
    else RFAIL(r, "%s key %u: %s: %s", name, k, mmapobj_code_name(rc), mmapobj_errmsg(r->m));
    r->reads++;
}

/* After one produced entry (k, val) of an iteration that started with done snapshot snap. */
static void iter_entry(struct reader *r, const void *key, size_t klen, const mmapobj_value *val, uint32_t nn,
                       const char *how)
{
    uint32_t k;
    if (!relia_parse_key(key, klen, &k) || k >= g_nkeys) RFAIL(r, "%s: foreign key of length %zu", how, klen);
    uint32_t i = atomic_load_explicit(&S->intent[k], memory_order_seq_cst);
    if (r->seen[k]) {
        /* The contract allows a key changed during the iteration to show up again (deleted and
         * set again into another slot); a key nobody touched must come exactly once. */
        uint32_t before = k < nn ? r->snap[k] : 0;
        if (i == before) RFAIL(r, "%s: key %u (untouched during the iteration, version %u) produced twice", how, k, i);
        r->dups++;
    }
    r->seen[k] = 1;
    check_value(r, k, k < nn ? r->snap[k] : 0, i, val, how);
    r->iter_reads++;
}

static void iterate_once(struct reader *r, int batch)
{
    const char *how = batch ? "iter_batch" : "iter_next";
    uint32_t nn = atomic_load_explicit(&S->next_new, memory_order_seq_cst);
    for (uint32_t k = 0; k < nn; k++) r->snap[k] = atomic_load_explicit(&S->done[k], memory_order_seq_cst);
    memset(r->seen, 0, g_nkeys);
    mmapobj_iter *it = NULL;
    int rc = mmapobj_iter_open(r->m, &it);
    if (rc != MMAPOBJ_OK) RFAIL(r, "iter_open: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(r->m));
    uint64_t produced = 0;
    for (;;) {
        if (!batch) {
            const void *key;
            size_t klen;
            mmapobj_value val;
            rc = mmapobj_iter_next(it, &key, &klen, &val);
            if (rc == 0) break;
            if (rc != 1) RFAIL(r, "iter_next: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(r->m));
            iter_entry(r, key, klen, &val, nn, how);
            produced++;
        } else {
            uint64_t need = 0;
            rc = mmapobj_iter_batch(it, r->batch, r->batch_cap, 1, &need);
            if (rc == MMAPOBJ_E_BUFSMALL) {
                if (need <= r->batch_cap) RFAIL(r, "iter_batch: BUFSMALL but need %" PRIu64 " <= cap %zu", need, r->batch_cap);
                r->batch_cap = (size_t)need;
                r->batch = realloc(r->batch, r->batch_cap);
                CHECK(r->batch);
                continue;
            }
            if (rc < 0) RFAIL(r, "iter_batch: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(r->m));
            if (rc == 0) break;
            const unsigned char *p = r->batch, *end = r->batch + r->batch_cap;
            for (int e = 0; e < rc; e++) {
                uint32_t kl, vl;
                if (end - p < 4) RFAIL(r, "iter_batch: entry %d overruns the buffer", e);
                memcpy(&kl, p, 4);
                p += 4;
                if ((size_t)(end - p) < (size_t)kl + 1) RFAIL(r, "iter_batch: key of entry %d overruns", e);
                const unsigned char *key = p;
                p += kl;
                mmapobj_value val;
                memset(&val, 0, sizeof val);
                val.kind = *p++;
                if (val.kind == MMAPOBJ_KIND_NUMBER) {
                    if (end - p < 8) RFAIL(r, "iter_batch: number of entry %d overruns", e);
                    memcpy(&val.number, p, 8);
                    p += 8;
                } else {
                    if (end - p < 4) RFAIL(r, "iter_batch: length of entry %d overruns", e);
                    memcpy(&vl, p, 4);
                    p += 4;
                    if ((size_t)(end - p) < vl) RFAIL(r, "iter_batch: value of entry %d overruns", e);
                    ensure_copy(r, vl);
                    memcpy(r->copy, p, vl);
                    r->copy[vl] = 0;
                    val.data = r->copy;
                    val.len = vl;
                    p += vl;
                }
                iter_entry(r, key, kl, &val, nn, how);
                produced++;
            }
        }
        if (produced > g_nkeys) RFAIL(r, "%s: produced more entries than keys exist", how);
    }
    mmapobj_iter_close(&it);
    /* Every key present for the whole iteration must have been produced. */
    for (uint32_t k = 0; k < nn; k++) {
        uint32_t d = r->snap[k];
        if (r->seen[k] || d == 0 || !is_set(k, d)) continue;
        if (atomic_load_explicit(&S->intent[k], memory_order_seq_cst) == d)
            RFAIL(r, "%s: key %u (version %u, untouched during the iteration) not produced", how, k, d);
    }
    r->iterations++;
}

/* After the writer stopped: everything must be exactly the writer's final state. */
static void final_pass(struct reader *r)
{
    uint32_t nn = atomic_load_explicit(&S->next_new, memory_order_acquire);
    uint64_t live = 0;
    for (uint32_t k = 0; k < nn; k++) {
        uint32_t d = atomic_load_explicit(&S->done[k], memory_order_acquire);
        if (atomic_load_explicit(&S->intent[k], memory_order_acquire) != d) RFAIL(r, "final: key %u in flight", k);
        char key[RELIA_KEY_MAX];
        size_t klen = relia_key(k, key);
        mmapobj_value val;
        int rc = mmapobj_get(r->m, key, klen, &val);
        if (is_set(k, d)) {
            live++;
            if (rc != MMAPOBJ_OK) RFAIL(r, "final: key %u version %u: %s", k, d, mmapobj_code_name(rc));
            if (!relia_value_is(&val, k, d, g_salt, MAX_EXTRA, r->scratch))
                RFAIL(r, "final: key %u does not hold version %u", k, d);
        } else if (rc != MMAPOBJ_NOTFOUND) {
            RFAIL(r, "final: deleted key %u (version %u) gives %s", k, d, mmapobj_code_name(rc));
        }
        r->reads++;
    }
    if (live != atomic_load_explicit(&S->final_count, memory_order_relaxed))
        RFAIL(r, "final: %" PRIu64 " live keys but the writer counts %" PRIu64, live,
              (uint64_t)atomic_load_explicit(&S->final_count, memory_order_relaxed));
    if ((uint64_t)mmapobj_count(r->m) != live)
        RFAIL(r, "final: mmapobj_count %" PRId64 " != %" PRIu64, mmapobj_count(r->m), live);
    iterate_once(r, 0);
    uint64_t produced = 0;
    for (uint32_t k = 0; k < g_nkeys; k++) produced += r->seen[k];
    if (produced != live) RFAIL(r, "final: iteration produced %" PRIu64 " of %" PRIu64 " keys", produced, live);
    mmapobj_stats st;
    CHECK_OK(r->m, mmapobj_stat(r->m, &st));
    if (st.file_size > atomic_load_explicit(&S->max_size_seen[r->id], memory_order_relaxed))
        atomic_store_explicit(&S->max_size_seen[r->id], st.file_size, memory_order_relaxed);
    if (st.file_size != atomic_load_explicit(&S->final_file_size, memory_order_relaxed))
        RFAIL(r, "final: reader sees file_size %" PRIu64 ", writer %" PRIu64, st.file_size,
              (uint64_t)atomic_load_explicit(&S->final_file_size, memory_order_relaxed));
    int rc = mmapobj_verify(r->m);
    if (rc != MMAPOBJ_OK) RFAIL(r, "final: verify: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(r->m));
}

/* Opens the reader's handle (again). Opens race the writer growing the file (regression:
 * bugs-for-A #3, such an open failed with E_TOOSMALL). */
static void reader_open(struct reader *r)
{
    int rc = mmapobj_open(g_path, &r->m);
    if (rc != MMAPOBJ_OK) RFAIL(r, "open: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    CHECK(mmapobj_is_writable(r->m) == 0);
    r->opens++;
}

/* Role "reader" SHARED ID. */
static int reader_main(int argc, char **argv)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    r.id = child_setup(argc, argv);
    if (r.id < 0 || r.id >= MAX_READERS) relia_fail("reader: bad id %d", r.id);
    r.scratch = malloc(RELIA_SCRATCH);
    r.batch_cap = 16384;
    r.batch = malloc(r.batch_cap);
    r.snap = calloc(g_nkeys, sizeof *r.snap);
    r.seen = calloc(g_nkeys, 1);
    CHECK(r.scratch && r.batch && r.snap && r.seen);
    reader_open(&r);
    relia_rng rng = {g_salt ^ (uint64_t)(r.id + 1) * 0x1234567ull};
    uint64_t round = 0;
    while (!atomic_load_explicit(&S->stop, memory_order_acquire)) {
        if (round % (g_churn ? 4 : 256) == (g_churn ? 3 : 255)) { /* a fresh handle now and then: opens race the growing file */
            CHECK_OK(r.m, mmapobj_close(&r.m));
            reader_open(&r);
        }
        if (round++ % 64 == 63) {
            iterate_once(&r, (int)(round / 64) & 1);
        } else {
            uint32_t nn = atomic_load_explicit(&S->next_new, memory_order_acquire);
            for (int j = 0; j < 64; j++) {
                uint32_t k = (uint32_t)relia_below(&rng, (uint64_t)nn + 8);
                if (k >= g_nkeys) k = g_nkeys - 1;
                lookup_one(&r, k, (unsigned)relia_below(&rng, 3));
            }
            int64_t c = mmapobj_count(r.m);
            if (c < 0 || c > (int64_t)g_nkeys) RFAIL(&r, "count %" PRId64 " out of range", c);
        }
        mmapobj_stats st;
        CHECK_OK(r.m, mmapobj_stat(r.m, &st));
        if (st.file_size > atomic_load_explicit(&S->max_size_seen[r.id], memory_order_relaxed))
            atomic_store_explicit(&S->max_size_seen[r.id], st.file_size, memory_order_relaxed);
        atomic_store_explicit(&S->reads[r.id], r.reads, memory_order_relaxed);
        atomic_store_explicit(&S->iter_reads[r.id], r.iter_reads, memory_order_relaxed);
    }
    while (!atomic_load_explicit(&S->final_ready, memory_order_acquire)) sp_sleep_us(1000);
    final_pass(&r);
    atomic_store_explicit(&S->reads[r.id], r.reads, memory_order_relaxed);
    atomic_store_explicit(&S->iter_reads[r.id], r.iter_reads, memory_order_relaxed);
    atomic_store_explicit(&S->iterations[r.id], r.iterations, memory_order_relaxed);
    atomic_store_explicit(&S->dups[r.id], r.dups, memory_order_relaxed);
    atomic_store_explicit(&S->opens[r.id], r.opens, memory_order_relaxed);
    CHECK_OK(r.m, mmapobj_close(&r.m));
    atomic_fetch_add_explicit(&S->readers_done, 1, memory_order_release);
    free(r.scratch);
    free(r.copy);
    free(r.batch);
    free(r.snap);
    free(r.seen);
    return 0;
}

/* ---- writer handover ------------------------------------------------------------------------ */

#define CANDIDATES 3

/* One of CANDIDATES processes that take turns as the exclusive writer: each tries
 * mmapobj_create_ex(MMAPOBJ_CREATE_EXCLUSIVE) until it gets the file (the others get E_LOCKED),
 * applies a few hundred operations to its own keys (k % CANDIDATES == id), and closes. Two writers at once would show as active > 1. */
/* Role "candidate" SHARED ID. */
static int candidate_main(int argc, char **argv)
{
    uint32_t id = (uint32_t)child_setup(argc, argv);
    if (id >= CANDIDATES) relia_fail("candidate: bad id %u", id);
    unsigned char *scratch = malloc(RELIA_SCRATCH);
    uint32_t *ver = calloc(g_nkeys, sizeof *ver);
    CHECK(scratch && ver);
    relia_rng rng = {g_salt ^ (0xCA4D1Dull + id)};
    uint64_t sessions = 0, locked = 0;
    double t0 = relia_now();
    while (relia_now() - t0 < g_seconds || sessions == 0) {
        mmapobj_map *w = NULL;
        int rc = mmapobj_create_ex(g_path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w);
        if (rc == MMAPOBJ_E_LOCKED) {
            if (!strstr(mmapobj_errmsg(NULL), g_path)) relia_fail("candidate %u: E_LOCKED message does not name the file", id);
            locked++;
            sp_sleep_us(relia_below(&rng, 300));
            continue;
        }
        if (rc != MMAPOBJ_OK) relia_fail("candidate %u: create: %s: %s", id, mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        uint32_t prev = atomic_exchange(&S->holder, id + 1);
        if (prev != 0 && !atomic_load(&S->dead[prev - 1]))
            relia_fail("candidate %u: candidate %u still holds the file: two writers at once", id, prev - 1);
        uint64_t n = 50 + relia_below(&rng, 400);
        for (uint64_t j = 0; j < n; j++) {
            uint32_t k = id + CANDIDATES * (uint32_t)relia_below(&rng, g_nkeys / CANDIDATES);
            uint32_t v = ++ver[k];
            atomic_store_explicit(&S->intent[k], v, memory_order_seq_cst);
            rc = relia_apply(w, k, v, g_salt, MAX_EXTRA, scratch);
            if (rc != MMAPOBJ_OK)
                relia_fail("candidate %u: op %u on key %u: %s: %s", id, v, k, mmapobj_code_name(rc), mmapobj_errmsg(w));
            atomic_store_explicit(&S->done[k], v, memory_order_seq_cst);
        }
        atomic_fetch_add_explicit(&S->writer_ops, n, memory_order_relaxed);
        atomic_store(&S->holder, 0);
        CHECK_OK(w, mmapobj_close(&w));
        sessions++;
    }
    atomic_fetch_add(&S->sessions, sessions);
    atomic_fetch_add(&S->lock_refusals, locked);
    free(scratch);
    free(ver);
    return 0;
}

/* ---- parent ---------------------------------------------------------------------------------- */

/* After candidate id was killed: its operation in flight (intent != done on one of its keys)
 * either happened or not; look at the file and settle intent/done accordingly. */
static void resolve_killed(uint32_t id)
{
    unsigned char *scratch = malloc(RELIA_SCRATCH);
    CHECK(scratch);
    int inflight = 0;
    for (uint32_t k = id; k < g_nkeys; k += CANDIDATES) {
        uint32_t d = atomic_load(&S->done[k]), i = atomic_load(&S->intent[k]);
        if (i == d) continue;
        if (i != d + 1 || inflight++) relia_fail("killed candidate: key %u intent %u done %u", k, i, d);
        mmapobj_map *m = NULL;
        CHECK_OK(NULL, mmapobj_open(g_path, &m));
        char key[RELIA_KEY_MAX];
        size_t klen = relia_key(k, key);
        mmapobj_value val;
        int rc = mmapobj_get(m, key, klen, &val);
        int now_new = is_set(k, i) ? rc == MMAPOBJ_OK && relia_value_is(&val, k, i, g_salt, MAX_EXTRA, scratch)
                                   : rc == MMAPOBJ_NOTFOUND;
        int now_old = is_set(k, d) ? rc == MMAPOBJ_OK && relia_value_is(&val, k, d, g_salt, MAX_EXTRA, scratch)
                                   : rc == MMAPOBJ_NOTFOUND;
        if (!now_new && !now_old) relia_fail("killed candidate: key %u holds neither version %u nor %u (%s)", k, d, i, mmapobj_code_name(rc));
        if (now_new) atomic_store(&S->done[k], i);
        else atomic_store(&S->intent[k], d);
        CHECK_OK(m, mmapobj_close(&m));
    }
    printf("writer handover: candidate %u killed (%s an operation)\n", id, inflight ? "inside" : "outside");
    free(scratch);
}

/* One run: a writer and g_readers readers for g_seconds. churn 1: the writer closes and reopens
 * every few hundred operations and the readers reopen every few rounds (races between a closing
 * writer's shrink and readers opening); churn 2: CANDIDATES writer processes take turns. */
static void run_phase(const char *phase, int churn, const char *shared_path, uint64_t *total_reads)
{
    g_churn = churn;
    unlink(g_path);
    memset(S, 0, sizeof *S);
    S->salt = g_salt;
    S->seconds = g_seconds;
    S->nkeys = g_nkeys;
    S->readers = g_readers;
    S->churn = churn;
    CHECK(strlen(g_path) < sizeof S->path);
    strcpy(S->path, g_path);
    unsigned budget = (unsigned)(g_seconds * 20 + 300);
    char ids[MAX_READERS][16];
    for (int i = 0; i < MAX_READERS; i++) snprintf(ids[i], sizeof ids[i], "%d", i);

    int w = -1, cands[CANDIDATES] = {-1, -1, -1};
    if (churn == 2) {
        /* Handover: the file exists before the candidates start; every key may be touched. */
        mmapobj_map *c = NULL;
        CHECK_OK(NULL, mmapobj_create(g_path, INIT_SIZE, 16, MAX_SIZE, &c));
        CHECK_OK(c, mmapobj_close(&c));
        atomic_store(&S->next_new, g_nkeys);
        atomic_store(&S->writer_ready, 1);
        for (int i = 0; i < CANDIDATES; i++) cands[i] = sp_spawn("candidate", budget, i, shared_path, ids[i], (const char *)NULL);
    } else {
        w = sp_spawn("writer", budget, 0, shared_path, (const char *)NULL);
    }
    double until = relia_now() + 60;
    while (!atomic_load_explicit(&S->writer_ready, memory_order_acquire)) {
        sp_status st;
        if (sp_wait_any(0, &st) >= 0) {
            char b[64];
            relia_fail("writer ended before the file was ready: %s", sp_status_str(&st, b, sizeof b));
        }
        if (relia_now() > until) relia_fail("writer did not create the file within 60 s");
        sp_sleep_us(1000);
    }
    for (int i = 0; i < g_readers; i++) sp_spawn("reader", budget, i + 1, shared_path, ids[i], (const char *)NULL);

    /* Reap in whatever order they end; any failure kills the rest. */
    int writers = churn == 2 ? CANDIDATES : 1, left = g_readers + writers;
    double end = relia_now() + budget + 10;
    /* Handover: candidate 0 is killed (SIGKILL / TerminateProcess) at a random moment; another takes over and repairs the
     * file while the readers go on reading. */
    relia_rng krng = {g_salt ^ 0x4B494C4Cull};
    double kill_at = relia_now() + g_seconds * (0.2 + 0.6 * (double)relia_below(&krng, 1000) / 1000.0);
    int killed = churn != 2;
    while (left > 0) {
        if (!killed && relia_now() >= kill_at) {
            atomic_store(&S->dead[0], 1);
            if (cands[0] >= 0) sp_kill(cands[0]);
            killed = 1;
        }
        if (churn == 2 && left == g_readers && !atomic_load(&S->final_ready)) {
            /* All candidates are done: publish the final state for the readers' last pass. */
            mmapobj_map *c = NULL;
            CHECK_OK(NULL, mmapobj_open(g_path, &c));
            mmapobj_stats cs;
            CHECK_OK(c, mmapobj_stat(c, &cs));
            uint64_t live = 0;
            for (uint32_t k = 0; k < g_nkeys; k++) live += is_set(k, atomic_load(&S->done[k]));
            atomic_store(&S->final_file_size, cs.file_size);
            atomic_store(&S->final_count, live);
            CHECK_OK(c, mmapobj_close(&c));
            atomic_store(&S->stop, 1);
            atomic_store(&S->final_ready, 1);
            printf("%s: %" PRIu64 " writer sessions by %d processes, %" PRIu64 " E_LOCKED refusals, %" PRIu64
                   " ops, file %" PRIu64 " bytes, %" PRIu64 " live keys\n",
                   phase, (uint64_t)atomic_load(&S->sessions), CANDIDATES, (uint64_t)atomic_load(&S->lock_refusals),
                   (uint64_t)atomic_load(&S->writer_ops), cs.file_size, live);
        }
        sp_status st;
        int p = sp_wait_any(0, &st);
        if (p >= 0) {
            int is_writer = p == w;
            for (int i = 0; i < CANDIDATES; i++) is_writer |= p == cands[i];
            const char *who = is_writer ? "writer" : "reader";
            char b[64];
            if (churn == 2 && p == cands[0] && st.how == SP_KILLED) {
                resolve_killed(0);
                cands[0] = -1;
                left--;
                continue;
            }
            if (!sp_ok(&st)) relia_fail("%s (slot %d) ended with %s", who, p, sp_status_str(&st, b, sizeof b));
            for (int i = 0; i < CANDIDATES; i++)
                if (cands[i] == p) cands[i] = -1;
            left--;
            continue;
        }
        if (relia_now() > end) relia_fail("children did not finish within %u s", budget + 10);
        sp_sleep_us(5000);
    }

    /* The writer has closed: the file reopens, verifies and holds exactly the final state. */
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_open(g_path, &m));
    CHECK_OK(m, mmapobj_verify(m));
    unsigned char *scratch = malloc(RELIA_SCRATCH);
    CHECK(scratch);
    uint32_t nn = atomic_load(&S->next_new);
    uint64_t live = 0;
    for (uint32_t k = 0; k < nn; k++) {
        char key[RELIA_KEY_MAX];
        size_t klen = relia_key(k, key);
        mmapobj_value val;
        uint32_t d = atomic_load(&S->done[k]);
        int rc = mmapobj_get(m, key, klen, &val);
        if (is_set(k, d)) {
            live++;
            CHECK_OK(m, rc);
            CHECK(relia_value_is(&val, k, d, g_salt, MAX_EXTRA, scratch));
        } else {
            CHECK_RC(m, rc, MMAPOBJ_NOTFOUND);
        }
    }
    CHECK(mmapobj_count(m) == (int64_t)live);
    CHECK_OK(m, mmapobj_close(&m));
    free(scratch);

    uint64_t reads = 0, iter_reads = 0, iters = 0, dups = 0, opens = 0, grown = UINT64_MAX;
    for (int i = 0; i < g_readers; i++) {
        reads += S->reads[i];
        iter_reads += S->iter_reads[i];
        iters += S->iterations[i];
        dups += S->dups[i];
        opens += S->opens[i];
        if (S->max_size_seen[i] < grown) grown = S->max_size_seen[i];
        if (S->reads[i] == 0 || S->iterations[i] == 0) relia_fail("reader %d checked nothing", i);
    }
    if (churn != 2 && grown < GROWTH * INIT_SIZE)
        relia_fail("a reader followed the file only to %" PRIu64 " bytes", grown);
    printf("%s: %" PRIu64 " writer ops; stress reads checked: %" PRIu64 " (%" PRIu64
           " lookups + %" PRIu64 " iterated entries in %" PRIu64 " iterations); readers followed the file to >= %"
           PRIu64 " bytes; %" PRIu64 " keys changed during an iteration were produced twice (allowed)\n",
           phase, (uint64_t)S->writer_ops, reads + iter_reads, reads, iter_reads, iters, grown, dups);
    printf("%s: readers opened %" PRIu64 " handles during the run\n", phase, opens);
    *total_reads += reads + iter_reads;
}

int main(int argc, char **argv)
{
    static const sp_role roles[] = {
        {"writer", writer_main}, {"reader", reader_main}, {"candidate", candidate_main}, {NULL, NULL}};
    sp_main(argc, argv, roles);
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_salt = relia_seed();
    g_seconds = relia_long() ? 150.0 : relia_quick() ? 1.0 : 2.0; /* per phase */
    g_seconds = (double)relia_env_long("MMAPOBJ_TEST_SECONDS", (long)g_seconds);
    g_readers = (int)relia_env_long("MMAPOBJ_TEST_READERS", 2);
    if (g_readers < 2) g_readers = 2;
    if (g_readers > MAX_READERS) g_readers = MAX_READERS;
    g_nkeys = relia_long() ? MAX_KEYS : relia_quick() ? 1500 : 4000;
    printf("test_concurrency: seed %" PRIu64 " (MMAPOBJ_TEST_SEED), %d readers, %u keys, %.0f s per phase\n", g_salt,
           g_readers, g_nkeys, g_seconds);

    const char *dir = test_dir("concurrency");
    g_path = test_path(dir, "stress.mmo");
    const char *shared_path = test_path(dir, "shared.bin");
    S = sp_shared_create(shared_path, sizeof *S);
    uint64_t total = 0;
    run_phase("steady", 0, shared_path, &total);
    run_phase("open/close churn", 1, shared_path, &total);
    run_phase("writer handover", 2, shared_path, &total);
    printf("test_concurrency: OK: stress reads checked: %" PRIu64 "\n", total);
    sp_shared_close(S, sizeof *S);
    relia_rmdir(dir);
    return 0;
}
