/* test_hostile.c - hostile files: deterministic mutations of a valid file, crafted headers and
 * structures, special paths, and the golden corrupt files in test/c/golden/.
 *
 * For every file: mmapobj_open either fails with a format code whose message names the path, or
 * succeeds, and then lookups of every original key, has/get_z, both iteration forms, count, stat
 * and verify all return (errors allowed, crashes, hangs and out-of-bounds reads not). Where
 * docs/FORMAT.md says what a reader must do (truncation -> E_TOOSMALL, a damaged structure ->
 * verify reports E_CORRUPT, a dead writer's odd seq -> lookups still work, ...), that exact outcome
 * is required. Many files are also opened by a writer: if its verify passes, a few writes must keep
 * it passing.
 *
 * Golden files: test/c/golden/<expect>-<what>.bin, where <expect> is ok, badmagic, major, minor,
 * toosmall, corrupt, layout (the code open must return) or any (a regression input that must only
 * not crash). `test_hostile --write-golden DIR` regenerates the generated ones; the test checks that
 * the committed copies equal what the generator makes.
 *
 * The format facts used here come from docs/FORMAT.md, not from the library's sources, so this
 * test also checks the document. Knobs: MMAPOBJ_TEST_QUICK=1, MMAPOBJ_TEST_SEED=N. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "relia.h"
#include "testhook.h"

/* ---- format facts (docs/FORMAT.md) -------------------------------------------------------- */

enum {
    H_MAGIC = 0, H_MAJOR = 8, H_MINOR = 10, H_HSIZE = 12, H_ORDER = 16, H_SLOT = 20, H_SEED = 24,
    H_CREATED = 32, H_ALIGN = 40, H_CLASSES = 44, H_RES0 = 48, H_CHECKSUM = 56, H_SEQ = 64,
    H_TABLE = 72, H_FSIZE = 80, H_MAXSIZE = 88, H_COUNT = 128, H_TOMBS = 136, H_ALLOC = 144,
    H_FREE = 152, H_SLACK = 160, H_CSTR = 168, H_CNUM = 176, H_CBYTES = 184, H_FLAGS = 192,
    H_PID = 196, H_STATE = 200, H_HEADS = 4096, HDR = 8192
};
#define TABLE_MARKER 0x4C425454u

static uint64_t rd64(const unsigned char *b, size_t off) { uint64_t v; memcpy(&v, b + off, 8); return v; }
static uint32_t rd32(const unsigned char *b, size_t off) { uint32_t v; memcpy(&v, b + off, 4); return v; }
static void wr64(unsigned char *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }
static void wr32(unsigned char *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void wr16(unsigned char *b, size_t off, uint16_t v) { memcpy(b + off, &v, 2); }
static void fix_checksum(unsigned char *b) { wr64(b, H_CHECKSUM, XXH3_64bits(b, 56)); }
static uint64_t table_off(const unsigned char *b) { return rd64(b, H_TABLE) & ((1ull << 48) - 1); }
static unsigned table_log2(const unsigned char *b) { return (unsigned)(rd64(b, H_TABLE) >> 56); }

/* state_checksum (offset 200) as docs/FORMAT.md defines it: XXH3_64bits (seed 0) of table_ref,
 * bytes 128..191, the 512 free-list heads, then the 16-byte header of every listed free block,
 * classes 0..511 in order, each list from its head. A cyclic list is cut after blen/16 blocks. */
static uint64_t state_checksum(const unsigned char *b, size_t blen)
{
    XXH3_state_t *st = XXH3_createState();
    CHECK(st);
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, b + H_TABLE, 8);
    XXH3_64bits_update(st, b + H_COUNT, 64);
    XXH3_64bits_update(st, b + H_HEADS, 4096);
    size_t steps = 0;
    for (size_t c = 0; c < 512; c++)
        for (uint64_t off = rd64(b, H_HEADS + 8 * c); off && off <= blen - 16 && steps++ < blen / 16; off = rd64(b, off + 8))
            XXH3_64bits_update(st, b + off, 16);
    uint64_t d = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return d;
}
static void fix_state(unsigned char *b, size_t blen) { wr64(b, H_STATE, state_checksum(b, blen)); }

/* ---- state -------------------------------------------------------------------------------- */

#define NB 300
#define MAX_EXTRA 1500
#define EXPECT_ANY 12345

static uint64_t g_salt;
static uint32_t g_ver[NB];
static const char *g_dir;
static char g_mut[700];        /* the file under test */
static char g_desc[256];       /* what is being tried (printed on a crash or hang) */
static unsigned char *g_scratch;
static uint64_t g_tried, g_open_ok, g_open_fail, g_writer_opened, g_writes_done;
static uint64_t g_code_tally[64];
static int g_quick;
/* A forged file whose state checksum was recomputed over a false count: the writer trusts the
 * count (every value must still be right; count and verify may disagree with the table). */
static int g_counts_may_lie;
/* keeps: the number of repair walks the writer open must make (-1: not checked) */
static int g_repairs_expected = -1;

struct extra { const char *key; size_t klen; int kind; const char *val; size_t vlen; };
static char g_long_key[2000];
static const struct extra g_extras[] = {
    {"", 0, MMAPOBJ_KIND_STRING, "empty key", 9},
    {"a", 1, MMAPOBJ_KIND_STRING, "b", 1},
    {g_long_key, sizeof g_long_key, MMAPOBJ_KIND_BYTES, "\0\1\2\3 long key", 14},
    {"nul\0key", 7, MMAPOBJ_KIND_STRING, "", 0},
    {"bytes-empty", 11, MMAPOBJ_KIND_BYTES, "", 0},
};
#define NEXTRA (sizeof g_extras / sizeof g_extras[0])

static void tally(int rc)
{
    int idx = rc >= 0 ? 0 : -rc < 10 ? 1 : (-rc / 100) * 10 + (-rc % 100);
    if (idx >= 0 && idx < 64) g_code_tally[idx]++;
}

static void on_fatal(int sig)
{
    char buf[1200];
    int n = snprintf(buf, sizeof buf, "\nFATAL signal %d while trying: %s\n  input left at %s\n", sig,
                     g_desc, g_mut);
    if (n > 0) (void)!write(2, buf, (size_t)n);
    signal(sig, SIG_DFL);
    raise(sig);
}

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef _WIN32
/* the hang guard (sp_alarm) on Windows: no SIGALRM there */
static void on_hang(void)
{
    fprintf(stderr, "\nFATAL hang while trying: %s\n  input left at %s\n", g_desc, g_mut);
}
#endif

static void install_handlers(void)
{
#ifndef HAVE_ASAN
    signal(SIGSEGV, on_fatal);
#ifdef SIGBUS
    signal(SIGBUS, on_fatal);
#endif
#endif
#ifdef _WIN32
    sp_set_alarm_hook(on_hang);
#else
    signal(SIGALRM, on_fatal);
#endif
}

/* ---- the base file ------------------------------------------------------------------------ */

static int base_matches(uint32_t k, const mmapobj_value *val, int rc)
{
    if (relia_op_of(k, g_ver[k], g_salt, MAX_EXTRA).kind == RELIA_OP_DELETE) return rc == MMAPOBJ_NOTFOUND;
    return rc == MMAPOBJ_OK && relia_value_is(val, k, g_ver[k], g_salt, MAX_EXTRA, g_scratch);
}

static int extra_matches(const struct extra *e, const mmapobj_value *val, int rc)
{
    return rc == MMAPOBJ_OK && val->kind == e->kind && val->len == e->vlen &&
           (e->vlen == 0 || memcmp(val->data, e->val, e->vlen) == 0);
}

static uint64_t base_live(void)
{
    uint64_t n = NEXTRA;
    for (uint32_t k = 0; k < NB; k++) n += relia_op_of(k, g_ver[k], g_salt, MAX_EXTRA).kind != RELIA_OP_DELETE;
    return n;
}

/* A few hundred keys of all kinds, several table growths, deletes and overwrites (so the free
 * lists are not empty), closed cleanly. */
static unsigned char *build_base(size_t *len)
{
    const char *path = test_path(g_dir, "base.mmo");
    unlink(path);
    memset(g_long_key, 'L', sizeof g_long_key);
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 16384, 8, 0, &w));
    for (int round = 0; round < 3; round++)
        for (uint32_t k = 0; k < NB; k++) {
            if (round > 0 && relia_mix(k * 3u + (uint32_t)round) % 3 == 0) continue;
            CHECK_OK(w, relia_apply(w, k, ++g_ver[k], g_salt, MAX_EXTRA, g_scratch));
        }
    for (size_t i = 0; i < NEXTRA; i++)
        CHECK_OK(w, mmapobj_set(w, g_extras[i].key, g_extras[i].klen, g_extras[i].kind, g_extras[i].val,
                                g_extras[i].vlen));
    CHECK_OK(w, mmapobj_verify(w));
    CHECK(mmapobj_count(w) == (int64_t)base_live());
    CHECK_OK(w, mmapobj_close(&w));
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    unsigned char *b = malloc((size_t)st.st_size);
    CHECK(b && read(fd, b, (size_t)st.st_size) == st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    CHECK(memcmp(b, "MMAPOBJ\0", 8) == 0);
    CHECK(rd64(b, H_FSIZE) == *len);
    CHECK(rd32(b, H_FLAGS) == 0); /* clean close */
    CHECK(rd64(b, H_ALLOC) == *len); /* shrunk to what it uses */
    return b;
}

/* ---- trying one file ---------------------------------------------------------------------- */

struct opt {
    int expect;         /* the code open must return, or EXPECT_ANY */
    int intact;         /* every original key must read back exactly (and verify OK) */
    int verify_corrupt; /* if open succeeds, verify must report E_CORRUPT */
    int writer;         /* also open it with mmapobj_create */
    int writer_intact;  /* the writer (after repair) must see everything intact, verify OK */
    int keeps;          /* trust rule: a writer refuses it with E_CORRUPT leaving every byte as it
                         * was, or opens it with every key intact and, closed without writing,
                         * leaves a file as long in which a reader sees every key intact */
    const char **keys;  /* extra keys to look up (NULL-terminated), for golden/fuzz files */
};

static int allowed_open_fail(int rc)
{
    return rc == MMAPOBJ_E_BADMAGIC || rc == MMAPOBJ_E_MAJOR || rc == MMAPOBJ_E_MINOR ||
           rc == MMAPOBJ_E_TOOSMALL || rc == MMAPOBJ_E_CORRUPT || rc == MMAPOBJ_E_LAYOUT ||
           rc == MMAPOBJ_E_NOMEM;
}

static int allowed_read(int rc)
{
    return rc == MMAPOBJ_OK || rc == MMAPOBJ_NOTFOUND || rc == MMAPOBJ_E_CORRUPT || rc == MMAPOBJ_E_NOMEM ||
           rc == MMAPOBJ_E_RESERVE;
}

#define HFAIL(...)                                                                                 \
    do {                                                                                           \
        fprintf(stderr, "while trying: %s\n  input left at %s\n", g_desc, g_mut);                  \
        relia_fail(__VA_ARGS__);                                                                   \
    } while (0)

static volatile unsigned g_sink;

static void touch(const void *p, size_t n)
{
    const unsigned char *c = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += c[i];
    g_sink += s;
}

static void check_value_shape(mmapobj_map *m, const mmapobj_value *val, uint64_t real, const char *what)
{
    (void)m;
    if (val->kind == MMAPOBJ_KIND_NUMBER) return;
    if (val->kind != MMAPOBJ_KIND_STRING && val->kind != MMAPOBJ_KIND_BYTES)
        HFAIL("%s: OK with kind %d", what, (int)val->kind);
    if (val->len > real) HFAIL("%s: value of %zu bytes from a %" PRIu64 "-byte file", what, val->len, real);
    if (val->len && !val->data) HFAIL("%s: NULL data", what);
    touch(val->data, val->len);
    if (val->kind == MMAPOBJ_KIND_STRING && ((const char *)val->data)[val->len] != 0)
        HFAIL("%s: string not NUL-terminated", what);
}

static void one_lookup(mmapobj_map *m, const void *key, size_t klen, uint64_t real, int intact, int expect_ok,
                       int (*ok)(const void *, const mmapobj_value *, int), const void *ctx)
{
    mmapobj_value val;
    int rc = mmapobj_get(m, key, klen, &val);
    tally(rc);
    if (!allowed_read(rc)) HFAIL("get: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(m));
    if (rc == MMAPOBJ_OK) check_value_shape(m, &val, real, "get");
    if (intact && ok && !ok(ctx, &val, rc)) HFAIL("get of an original key (len %zu) gave a wrong result (%s)", klen, mmapobj_code_name(rc));
    if (intact && !ok && expect_ok && rc != MMAPOBJ_OK) HFAIL("get: %s", mmapobj_code_name(rc));
    int h = mmapobj_has(m, key, klen);
    if (h < 0 ? !allowed_read(h) : h > 1) HFAIL("has: %d", h);
    if ((rc == MMAPOBJ_OK && h != 1) || (rc == MMAPOBJ_NOTFOUND && h != 0))
        HFAIL("has (%d) disagrees with get (%s)", h, mmapobj_code_name(rc));
    if (!memchr(key, 0, klen)) {
        char kz[2048 + 1];
        if (klen < sizeof kz) {
            memcpy(kz, key, klen);
            kz[klen] = 0;
            const char *s = mmapobj_get_z(m, kz);
            const mmapobj_status *sb = mmapobj_status_block(m);
            if (sb->code != rc) HFAIL("get_z status %s disagrees with get %s", mmapobj_code_name(sb->code), mmapobj_code_name(rc));
            if (s) touch(s, strlen(s) + 1);
            if (!s && sb->code == MMAPOBJ_OK && sb->kind != MMAPOBJ_KIND_NUMBER) {
                if (sb->len > real) HFAIL("get_z: len %" PRIu64 " from a %" PRIu64 "-byte file", sb->len, real);
                unsigned char *buf = malloc(sb->len + 1);
                CHECK(buf);
                int64_t n = mmapobj_copy_last(m, buf, sb->len + 1);
                if (n != (int64_t)sb->len) HFAIL("copy_last %" PRId64 " != %" PRIu64, n, sb->len);
                free(buf);
            }
        }
    }
}

static int ok_base(const void *ctx, const mmapobj_value *v, int rc) { return base_matches((uint32_t)(uintptr_t)ctx, v, rc); }
static int ok_extra(const void *ctx, const mmapobj_value *v, int rc) { return extra_matches(ctx, v, rc); }

/* Reads everything through m; returns verify's code. */
static int exercise(mmapobj_map *m, const struct opt *o, uint64_t real, int intact)
{
    for (uint32_t k = 0; k < NB; k++) {
        char key[RELIA_KEY_MAX];
        size_t klen = relia_key(k, key);
        one_lookup(m, key, klen, real, intact, 0, ok_base, (const void *)(uintptr_t)k);
    }
    for (size_t i = 0; i < NEXTRA; i++) one_lookup(m, g_extras[i].key, g_extras[i].klen, real, intact, 0, ok_extra, &g_extras[i]);
    for (const char **k = o->keys; k && *k; k++) one_lookup(m, *k, strlen(*k), real, 0, 0, NULL, NULL);

    /* Iteration: bounded by the number of slots a file of this size could hold. */
    uint64_t cap = real / 8 + 16, produced = 0;
    mmapobj_iter *it = NULL;
    int rc = mmapobj_iter_open(m, &it);
    if (rc != MMAPOBJ_OK) HFAIL("iter_open: %s", mmapobj_code_name(rc));
    for (;;) {
        const void *key;
        size_t klen;
        mmapobj_value val;
        rc = mmapobj_iter_next(it, &key, &klen, &val);
        tally(rc);
        if (rc == 0) break;
        if (rc != 1) {
            if (!allowed_read(rc)) HFAIL("iter_next: %s", mmapobj_code_name(rc));
            if (intact) HFAIL("iter_next on an intact file: %s", mmapobj_code_name(rc));
            break;
        }
        if (klen > real) HFAIL("iter_next: key of %zu bytes", klen);
        touch(key, klen);
        check_value_shape(m, &val, real, "iter_next");
        if (intact) {
            uint32_t k;
            if (relia_parse_key(key, klen, &k) && k < NB) {
                if (!base_matches(k, &val, MMAPOBJ_OK)) HFAIL("iter_next: key %u has a wrong value", k);
            } else {
                size_t i;
                for (i = 0; i < NEXTRA; i++)
                    if (klen == g_extras[i].klen && memcmp(key, g_extras[i].key, klen) == 0) break;
                if (i == NEXTRA || !extra_matches(&g_extras[i], &val, MMAPOBJ_OK)) HFAIL("iter_next: foreign entry");
            }
        }
        if (++produced > cap) HFAIL("iter_next: more than %" PRIu64 " entries from a %" PRIu64 "-byte file", cap, real);
    }
    mmapobj_iter_close(&it);
    if (intact && produced != base_live()) HFAIL("iteration produced %" PRIu64 " of %" PRIu64 " keys", produced, base_live());

    size_t bcap = 256;
    unsigned char *buf = malloc(bcap);
    CHECK(buf);
    uint64_t batched = 0;
    rc = mmapobj_iter_open(m, &it);
    if (rc != MMAPOBJ_OK) HFAIL("iter_open: %s", mmapobj_code_name(rc));
    for (int guard = 0;; guard++) {
        uint64_t need = 0;
        rc = mmapobj_iter_batch(it, buf, bcap, guard & 1, &need);
        if (rc == MMAPOBJ_E_BUFSMALL) {
            if (need <= bcap || need > real + 64) HFAIL("iter_batch: BUFSMALL with need %" PRIu64 " (cap %zu)", need, bcap);
            bcap = (size_t)need;
            buf = realloc(buf, bcap);
            CHECK(buf);
            continue;
        }
        tally(rc);
        if (rc == 0) break;
        if (rc < 0) {
            if (!allowed_read(rc)) HFAIL("iter_batch: %s", mmapobj_code_name(rc));
            break;
        }
        batched += (uint64_t)rc;
        if (batched > cap) HFAIL("iter_batch: more than %" PRIu64 " entries", cap);
    }
    mmapobj_iter_close(&it);
    free(buf);
    if (intact && batched != produced) HFAIL("iter_batch produced %" PRIu64 ", iter_next %" PRIu64, batched, produced);

    int64_t c = mmapobj_count(m);
    if (intact && !g_counts_may_lie && c != (int64_t)base_live()) HFAIL("count %" PRId64 " on an intact file", c);
    mmapobj_stats st;
    rc = mmapobj_stat(m, &st);
    if (rc != MMAPOBJ_OK) HFAIL("stat: %s", mmapobj_code_name(rc));
    if (st.file_size > real) HFAIL("stat: file_size %" PRIu64 " > real size %" PRIu64, st.file_size, real);
    rc = mmapobj_verify(m);
    tally(rc);
    if (rc != MMAPOBJ_OK && rc != MMAPOBJ_E_CORRUPT) HFAIL("verify: %s", mmapobj_code_name(rc));
    if (intact && !g_counts_may_lie && rc != MMAPOBJ_OK) HFAIL("verify of an intact file: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(m));
    if (rc == MMAPOBJ_E_CORRUPT && !strstr(mmapobj_errmsg(m), g_mut))
        HFAIL("verify message does not name the file: %s", mmapobj_errmsg(m));
    return rc;
}

static void write_file(const char *path, const unsigned char *b, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, b + done, n - done);
        CHECK(w > 0);
        done += (size_t)w;
    }
    CHECK(close(fd) == 0);
}

static uint64_t file_len(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static unsigned char *slurp(const char *path, size_t *n);

/* The library's test hook (csrc/testhook.h): counts the repair walks of writer opens. */
static int g_repairs;
static void count_repairs(const char *point, mmapobj_map *m)
{
    (void)m;
    if (strcmp(point, "writer:repair") == 0) g_repairs++;
}

/* The trust rule on g_mut (a crafted, cleanly closed file): see struct opt's keeps. */
static void keeps_check(const struct opt *o, uint64_t real)
{
    size_t n0, n1;
    unsigned char *before = slurp(g_mut, &n0);
    CHECK(before);
    mmapobj_map *w = NULL;
    g_repairs = 0;
    mo_test_hook = count_repairs;
    int rc = mmapobj_create(g_mut, 0, 0, 0, &w);
    mo_test_hook = NULL;
    tally(rc);
    if (rc == MMAPOBJ_E_CORRUPT) {
        unsigned char *after = slurp(g_mut, &n1);
        CHECK(after);
        if (n1 != n0 || memcmp(before, after, n0) != 0) HFAIL("a writer refused the file but changed it");
        if (!strstr(mmapobj_errmsg(NULL), g_mut)) HFAIL("writer open error does not name the file: \"%s\"", mmapobj_errmsg(NULL));
        free(after);
        free(before);
        return;
    }
    if (rc != MMAPOBJ_OK) HFAIL("trust rule: writer open gave %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    exercise(w, o, file_len(g_mut), 1);
    CHECK_OK(w, mmapobj_close(&w));
    if (g_repairs_expected >= 0 && g_repairs != g_repairs_expected)
        HFAIL("trust rule: %d repair walks at writer open, expected %d", g_repairs, g_repairs_expected);
    if (file_len(g_mut) < real) HFAIL("trust rule: a writer that wrote nothing cut the file from %" PRIu64 " to %" PRIu64 " bytes", real, file_len(g_mut));
    mmapobj_map *r = NULL;
    rc = mmapobj_open(g_mut, &r);
    if (rc != MMAPOBJ_OK) HFAIL("trust rule: after a writer's close, open gives %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    exercise(r, o, file_len(g_mut), 1);
    CHECK_OK(r, mmapobj_close(&r));
    free(before);
}

/* Opens g_mut (already written) as reader and, if asked, as writer. */
static void try_path(const struct opt *o)
{
    g_tried++;
    sp_alarm(g_quick ? 300 : 60);
    uint64_t real = file_len(g_mut);
    mmapobj_map *m = NULL;
    int rc = mmapobj_open(g_mut, &m);
    tally(rc);
    if (o->expect != EXPECT_ANY && rc != o->expect)
        HFAIL("open returned %s (%s), wanted %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL), mmapobj_code_name(o->expect));
    if (rc != MMAPOBJ_OK) {
        g_open_fail++;
        if (!allowed_open_fail(rc)) HFAIL("open: unexpected %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        if (!strstr(mmapobj_errmsg(NULL), g_mut)) HFAIL("open error does not name the file: \"%s\"", mmapobj_errmsg(NULL));
        if (m != NULL) HFAIL("open failed but set *out");
    } else {
        g_open_ok++;
        int v = exercise(m, o, real, o->intact);
        if (o->verify_corrupt && v != MMAPOBJ_E_CORRUPT) HFAIL("verify did not report the damage (%s)", mmapobj_code_name(v));
        CHECK_OK(m, mmapobj_close(&m));
        CHECK(m == NULL);
    }
    if (o->keeps) keeps_check(o, real);
    if (!o->writer) {
        sp_alarm(0);
        return;
    }
    mmapobj_map *w = NULL;
    rc = mmapobj_create(g_mut, 0, 0, 0, &w);
    tally(rc);
    if (o->writer_intact && rc != MMAPOBJ_OK) HFAIL("writer open: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
    if (rc != MMAPOBJ_OK) {
        if (!allowed_open_fail(rc) && rc != MMAPOBJ_E_FULL && rc != MMAPOBJ_E_NOSPC && rc != MMAPOBJ_E_INVAL)
            HFAIL("writer open: unexpected %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        if (!strstr(mmapobj_errmsg(NULL), g_mut)) HFAIL("writer open error does not name the file: \"%s\"", mmapobj_errmsg(NULL));
        sp_alarm(0);
        return;
    }
    g_writer_opened++;
    real = file_len(g_mut);
    int v = exercise(w, o, real, o->writer_intact);
    if (v == MMAPOBJ_OK) {
        /* A file that verifies must stay consistent through writes. */
        char key[RELIA_KEY_MAX];
        int bad = 0;
        for (uint32_t k = 0; k < 6 && !bad; k++) {
            size_t klen = relia_key(k * 37 + 1, key);
            int r1 = mmapobj_set_string(w, key, klen, "written over a hostile file", 27);
            int r2 = mmapobj_set_number(w, "num", 3, k);
            int r3 = mmapobj_delete(w, key, klen - (k & 1));
            if ((r1 != MMAPOBJ_OK && r1 != MMAPOBJ_E_FULL && r1 != MMAPOBJ_E_NOSPC) ||
                (r2 != MMAPOBJ_OK && r2 != MMAPOBJ_E_FULL && r2 != MMAPOBJ_E_NOSPC) ||
                (r3 != MMAPOBJ_OK && r3 != MMAPOBJ_NOTFOUND))
                HFAIL("write on a verified file: %s %s %s: %s", mmapobj_code_name(r1), mmapobj_code_name(r2),
                      mmapobj_code_name(r3), mmapobj_errmsg(w));
            bad = r1 != MMAPOBJ_OK;
        }
        g_writes_done++;
        rc = mmapobj_verify(w);
        if (rc != MMAPOBJ_OK) HFAIL("verify passed, then a few writes made it fail: %s", mmapobj_errmsg(w));
        /* what a clean close leaves, the next writer trusts (its state checksum matches) */
        CHECK_OK(w, mmapobj_close(&w));
        g_repairs = 0;
        mo_test_hook = count_repairs;
        rc = mmapobj_create(g_mut, 0, 0, 0, &w);
        mo_test_hook = NULL;
        if (rc != MMAPOBJ_OK) HFAIL("writer reopen after a clean close: %s: %s", mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        if (g_repairs) HFAIL("a writer did not trust the state its predecessor's clean close left (repair walk)");
    }
    CHECK_OK(w, mmapobj_close(&w));
    sp_alarm(0);
}

static void try_buf(const unsigned char *b, size_t n, const struct opt *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void try_buf(const unsigned char *b, size_t n, const struct opt *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_desc, sizeof g_desc, fmt, ap);
    va_end(ap);
    write_file(g_mut, b, n);
    try_path(o);
}

/* ---- golden files ------------------------------------------------------------------------- */

#define G_SEED 0x0123456789ABCDEFull

/* A minimal valid file built by hand from docs/FORMAT.md: empty 8-slot table at 8192, and with
 * one_key the record "a" -> "b" after it. */
static size_t golden_base(unsigned char *b, int one_key)
{
    memset(b, 0, 8192 + 256);
    memcpy(b, "MMAPOBJ\0", 8);
    wr16(b, H_MAJOR, 1);
    wr16(b, H_MINOR, 0);
    wr32(b, H_HSIZE, 8192);
    wr32(b, H_ORDER, 0x01020304u);
    wr32(b, H_SLOT, 8);
    wr64(b, H_SEED, G_SEED);
    wr64(b, H_CREATED, 0);
    wr32(b, H_ALIGN, 4);
    wr32(b, H_CLASSES, 405);
    fix_checksum(b);
    wr64(b, H_TABLE, (3ull << 56) | 8192);
    wr64(b, H_MAXSIZE, MMAPOBJ_DEFAULT_MAX_FILE_SIZE);
    wr32(b, 8192, TABLE_MARKER);
    wr32(b, 8196, 3);
    size_t end = 8192 + 16 + 8 * 8;
    if (one_key) {
        uint64_t h = XXH3_64bits_withSeed("a", 1, G_SEED);
        wr64(b, 8192 + 16 + 8 * (h & 7), ((h >> 40) << 40) | (end / 4));
        wr32(b, end, MMAPOBJ_KIND_STRING | (1u << 2));
        wr32(b, end + 4, 1);
        b[end + 8] = 'a';
        b[end + 9] = 'b';
        end += 16;
        wr64(b, H_COUNT, 1);
        wr64(b, H_CSTR, 1);
    }
    wr64(b, H_ALLOC, end);
    wr64(b, H_FSIZE, end);
    return end;
}

struct golden { char name[64]; unsigned char *b; size_t n; };

/* All generated golden files (caller frees). */
static int golden_make(struct golden *g, int max)
{
    int n = 0;
#define G_BEGIN(nm, one)                                                                                 \
    do {                                                                                                 \
        CHECK(n < max);                                                                                  \
        snprintf(g[n].name, sizeof g[n].name, "%s", nm);                                                 \
        g[n].b = calloc(1, 20000);                                                                       \
        CHECK(g[n].b);                                                                                   \
        g[n].n = golden_base(g[n].b, one);                                                               \
        unsigned char *b = g[n].b;                                                                       \
        (void)b;
#define G_END() n++; } while (0)

    G_BEGIN("ok-minimal.bin", 0); G_END();
    G_BEGIN("ok-one-key.bin", 1); G_END();
    G_BEGIN("toosmall-empty.bin", 0); g[n].n = 0; G_END();
    G_BEGIN("toosmall-header-4096.bin", 0); g[n].n = 4096; G_END();
    G_BEGIN("toosmall-8191.bin", 0); g[n].n = 8191; G_END();
    G_BEGIN("toosmall-truncated-record.bin", 1); g[n].n -= 8; G_END();
    G_BEGIN("toosmall-file-size-huge.bin", 0); wr64(b, H_FSIZE, 1ull << 40); G_END();
    G_BEGIN("toosmall-file-size-below-header.bin", 0); wr64(b, H_FSIZE, 4096); G_END();
    G_BEGIN("toosmall-file-size-max.bin", 0); wr64(b, H_FSIZE, UINT64_MAX); G_END();
    G_BEGIN("badmagic-zeros.bin", 0); memset(b, 0, g[n].n); G_END();
    G_BEGIN("badmagic-lowercase.bin", 0); memcpy(b, "mmapobj", 7); G_END();
    G_BEGIN("badmagic-text.bin", 0);
    for (size_t i = 0; i < g[n].n; i++) b[i] = (unsigned char)("Hello, this is not a map.\n"[i % 26]);
    G_END();
    G_BEGIN("major-0.bin", 0); wr16(b, H_MAJOR, 0); fix_checksum(b); G_END();
    G_BEGIN("major-2.bin", 0); wr16(b, H_MAJOR, 2); fix_checksum(b); G_END();
    G_BEGIN("major-65535.bin", 0); wr16(b, H_MAJOR, 65535); fix_checksum(b); G_END();
    G_BEGIN("minor-1.bin", 0); wr16(b, H_MINOR, 1); fix_checksum(b); G_END();
    G_BEGIN("minor-65535.bin", 0); wr16(b, H_MINOR, 65535); fix_checksum(b); G_END();
    G_BEGIN("corrupt-checksum-stale.bin", 0); wr64(b, H_CREATED, 12345); G_END();
    G_BEGIN("corrupt-checksum-zero.bin", 0); wr64(b, H_CHECKSUM, 0); G_END();
    G_BEGIN("corrupt-seed-flipped.bin", 1); b[H_SEED] ^= 1; G_END();
    G_BEGIN("corrupt-header-size.bin", 0); wr32(b, H_HSIZE, 4096); fix_checksum(b); G_END();
    G_BEGIN("corrupt-class-count.bin", 0); wr32(b, H_CLASSES, 513); fix_checksum(b); G_END();
    G_BEGIN("corrupt-table-log2-2.bin", 0); wr64(b, H_TABLE, (2ull << 56) | 8192); G_END();
    G_BEGIN("corrupt-table-log2-41.bin", 0); wr64(b, H_TABLE, (41ull << 56) | 8192); G_END();
    G_BEGIN("corrupt-table-log2-40.bin", 0); wr64(b, H_TABLE, (40ull << 56) | 8192); G_END();
    G_BEGIN("corrupt-table-log2-255.bin", 0); wr64(b, H_TABLE, (255ull << 56) | 8192); G_END();
    G_BEGIN("corrupt-table-misaligned.bin", 0); wr64(b, H_TABLE, (3ull << 56) | 8196); G_END();
    G_BEGIN("corrupt-table-in-header.bin", 0); wr64(b, H_TABLE, (3ull << 56) | 4096); G_END();
    G_BEGIN("corrupt-table-zero.bin", 0); wr64(b, H_TABLE, 0); G_END();
    G_BEGIN("corrupt-table-past-end.bin", 0); wr64(b, H_TABLE, (3ull << 56) | 8256); G_END();
    G_BEGIN("corrupt-table-far.bin", 0); wr64(b, H_TABLE, (3ull << 56) | (1ull << 46)); G_END();
    G_BEGIN("layout-byte-order.bin", 0); wr32(b, H_ORDER, 0x04030201u); fix_checksum(b); G_END();
    G_BEGIN("layout-slot-size.bin", 0); wr32(b, H_SLOT, 4); fix_checksum(b); G_END();
    G_BEGIN("layout-record-align.bin", 0); wr32(b, H_ALIGN, 8); fix_checksum(b); G_END();
#undef G_BEGIN
#undef G_END
    return n;
}

static int golden_expect(const char *name)
{
    static const struct { const char *prefix; int code; } map[] = {
        {"ok-", MMAPOBJ_OK}, {"badmagic-", MMAPOBJ_E_BADMAGIC}, {"major-", MMAPOBJ_E_MAJOR},
        {"minor-", MMAPOBJ_E_MINOR}, {"toosmall-", MMAPOBJ_E_TOOSMALL}, {"corrupt-", MMAPOBJ_E_CORRUPT},
        {"layout-", MMAPOBJ_E_LAYOUT}, {"any-", EXPECT_ANY},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(name, map[i].prefix, strlen(map[i].prefix)) == 0) return map[i].code;
    return INT_MIN;
}

static int write_golden(const char *dir)
{
    struct golden g[64];
    int n = golden_make(g, 64);
    for (int i = 0; i < n; i++) {
        char p[1200];
        if (snprintf(p, sizeof p, "%s/%s", dir, g[i].name) >= (int)sizeof p) relia_fail("path too long");
        write_file(p, g[i].b, g[i].n);
        printf("wrote %s (%zu bytes)\n", p, g[i].n);
        free(g[i].b);
    }
    return 0;
}

static const char *golden_dir(void)
{
    static char d[1024];
    const char *e = getenv("MMAPOBJ_GOLDEN_DIR");
    if (e && *e) return e;
    snprintf(d, sizeof d, "%s", __FILE__);
    char *slash = strrchr(d, '/');
    if (!slash) return "golden";
    snprintf(slash, sizeof d - (size_t)(slash - d), "/golden");
    return d;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    unsigned char *b = malloc((size_t)st.st_size + 1);
    CHECK(b);
    CHECK(read(fd, b, (size_t)st.st_size) == st.st_size);
    close(fd);
    *n = (size_t)st.st_size;
    return b;
}

static void check_golden(void)
{
    const char *dir = golden_dir();
    static const char *keys[] = {"a", "b", "", "MMAPOBJ", NULL};
    /* The committed generated files equal what the generator makes now. */
    struct golden g[64];
    int n = golden_make(g, 64);
    for (int i = 0; i < n; i++) {
        char p[1200];
        if (snprintf(p, sizeof p, "%s/%s", dir, g[i].name) >= (int)sizeof p) relia_fail("path too long");
        size_t len;
        unsigned char *b = slurp(p, &len);
        if (!b) relia_fail("golden file %s is missing: regenerate with test_hostile --write-golden %s", p, dir);
        if (len != g[i].n || memcmp(b, g[i].b, len) != 0)
            relia_fail("golden file %s differs from the generator: regenerate with test_hostile --write-golden %s", p, dir);
        free(b);
        free(g[i].b);
    }
    /* Every file in the directory opens with the code its name says. */
    DIR *d = opendir(dir);
    if (!d) relia_fail("cannot open golden dir %s", dir);
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".bin") != 0) continue;
        int want = golden_expect(e->d_name);
        if (want == INT_MIN) relia_fail("golden file %s: name does not start with an expected outcome", e->d_name);
        char p[1200];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) relia_fail("path too long");
        size_t len;
        unsigned char *b = slurp(p, &len);
        CHECK(b);
        struct opt o = {.expect = want, .keys = keys, .writer = want == EXPECT_ANY};
        try_buf(b, len, &o, "golden %s", e->d_name);
        if (want == MMAPOBJ_OK) {
            mmapobj_map *m = NULL;
            CHECK_OK(NULL, mmapobj_open(g_mut, &m));
            CHECK_OK(m, mmapobj_verify(m));
            mmapobj_value v;
            int rc = mmapobj_get(m, "a", 1, &v);
            if (strstr(e->d_name, "one-key")) {
                CHECK_OK(m, rc);
                CHECK(v.kind == MMAPOBJ_KIND_STRING && v.len == 1 && memcmp(v.data, "b", 1) == 0);
                CHECK(mmapobj_count(m) == 1);
            }
            CHECK_OK(m, mmapobj_close(&m));
        }
        free(b);
        checked++;
    }
    closedir(d);
    CHECK(checked >= n);
    printf("golden: %d files in %s opened with the expected code\n", checked, dir);
}

/* ---- special paths ------------------------------------------------------------------------ */

static void expect_path(const char *path, int want_open, int want_create, const char *what)
{
    snprintf(g_desc, sizeof g_desc, "%s", what);
    sp_alarm(20);
    mmapobj_map *m = NULL;
    int rc = mmapobj_open(path, &m);
    if (rc != want_open) HFAIL("%s: open gave %s (%s), wanted %s", what, mmapobj_code_name(rc), mmapobj_errmsg(NULL), mmapobj_code_name(want_open));
    if (rc == MMAPOBJ_OK) CHECK_OK(m, mmapobj_close(&m));
    else if (path && !strstr(mmapobj_errmsg(NULL), path)) HFAIL("%s: message does not name the path: %s", what, mmapobj_errmsg(NULL));
    if (want_create != EXPECT_ANY) {
        rc = mmapobj_create(path, 0, 0, 0, &m);
        if (rc != want_create) HFAIL("%s: create gave %s (%s), wanted %s", what, mmapobj_code_name(rc), mmapobj_errmsg(NULL), mmapobj_code_name(want_create));
        if (rc == MMAPOBJ_OK) CHECK_OK(m, mmapobj_close(&m));
        else if (path && !strstr(mmapobj_errmsg(NULL), path)) HFAIL("%s: create message does not name the path: %s", what, mmapobj_errmsg(NULL));
    }
    sp_alarm(0);
    g_tried++;
}

static void special_paths(const unsigned char *base, size_t blen)
{
    char p[700];
    snprintf(p, sizeof p, "%s/a-directory", g_dir);
    test_mkdir(p);
    expect_path(p, MMAPOBJ_E_NOTREG, MMAPOBJ_E_NOTREG, "a directory");
    expect_path(TEST_NULL_DEVICE, MMAPOBJ_E_NOTREG, MMAPOBJ_E_NOTREG, TEST_NULL_DEVICE);
#ifndef _WIN32
    snprintf(p, sizeof p, "%s/a-fifo", g_dir); /* regression: bugs-for-A #1, open(2) blocked */
    unlink(p);
    CHECK(mkfifo(p, 0644) == 0);
    expect_path(p, MMAPOBJ_E_NOTREG, MMAPOBJ_E_NOTREG, "a FIFO (must not block)");
#else
    printf("special paths: no FIFO case on Windows (FIFOs are not files there)\n");
#endif
    snprintf(p, sizeof p, "%s/empty-file", g_dir);
    write_file(p, (const unsigned char *)"", 0);
    expect_path(p, MMAPOBJ_E_TOOSMALL, EXPECT_ANY, "an empty file");
    snprintf(p, sizeof p, "%s/no-such-file", g_dir);
    unlink(p);
    expect_path(p, MMAPOBJ_E_NOENT, EXPECT_ANY, "a missing file");
    unlink(p);
    snprintf(p, sizeof p, "%s/no-such-dir/x.mmo", g_dir);
    expect_path(p, MMAPOBJ_E_NOENT, MMAPOBJ_E_NOENT, "a file in a missing directory");
    CHECK(mmapobj_open(NULL, NULL) == MMAPOBJ_E_INVAL);
    mmapobj_map *m = NULL;
    CHECK(mmapobj_open(NULL, &m) == MMAPOBJ_E_INVAL && m == NULL);

    /* A random file: not ours, so create must refuse it and leave it untouched. */
    snprintf(p, sizeof p, "%s/random-file", g_dir);
    unsigned char *r = malloc(20000);
    CHECK(r);
    relia_rng rng = {42};
    for (int i = 0; i < 20000; i++) r[i] = (unsigned char)relia_next(&rng);
    write_file(p, r, 20000);
    expect_path(p, MMAPOBJ_E_BADMAGIC, MMAPOBJ_E_BADMAGIC, "a random file");
    size_t n;
    unsigned char *again = slurp(p, &n);
    CHECK(again && n == 20000 && memcmp(again, r, n) == 0);
    free(again);
    free(r);

#ifndef _WIN32
    /* A symlink to a valid file opens it. */
    snprintf(p, sizeof p, "%s/valid.mmo", g_dir);
    write_file(p, base, blen);
    char l[700];
    snprintf(l, sizeof l, "%s/link.mmo", g_dir);
    unlink(l);
    CHECK(symlink(p, l) == 0);
    expect_path(l, MMAPOBJ_OK, EXPECT_ANY, "a symlink to a valid file");
    printf("special paths: directory, /dev/null, FIFO, empty, missing, missing dir, random, symlink: OK\n");
#else
    (void)base;
    (void)blen;
    printf("special paths: directory, NUL, empty, missing, missing dir, random: OK (no symlink case on Windows: "
           "making one needs a privilege)\n");
#endif
}

/* ---- mutations ------------------------------------------------------------------------------ */

static void header_flips(const unsigned char *base, size_t blen, unsigned char *b)
{
    int step = g_quick ? 3 : 1;
    for (size_t byte = 0; byte < 256; byte++)
        for (int bit = (int)(byte % (size_t)step); bit < 8; bit += step) {
            memcpy(b, base, blen);
            b[byte] ^= (unsigned char)(1u << bit);
            int set = (b[byte] >> bit) & 1; /* the flip set the bit (the field grew) */
            struct opt o = {.expect = EXPECT_ANY, .writer = 1};
            if (byte < 8) o.expect = MMAPOBJ_E_BADMAGIC;
            else if (byte < 10) o.expect = MMAPOBJ_E_MAJOR;
            else if (byte < 12) o.expect = MMAPOBJ_E_MINOR;     /* minor 0 -> anything newer */
            else if (byte < 64) o.expect = MMAPOBJ_E_CORRUPT;   /* checksummed, or the checksum */
            else if (byte < H_TABLE) o.intact = 1;              /* seq: even, or a dead writer's odd */
            else if (byte < H_FSIZE) o.expect = EXPECT_ANY;     /* table_ref */
            else if (byte < H_MAXSIZE) o.expect = set ? MMAPOBJ_E_TOOSMALL : EXPECT_ANY; /* file_size */
            else if (byte < 96) o.expect = EXPECT_ANY;          /* max_file_size */
            else if (byte < H_COUNT) o.intact = 1;              /* reserved */
            else if (byte < H_FLAGS) o.verify_corrupt = 1;      /* counts and space accounting */
            else if (byte == H_FLAGS && bit == 0) o.intact = o.writer_intact = 1; /* DIRTY: repair */
            else if (byte < H_PID) o.expect = EXPECT_ANY;       /* unknown flags */
            else o.intact = 1;                                  /* writer_pid, reserved */
            if (o.intact) o.expect = MMAPOBJ_OK;
            try_buf(b, blen, &o, "header flip byte %zu bit %d", byte, bit);
        }
}

static void crafted(const unsigned char *base, size_t blen, unsigned char *b);

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--write-golden") == 0) return write_golden(argv[2]);
    install_handlers();
    g_quick = relia_quick();
    const char *s = getenv("MMAPOBJ_TEST_SEED");
    g_salt = s && *s ? strtoull(s, NULL, 0) : 0x486F7374696C65ull;
    g_scratch = malloc(RELIA_SCRATCH);
    CHECK(g_scratch);
    g_dir = test_dir("hostile");
    snprintf(g_mut, sizeof g_mut, "%s/mutant.mmo", g_dir);

    size_t blen;
    unsigned char *base = build_base(&blen);
    unsigned char *b = malloc(blen + 70000);
    CHECK(b);
    uint64_t toff = table_off(base);
    unsigned tlog = table_log2(base);
    int heads = 0;
    for (int c = 0; c < 512; c++) heads += rd64(base, H_HEADS + 8 * (size_t)c) != 0;
    printf("test_hostile: base file %zu bytes, %" PRIu64 " keys, table at %" PRIu64 " with 2^%u slots, %d free lists\n",
           blen, base_live(), toff, tlog, heads);
    CHECK(tlog >= 6); /* grew at least three times from 8 slots */
    CHECK(heads > 0);

    /* The unmodified file, and the same with junk appended past file_size: intact. */
    struct opt intact = {.expect = MMAPOBJ_OK, .intact = 1, .writer = 1, .writer_intact = 1};
    try_buf(base, blen, &intact, "the unmodified base file");
    memcpy(b, base, blen);
    for (size_t i = 0; i < 5000; i++) b[blen + i] = (unsigned char)(i * 7 + 3);
    struct opt intact_ro = {.expect = MMAPOBJ_OK, .intact = 1};
    try_buf(b, blen + 5000, &intact_ro, "junk appended after file_size");

    check_golden();
    special_paths(base, blen);

    header_flips(base, blen, b);
    printf("header flips done (%" PRIu64 " files so far)\n", g_tried);

    relia_rng rng = {g_salt};
    /* Bit flips across the whole file. */
    int nflips = g_quick ? 150 : 2000;
    for (int i = 0; i < nflips; i++) {
        memcpy(b, base, blen);
        size_t pos = (size_t)relia_below(&rng, blen);
        int bit = (int)relia_below(&rng, 8);
        b[pos] ^= (unsigned char)(1u << bit);
        /* Every 4th also as a dead writer's file (DIRTY), so the writer's repair walks the damage. */
        int dirty = i % 4 == 1;
        if (dirty) b[H_FLAGS] |= 1;
        struct opt o = {.expect = EXPECT_ANY, .writer = (i % 4) <= 1};
        try_buf(b, blen, &o, "flip byte %zu bit %d%s", pos, bit, dirty ? " + DIRTY" : "");
    }
    /* Truncations: every one shorter than file_size is E_TOOSMALL. */
    size_t fixed[] = {0, 1, 7, 8, 12, 63, 64, 128, 255, 256, 4095, 4096, 8191, 8192, 8193, 8200, (size_t)toff,
                      (size_t)toff + 16, blen - 1, blen - 4, blen - 8};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (fixed[i] >= blen) continue;
        struct opt o = {.expect = MMAPOBJ_E_TOOSMALL};
        try_buf(base, fixed[i], &o, "truncated to %zu bytes", fixed[i]);
    }
    int ntrunc = g_quick ? 30 : 200;
    for (int i = 0; i < ntrunc; i++) {
        size_t len = (size_t)relia_below(&rng, blen);
        struct opt o = {.expect = MMAPOBJ_E_TOOSMALL};
        try_buf(base, len, &o, "truncated to %zu bytes", len);
    }
    /* Junk blocks and zeroed regions, in the header's live parts and anywhere. */
    int nblocks = g_quick ? 60 : 400;
    for (int i = 0; i < nblocks; i++) {
        memcpy(b, base, blen);
        size_t pos, len = 1 + (size_t)relia_below(&rng, i % 3 == 0 ? 64 : 512);
        switch (i % 4) {
        case 0: pos = 64 + (size_t)relia_below(&rng, 192); break;          /* reader/writer state */
        case 1: pos = H_HEADS + (size_t)relia_below(&rng, 4096); break;    /* free-list heads */
        case 2: pos = (size_t)toff + (size_t)relia_below(&rng, 16 + (8u << tlog)); break; /* table */
        default: pos = HDR + (size_t)relia_below(&rng, blen - HDR); break; /* anywhere in the data */
        }
        if (pos >= blen) pos = blen - 1;
        if (len > blen - pos) len = blen - pos;
        int zero = (i / 4) % 2;
        for (size_t j = 0; j < len; j++) b[pos + j] = zero ? 0 : (unsigned char)relia_next(&rng);
        int dirty = i % 5 == 1;
        if (dirty) b[H_FLAGS] |= 1;
        struct opt o = {.expect = EXPECT_ANY, .writer = (i % 3) == 0 || dirty};
        try_buf(b, blen, &o, "%s %zu bytes at %zu%s", zero ? "zeroed" : "junk", len, pos, dirty ? " + DIRTY" : "");
    }
    printf("random mutations done (%" PRIu64 " files so far)\n", g_tried);

    crafted(base, blen, b);

    printf("test_hostile: OK: mutated files tried: %" PRIu64 " (open ok %" PRIu64 ", open refused %" PRIu64
           ", writer opens %" PRIu64 ", write rounds on verified files %" PRIu64 ")\n",
           g_tried, g_open_ok, g_open_fail, g_writer_opened, g_writes_done);
    printf("codes seen:");
    for (int i = 0; i < 64; i++)
        if (g_code_tally[i]) {
            int code = i == 0 ? 0 : i == 1 ? -1 : -((i / 10) * 100 + i % 10);
            printf(" %s=%" PRIu64, mmapobj_code_name(code), g_code_tally[i]);
        }
    printf("\n");
    free(b);
    free(base);
    relia_rmdir(g_dir);
    free(g_scratch);
    return 0;
}

/* ---- crafted files -------------------------------------------------------------------------- */

static void crafted_one(const unsigned char *base, size_t blen, unsigned char *b, const struct opt *o,
                        const char *desc, void (*edit)(unsigned char *, size_t, void *), void *arg)
{
    memcpy(b, base, blen);
    edit(b, blen, arg);
    try_buf(b, blen, o, "crafted: %s", desc);
}

struct set64 { size_t off; uint64_t val; int fixsum; };
static void edit_set64(unsigned char *b, size_t n, void *a)
{
    (void)n;
    struct set64 *s = a;
    wr64(b, s->off, s->val);
    if (s->fixsum) fix_checksum(b);
}

/* Offsets of the live slots of the base file's table. */
static size_t live_slots(const unsigned char *b, size_t *out, size_t max)
{
    uint64_t t = table_off(b);
    size_t n = 0, nslots = (size_t)1 << table_log2(b);
    for (size_t i = 0; i < nslots && n < max; i++) {
        uint64_t s = rd64(b, t + 16 + 8 * i);
        if (s > 1) out[n++] = t + 16 + 8 * i;
    }
    return n;
}

static uint64_t slot_rec(uint64_t slot) { return (slot & ((1ull << 40) - 1)) * 4; }

static size_t g_slots[4096];
static size_t g_nslots;
static uint64_t g_head_off; /* offset of a free block on some list */
static size_t g_head_slot;  /* header offset of that list's head */

static void edit_slot_target(unsigned char *b, size_t n, void *a)
{
    (void)n;
    uint64_t target = *(uint64_t *)a;
    uint64_t s = rd64(b, g_slots[0]);
    wr64(b, g_slots[0], (s & ~((1ull << 40) - 1)) | ((target / 4) & ((1ull << 40) - 1)));
}
static void edit_slot_dup(unsigned char *b, size_t n, void *a)
{
    (void)n; (void)a;
    wr64(b, g_slots[1], rd64(b, g_slots[0]));
}
static void edit_rec_w0(unsigned char *b, size_t n, void *a)
{
    (void)n;
    wr32(b, slot_rec(rd64(b, g_slots[0])), *(uint32_t *)a);
}
static void edit_rec_vlen(unsigned char *b, size_t n, void *a)
{
    (void)n;
    wr32(b, slot_rec(rd64(b, g_slots[0])) + 4, *(uint32_t *)a);
}
static void edit_all_slots(unsigned char *b, size_t n, void *a)
{
    (void)n;
    uint64_t t = table_off(b), v = *(uint64_t *)a;
    for (size_t i = 0; i < ((size_t)1 << table_log2(b)); i++)
        wr64(b, t + 16 + 8 * i, v == 2 ? rd64(b, g_slots[0]) : v);
}
static void edit_table_marker(unsigned char *b, size_t n, void *a)
{
    (void)n; (void)a;
    wr32(b, table_off(b), 0xDEADBEEF);
}
static void edit_table_log2_field(unsigned char *b, size_t n, void *a)
{
    (void)n; (void)a;
    wr32(b, table_off(b) + 4, table_log2(b) + 1);
}
static void edit_free_next(unsigned char *b, size_t n, void *a)
{
    (void)n;
    wr64(b, g_head_off + 8, *(uint64_t *)a == 1 ? g_head_off : *(uint64_t *)a);
}
static void edit_free_size(unsigned char *b, size_t n, void *a)
{
    (void)n;
    wr64(b, g_head_off, *(uint64_t *)a);
}
static void edit_head(unsigned char *b, size_t n, void *a)
{
    (void)n;
    wr64(b, g_head_slot, *(uint64_t *)a);
}
static void edit_dirty(unsigned char *b, size_t n, void *a)
{
    (void)n;
    int what = *(int *)a;
    wr32(b, H_FLAGS, rd32(b, H_FLAGS) | 1);
    if (what == 1) memset(b + H_HEADS, 0, 4096);                         /* lists lost */
    if (what == 2) { wr64(b, H_COUNT, 7); wr64(b, H_FREE, 1); wr64(b, H_SLACK, 99); wr64(b, H_TOMBS, 12345); }
    if (what == 3) wr64(b, g_head_off + 8, g_head_off);                  /* cyclic list */
    if (what == 4) wr64(b, H_SEQ, rd64(b, H_SEQ) | 1);                   /* killed while odd */
    if (what == 5) wr64(b, g_head_slot, 8);                              /* head into the header */
}

static void crafted_trust(const unsigned char *base, size_t blen, unsigned char *b);

static void crafted(const unsigned char *base, size_t blen, unsigned char *b)
{
    uint64_t fsize = rd64(base, H_FSIZE), toff = table_off(base);
    unsigned tlog = table_log2(base);
    g_nslots = live_slots(base, g_slots, 4096);
    CHECK(g_nslots >= 2);
    for (int c = 0; c < 512; c++)
        if (rd64(base, H_HEADS + 8 * (size_t)c)) {
            g_head_slot = H_HEADS + 8 * (size_t)c;
            g_head_off = rd64(base, g_head_slot);
            break;
        }
    CHECK(g_head_off >= HDR && g_head_off < blen);
    uint64_t before = g_tried;

    struct opt any = {.expect = EXPECT_ANY, .writer = 1};
    struct opt corrupt = {.expect = MMAPOBJ_E_CORRUPT};
    struct opt toosmall = {.expect = MMAPOBJ_E_TOOSMALL};
    struct opt vcorrupt = {.expect = EXPECT_ANY, .verify_corrupt = 1, .writer = 1};
    struct opt intact_all = {.expect = MMAPOBJ_OK, .intact = 1, .writer = 1, .writer_intact = 1};
    struct opt repaired = {.expect = EXPECT_ANY, .writer = 1, .writer_intact = 1};
    struct opt intact_ro = {.expect = MMAPOBJ_OK, .intact = 1, .writer = 1};

    uint64_t ref = (uint64_t)tlog << 56;
    struct { const char *d; struct set64 s; const struct opt *o; } sets[] = {
        {"table log2 41", {H_TABLE, (41ull << 56) | toff, 0}, &corrupt},
        {"table log2 40", {H_TABLE, (40ull << 56) | toff, 0}, &corrupt},
        {"table log2 63", {H_TABLE, (63ull << 56) | toff, 0}, &corrupt},
        {"table log2 2", {H_TABLE, (2ull << 56) | toff, 0}, &corrupt},
        {"table log2 0", {H_TABLE, toff, 0}, &corrupt},
        {"table log2 one less", {H_TABLE, ((uint64_t)(tlog - 1) << 56) | toff, 0}, &any},
        {"table log2 one more", {H_TABLE, ((uint64_t)(tlog + 1) << 56) | toff, 0}, &any},
        {"table misaligned", {H_TABLE, ref | (toff + 4), 0}, &corrupt},
        {"table at 0", {H_TABLE, ref, 0}, &corrupt},
        {"table in header", {H_TABLE, ref | 4096, 0}, &corrupt},
        {"table at file end", {H_TABLE, ref | ((fsize + 63) & ~63ull), 0}, &corrupt},
        {"table at 2^47", {H_TABLE, ref | (1ull << 47), 0}, &corrupt},
        {"table ref bits 48..55", {H_TABLE, rd64(base, H_TABLE) | (0x5Aull << 48), 0}, &any},
        {"table at 8192 (over records)", {H_TABLE, ref | 8192, 0}, &any},
        {"file_size + 1", {H_FSIZE, fsize + 1, 0}, &toosmall},
        {"file_size x2", {H_FSIZE, fsize * 2, 0}, &toosmall},
        {"file_size 2^63", {H_FSIZE, 1ull << 63, 0}, &toosmall},
        {"file_size max", {H_FSIZE, UINT64_MAX, 0}, &toosmall},
        {"file_size 8191", {H_FSIZE, 8191, 0}, &toosmall},
        {"file_size 0", {H_FSIZE, 0, 0}, &toosmall},
        {"file_size 8192", {H_FSIZE, 8192, 0}, &any},
        {"file_size below the table end", {H_FSIZE, toff + 8, 0}, &any},
        {"max_file_size 0", {H_MAXSIZE, 0, 0}, &any},
        {"max_file_size 1", {H_MAXSIZE, 1, 0}, &any},
        {"max_file_size below file_size", {H_MAXSIZE, fsize - 1, 0}, &any},
        {"max_file_size 2^47", {H_MAXSIZE, 1ull << 47, 0}, &any},
        {"max_file_size max", {H_MAXSIZE, UINT64_MAX, 0}, &any},
        {"alloc_end past file_size", {H_ALLOC, fsize + 4096, 0}, &vcorrupt},
        {"alloc_end below header", {H_ALLOC, 100, 0}, &vcorrupt},
        {"alloc_end max", {H_ALLOC, UINT64_MAX, 0}, &vcorrupt},
        {"alloc_end inside the data", {H_ALLOC, toff, 0}, &vcorrupt},
        {"count + 1", {H_COUNT, rd64(base, H_COUNT) + 1, 0}, &vcorrupt},
        {"count max", {H_COUNT, UINT64_MAX, 0}, &vcorrupt},
        {"tombstones max", {H_TOMBS, UINT64_MAX, 0}, &vcorrupt},
        {"free_bytes + 4", {H_FREE, rd64(base, H_FREE) + 4, 0}, &vcorrupt},
        {"slack_bytes + 4", {H_SLACK, rd64(base, H_SLACK) + 4, 0}, &vcorrupt},
        {"count_string + 1", {H_CSTR, rd64(base, H_CSTR) + 1, 0}, &vcorrupt},
        {"class_count 0", {H_CLASSES - 4, rd64(base, H_CLASSES - 4) & 0xFFFFFFFFull, 1}, &any},
        {"class_count 512", {H_CLASSES - 4, (rd64(base, H_CLASSES - 4) & 0xFFFFFFFFull) | (512ull << 32), 1}, &any},
        {"class_count 513", {H_CLASSES - 4, (rd64(base, H_CLASSES - 4) & 0xFFFFFFFFull) | (513ull << 32), 1}, &corrupt},
        {"seq odd", {H_SEQ, rd64(base, H_SEQ) | 1, 0}, &intact_ro},
        {"seq max", {H_SEQ, UINT64_MAX, 0}, &intact_ro},
        {"writer_pid of a live process", {H_FLAGS, (uint64_t)getpid() << 32, 0}, &intact_all},
        {"free head in an unused class", {H_HEADS + 8 * 511, g_head_off, 0}, &any},
        {"reserved header bytes set", {300, 0x1122334455667788ull, 0}, &intact_all},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        crafted_one(base, blen, b, sets[i].o, sets[i].d, edit_set64, &sets[i].s);

    /* Slots. */
    uint64_t targets[] = {0, 4, 2048, 8188, toff, toff + 16, fsize, fsize - 4, (1ull << 42) - 4, blen + 4096};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char d[96];
        snprintf(d, sizeof d, "slot pointing at %" PRIu64, targets[i]);
        crafted_one(base, blen, b, &vcorrupt, d, edit_slot_target, &targets[i]);
    }
    crafted_one(base, blen, b, &vcorrupt, "two slots share one record", edit_slot_dup, NULL);
    uint64_t fills[] = {1, 2, 0xFFFFFFFFFFFFFFFFull, 0x0000010000000400ull};
    const char *fill_names[] = {"all slots tombstones", "all slots one record", "all slots ~0", "all slots into the header"};
    for (size_t i = 0; i < 4; i++) crafted_one(base, blen, b, &vcorrupt, fill_names[i], edit_all_slots, &fills[i]);
    uint32_t w0s[] = {0x3FFFFFFFu << 2 | 1, 0, 1u << 2 | 0, (uint32_t)(200000u << 2 | 3), 2 | (4u << 2)};
    const char *w0_names[] = {"record key_len max", "record w0 zero", "record kind 0", "record key_len past end", "record as number with a short key"};
    for (size_t i = 0; i < 5; i++) crafted_one(base, blen, b, i == 4 ? &any : &vcorrupt, w0_names[i], edit_rec_w0, &w0s[i]);
    uint32_t vlens[] = {0xFFFFFFFFu, 0x7FFFFFFFu, (uint32_t)blen, 3};
    const char *vlen_names[] = {"record value_len max", "record value_len 2^31", "record value_len = file size", "record value_len 3"};
    for (size_t i = 0; i < 4; i++) crafted_one(base, blen, b, i == 3 ? &any : &vcorrupt, vlen_names[i], edit_rec_vlen, &vlens[i]);
    crafted_one(base, blen, b, &vcorrupt, "table marker wrong", edit_table_marker, NULL);
    crafted_one(base, blen, b, &vcorrupt, "table block log2 differs", edit_table_log2_field, NULL);

    /* Free lists. */
    uint64_t nexts[] = {1 /* itself */, blen + 64, 8, toff, toff + 16, slot_rec(rd64(base, g_slots[0])), 0x7FFFFFFFFFFFFFF0ull};
    const char *next_names[] = {"free block pointing to itself", "free next past end", "free next into header",
                                "free next at the table", "free next inside the table", "free next at a live record",
                                "free next huge"};
    for (size_t i = 0; i < 7; i++) crafted_one(base, blen, b, &vcorrupt, next_names[i], edit_free_next, &nexts[i]);
    uint64_t sizes[] = {0, 0xFE, (1ull << 8) | 0xFE, ((uint64_t)blen << 8) | 0xFE, UINT64_MAX, (rd64(base, g_head_off) & ~0xFFull)};
    const char *size_names[] = {"free block size 0", "free block size 0 with marker", "free block size 1",
                                "free block size = file", "free block size max", "free block marker missing"};
    for (size_t i = 0; i < 6; i++) crafted_one(base, blen, b, &vcorrupt, size_names[i], edit_free_size, &sizes[i]);
    uint64_t heads[] = {8, toff, toff + 16, fsize, slot_rec(rd64(base, g_slots[0])), g_head_off + 4};
    const char *head_names[] = {"free head into header", "free head at the table", "free head inside the table",
                                "free head at file end", "free head at a live record", "free head misplaced by 4"};
    for (size_t i = 0; i < 6; i++) crafted_one(base, blen, b, &vcorrupt, head_names[i], edit_head, &heads[i]);

    /* A dead writer's file (DIRTY): read-only sees the data; the writer repairs. */
    int dirty[] = {0, 1, 2, 3, 4, 5};
    const char *dirty_names[] = {"DIRTY", "DIRTY, free lists lost", "DIRTY, counters garbage", "DIRTY, cyclic free list",
                                 "DIRTY, odd seq", "DIRTY, free head into the header"};
    for (size_t i = 0; i < 6; i++) {
        struct opt o = i == 0 || i == 4 ? intact_all : repaired;
        o.intact = i == 0 || i == 4;
        crafted_one(base, blen, b, &o, dirty_names[i], edit_dirty, &dirty[i]);
    }
    printf("crafted files: %" PRIu64 "\n", g_tried - before);
    crafted_trust(base, blen, b);
}

/* ---- the trust rule: crafted clean files through a writer ----------------------------------- */

/* Class of a free block of s bytes (docs/FORMAT.md, "Free block"), 405 classes. */
static unsigned class_of(uint64_t s)
{
    if (s <= 1024) return (unsigned)((s - 16) / 4);
    unsigned e = 63u - (unsigned)__builtin_clzll(s);
    unsigned c = 253u + 4u * (e - 10u) + (unsigned)((s >> (e - 2)) & 3u);
    return c > 404 ? 404 : c;
}

struct blk { uint64_t off, size; };
static struct blk g_free[4096], g_recs[4096];
static size_t g_nfree, g_nrecs;

/* Links a made-up free block [off, off + size) (its header written into bytes that are free in
 * the base file, so no live byte changes) at the head of its class. */
static void add_fake_block(unsigned char *b, uint64_t off, uint64_t size)
{
    size_t head = H_HEADS + 8 * (size_t)class_of(size);
    wr64(b, off, size << 8 | 0xFE);
    wr64(b, off + 8, rd64(b, head));
    wr64(b, head, off);
}

struct tcase { const char *d; int kind; uint64_t a, b; int forged_ok; };
enum { T_SET = 1, T_FAKE, T_NEXT, T_NONE };

static void trust_edit(unsigned char *b, const struct tcase *t)
{
    switch (t->kind) {
    case T_SET: wr64(b, (size_t)t->a, t->b); break;
    case T_FAKE: add_fake_block(b, t->a, t->b); break;
    case T_NEXT: wr64(b, (size_t)t->a + 8, t->b); break;
    default: break;
    }
}

/* Every case twice: as it is (its state checksum no longer matches: the writer must repair), and
 * forged, with the checksum recomputed over the edit. A forged file still gets the O(1) checks,
 * the checks of every listed free block (bounds, marker, class, the table, same start or end as
 * another) and a table rebuild sized from what the table holds: where those catch the edit
 * (forged_ok) nothing may be lost; where they cannot (a free block inside a free block or over a
 * record, alloc_end inside the records: only the full walk sees those, docs/FORMAT.md "Trust
 * rule") the writer may lose data but must not crash, hang or read out of bounds. */
static void crafted_trust(const unsigned char *base, size_t blen, unsigned char *b)
{
    uint64_t before = g_tried;
    uint64_t toff = table_off(base), tend = toff + 16 + (8ull << table_log2(base));
    uint64_t ae = rd64(base, H_ALLOC), fsize = rd64(base, H_FSIZE);
    /* the documented checksum is the one the library stored at its clean close */
    if (rd64(base, H_STATE) != state_checksum(base, blen))
        relia_fail("state_checksum %016" PRIx64 " of the base file is not the one docs/FORMAT.md defines (%016" PRIx64 ")",
                   rd64(base, H_STATE), state_checksum(base, blen));
    /* the blocks of the base file */
    g_nrecs = 0;
    for (size_t i = 0; i < g_nslots; i++) {
        uint64_t r = slot_rec(rd64(base, g_slots[i]));
        uint64_t n = 8 + (rd32(base, r) >> 2) + rd32(base, r + 4);
        n = (n + 3) & ~3ull;
        g_recs[g_nrecs++] = (struct blk){r, n < 16 ? 16 : n};
    }
    g_nfree = 0;
    for (size_t c = 0; c < 512; c++)
        for (uint64_t off = rd64(base, H_HEADS + 8 * c); off && g_nfree < 4096; off = rd64(base, off + 8))
            g_free[g_nfree++] = (struct blk){off, rd64(base, off) >> 8};
    /* a free block followed by a record, one before the table, one with room for another */
    struct blk *before_rec = NULL, *before_table = NULL, *roomy = NULL;
    for (size_t i = 0; i < g_nfree; i++) {
        struct blk *f = &g_free[i];
        if (f->size >= 32 && f->off + f->size <= toff && !before_table) before_table = f;
        if (f->size >= 48 && !roomy) roomy = f;
        for (size_t j = 0; j < g_nrecs && f->size >= 32 && !before_rec; j++)
            if (g_recs[j].off == f->off + f->size) before_rec = f;
    }
    CHECK(before_rec && before_table && roomy);
    uint64_t rec_after_table = 0;
    for (size_t j = 0; j < g_nrecs; j++)
        if (g_recs[j].off >= tend && g_recs[j].off + g_recs[j].size > rec_after_table)
            rec_after_table = g_recs[j].off + g_recs[j].size;

    struct tcase cases[] = {
        {"unmodified", T_NONE, 0, 0, 1},
        {"state checksum 0 (an older writer)", T_SET, H_STATE, 0, 1},
        {"count 0, tombstones 100", T_SET, H_COUNT, 0, 1},
        {"count max", T_SET, H_COUNT, UINT64_MAX, 1},
        {"tombstones max", T_SET, H_TOMBS, UINT64_MAX, 1},
        {"count_string + 7", T_SET, H_CSTR, rd64(base, H_CSTR) + 7, 1},
        {"alloc_end at the table's end", T_SET, H_ALLOC, tend, rec_after_table == 0},
        {"alloc_end 8192", T_SET, H_ALLOC, 8192, 1},
        {"alloc_end below the table", T_SET, H_ALLOC, toff, 1},
        {"alloc_end - 4", T_SET, H_ALLOC, ae - 4, 0},
        {"alloc_end past file_size", T_SET, H_ALLOC, fsize + 4096, 1},
        {"alloc_end max", T_SET, H_ALLOC, UINT64_MAX, 1},
        {"free_bytes + 64", T_SET, H_FREE, rd64(base, H_FREE) + 64, 1},
        {"slack_bytes max", T_SET, H_SLACK, UINT64_MAX, 1},
        {"free block inside a free block", T_FAKE, roomy->off + 16, roomy->size - 32, 0},
        {"free block over the start of a record", T_FAKE, before_rec->off + before_rec->size - 16, 32, 0},
        {"free block over the table", T_FAKE, before_table->off + 16, toff - before_table->off, 1},
        {"free head in the header", T_SET, H_HEADS + 8 * (size_t)class_of(64), H_HEADS, 1},
        {"free block past alloc_end", T_FAKE, before_table->off + 16, ae, 1},
        {"free block of 2^40 bytes", T_FAKE, before_table->off + 16, 1ull << 40, 1},
        {"free list cycle", T_NEXT, g_free[0].off, g_free[0].off, 1},
        {"free list two-block cycle", T_NEXT, g_free[1].off, g_free[0].off, 1},
        {"free next into the table", T_NEXT, g_free[0].off, toff + 64, 1},
        {"free head at a live record", T_SET, H_HEADS + 8 * (size_t)class_of(g_recs[0].size), g_recs[0].off, 1},
        {"free head at the table", T_SET, H_HEADS + 8 * (size_t)class_of(g_recs[0].size), toff, 1},
        {"table marker wrong", T_SET, toff, (rd64(base, toff) & ~0xFFFFFFFFull) | 0x4C425455u, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int forged = 0; forged < 2; forged++) {
            const struct tcase *t = &cases[i];
            if (forged && t->kind == T_NONE) continue;
            memcpy(b, base, blen);
            trust_edit(b, t);
            if (!strcmp(t->d, "count 0, tombstones 100")) wr64(b, H_TOMBS, 100);
            if (forged) fix_state(b, blen);
            struct opt o = {.expect = EXPECT_ANY, .writer = 1, .keeps = !forged || t->forged_ok};
            /* a forged count (or per-kind count) is trusted: values must be right, counts may lie */
            g_counts_may_lie = forged && t->kind == T_SET && t->a >= H_COUNT && t->a < H_FLAGS;
            /* the unmodified file is trusted as it is; an edit the checksum covers is repaired */
            g_repairs_expected = t->kind == T_NONE ? 0 : forged ? -1 : 1;
            try_buf(b, blen, &o, "trust rule: %s%s", t->d, forged ? " (state checksum recomputed)" : "");
            g_counts_may_lie = 0;
            g_repairs_expected = -1;
        }
    printf("trust rule: crafted clean files through a writer: %" PRIu64 "\n", g_tried - before);
}
