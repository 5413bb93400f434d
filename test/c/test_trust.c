/* test_trust.c - regression tests of issue 9's defects 1-4: what a reader or a writer may trust
 * in a file, and what a crash while creating may leave behind. One case per ctest
 * (test/c/CMakeLists.txt runs `test_trust CASE`):
 *
 *   open_race      a reader opens while a writer grows the file between the reader's check of
 *                  table_ref and its use (test hook "open:tref-checked"), and while a writer
 *                  builds a table in new space between the reader's loads of file_size and
 *                  table_ref ("open:size-checked"): no crash, no error, and the reader then sees
 *                  every key.
 *   count_hang     a cleanly closed file with count = 0 and tombstones = 100 (12 keys in a 16-slot
 *                  table): the first set of a new key returns (a hang is a failure: the case runs
 *                  in a child with a deadline) and every key keeps its value.
 *   free_in_value  a cleanly closed file whose free-list head points inside a live value (which
 *                  looks like a free block there): a writer's next set must not change that value.
 *   alloc_end_low  a cleanly closed file whose alloc_end is lowered to the end of the table: a
 *                  writer that opens and closes must not truncate it; every key keeps its value.
 *   create_killed  a writer killed at each step of creating a map inside an existing empty file:
 *                  the next create succeeds, and the map it makes works.
 *   create_reader  a reader that opens while a map is created inside an existing empty file gets
 *                  "not a map yet" (E_TOOSMALL / E_BADMAGIC) or a complete map, never E_CORRUPT.
 *
 * Each case runs in a child process (the spawn harness, spawn.h) with a time limit, and the
 * parent waits with a deadline, so a hang or a crash fails the case instead of blocking or
 * killing the test run. The steps of an open or a create are reached through the library's test
 * hook (csrc/testhook.h). The format facts (offsets) are those of docs/FORMAT.md. */
// ctest-cases: open_race count_hang free_in_value alloc_end_low create_killed create_reader
#include <fcntl.h>
#include <stdatomic.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "internal.h"
#include "relia.h"
#include "spawn.h"
#include "testhook.h"

enum { H_TABLE = 72, H_FSIZE = 80, H_COUNT = 128, H_TOMBS = 136, H_ALLOC = 144, H_FLAGS = 192,
       H_STATE = 200, H_HEADS = 4096, HDR = 8192 };
#define FREE_MARKER 0xFEu

static const char *g_dir;

/* ---- file helpers ---------------------------------------------------------------------------- */

static uint64_t pread64_at(const char *path, uint64_t off)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    uint64_t v = 0;
    CHECK(pread(fd, &v, 8, (off_t)off) == 8);
    close(fd);
    return v;
}

static void pwrite_at(const char *path, uint64_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, p, n, (off_t)off) == (ssize_t)n);
    close(fd);
}

static void pwrite64_at(const char *path, uint64_t off, uint64_t v)
{
    pwrite_at(path, off, &v, 8);
}

/* Recomputes state_checksum (offset 200) of the closed file at path as docs/FORMAT.md defines
 * it, the way a forger would: XXH3_64bits of table_ref, bytes 128..191, the free-list heads and
 * the header of every listed free block (classes in order, each list from its head). */
static void forge_state_checksum(const char *path)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size >= HDR);
    size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n);
    CHECK(b && pread(fd, b, n, 0) == (ssize_t)n);
    XXH3_state_t *xs = XXH3_createState();
    CHECK(xs);
    XXH3_64bits_reset(xs);
    XXH3_64bits_update(xs, b + H_TABLE, 8);
    XXH3_64bits_update(xs, b + H_COUNT, 64);
    XXH3_64bits_update(xs, b + H_HEADS, 4096);
    size_t steps = 0;
    for (size_t c = 0; c < 512; c++) {
        uint64_t off;
        memcpy(&off, b + H_HEADS + 8 * c, 8);
        while (off && off <= n - 16 && steps++ < n / 16) {
            XXH3_64bits_update(xs, b + off, 16);
            memcpy(&off, b + off + 8, 8);
        }
    }
    uint64_t d = XXH3_64bits_digest(xs);
    XXH3_freeState(xs);
    free(b);
    CHECK(pwrite(fd, &d, 8, H_STATE) == 8);
    close(fd);
}

static uint64_t file_len(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (uint64_t)st.st_size;
}

static void make_empty(const char *path)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);
}

/* Record offset of the slot holding key (a scan of the table of the closed file at path). */
static uint64_t record_of(const char *path, const char *key)
{
    uint64_t tref = pread64_at(path, H_TABLE);
    uint64_t toff = tref & ((UINT64_C(1) << 48) - 1);
    unsigned lg = (unsigned)(tref >> 56);
    size_t klen = strlen(key);
    for (uint64_t i = 0; i < (UINT64_C(1) << lg); i++) {
        uint64_t s = pread64_at(path, toff + 16 + 8 * i);
        if (s <= 1) continue;
        uint64_t off = (s & ((UINT64_C(1) << 40) - 1)) * 4;
        uint64_t w = pread64_at(path, off);
        if (((uint32_t)w >> 2) != klen) continue;
        char buf[64];
        int fd = open(path, O_RDONLY);
        CHECK(fd >= 0 && klen < sizeof buf);
        CHECK(pread(fd, buf, klen, (off_t)(off + 8)) == (ssize_t)klen);
        close(fd);
        if (memcmp(buf, key, klen) == 0) return off;
    }
    return 0;
}

/* Key i and its value (deterministic). */
static size_t key_i(unsigned i, char *buf)
{
    return (size_t)snprintf(buf, 32, "key-%u", i);
}

static size_t val_i(unsigned i, char *buf)
{
    return (size_t)snprintf(buf, 64, "value of key %u: %u", i, i * 2654435761u);
}

static void set_keys(mmapobj_map *w, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        char k[32], v[64];
        size_t kl = key_i(i, k), vl = val_i(i, v);
        CHECK_OK(w, mmapobj_set_string(w, k, kl, v, vl));
    }
}

/* Every key in [0, n) reads back exactly through m; returns the number that do not. */
static unsigned keys_intact(mmapobj_map *m, unsigned n, int verbose)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) {
        char k[32], v[64];
        size_t kl = key_i(i, k), vl = val_i(i, v);
        mmapobj_value val;
        int rc = mmapobj_get(m, k, kl, &val);
        if (rc != MMAPOBJ_OK || val.kind != MMAPOBJ_KIND_STRING || val.len != vl ||
            memcmp(val.data, v, vl) != 0) {
            if (verbose && bad < 5)
                fprintf(stderr, "  key %s: %s (%s)\n", k, mmapobj_code_name(rc),
                        rc ? mmapobj_errmsg(m) : "wrong value");
            bad++;
        }
    }
    return bad;
}

/* The same with two arguments. */
static void run_child2(const char *what, const char *role, const char *a1, const char *a2,
                       unsigned secs)
{
    int kid = sp_spawn(role, secs, -1, a1, a2, (const char *)NULL);
    sp_status st = sp_wait(kid, secs + 30.0);
    char buf[96];
    if (!sp_ok(&st)) relia_fail("%s: the child ended with %s", what, sp_status_str(&st, buf, sizeof buf));
}

/* Runs role with the argument arg in a child with a time limit and waits with a deadline; the
 * child's exit code 0 is a pass. A crash or a hang (the limit passed) fails the test. */
static void run_child(const char *what, const char *role, const char *arg, unsigned secs)
{
    int kid = sp_spawn(role, secs, -1, arg, (const char *)NULL);
    sp_status st = sp_wait(kid, secs + 30.0);
    char buf[96];
    if (!sp_ok(&st)) relia_fail("%s: the child ended with %s", what, sp_status_str(&st, buf, sizeof buf));
}

/* ---- defect 1: table_ref loaded twice at open ------------------------------------------------ */

static mmapobj_map *g_race_writer;
static int g_race_fired, g_race_mode, g_race_seen;
#define RACE_KEYS 2000u

static void race_hook(const char *point, mmapobj_map *m)
{
    (void)m;
    if (g_race_fired) return;
    if (g_race_mode == 0) {
        /* between the check of table_ref and the read of the table block: the writer grows the
         * file and publishes rebuilt tables far past what the reader has mapped */
        if (strcmp(point, "open:tref-checked") != 0) return;
        g_race_fired = 1;
        set_keys(g_race_writer, 10, RACE_KEYS);
    } else {
        /* the header check of the mapping (the second one; the first is of a private copy),
         * after file_size and before table_ref: the writer grows the file and builds one table
         * in the new space, which moves no seq */
        if (strcmp(point, "open:size-checked") != 0 || ++g_race_seen != 2) return;
        g_race_fired = 1;
        static char big[4000];
        memset(big, 'B', sizeof big);
        CHECK_OK(g_race_writer, mmapobj_set_string(g_race_writer, "big-1", 5, big, sizeof big));
        CHECK_OK(g_race_writer, mmapobj_set_string(g_race_writer, "big-2", 5, big, sizeof big));
        /* the 13th key: the table grows from 16 slots; its record is too big for the old
         * table's freed block, so nothing is reused and seq does not move */
        CHECK_OK(g_race_writer, mmapobj_set_string(g_race_writer, "big-3", 5, big, 300));
    }
}

static int open_race_child(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *path = argv[0];
    g_race_mode = atoi(argv[1]);
    unlink(path);
    CHECK_OK(NULL, mmapobj_create(path, 16384, 8, 0, &g_race_writer)); /* 16 slots */
    set_keys(g_race_writer, 0, 10);
    uint64_t size_before = file_len(path), tref_before = pread64_at(path, H_TABLE);
    mo_test_hook = race_hook;
    mmapobj_map *r = NULL;
    int rc = mmapobj_open(path, &r);
    mo_test_hook = NULL;
    if (!g_race_fired) {
        fprintf(stderr, "open_race: the hook point was never reached\n");
        return 3;
    }
    uint64_t tref = pread64_at(path, H_TABLE);
    if (file_len(path) <= size_before || tref == tref_before ||
        (tref & ((UINT64_C(1) << 48) - 1)) < size_before) {
        fprintf(stderr, "open_race: the writer did not move the table past the reader's mapping\n");
        return 3;
    }
    if (rc != MMAPOBJ_OK) {
        fprintf(stderr, "open_race: open while the writer grew the file: %s: %s\n",
                mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        return 4;
    }
    unsigned n = g_race_mode == 0 ? RACE_KEYS : 10;
    unsigned bad = keys_intact(r, n, 1);
    if (bad) {
        fprintf(stderr, "open_race: %u of %u keys not read back by the reader\n", bad, n);
        return 4;
    }
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(r, mmapobj_close(&r));
    CHECK_OK(g_race_writer, mmapobj_close(&g_race_writer));
    return 0;
}

static void case_open_race(void)
{
    run_child2("open_race (table_ref reloaded after its check)", "race",
               test_path(g_dir, "race.mmo"), "0", 60);
    printf("open_race: a writer grew the file between the reader's table_ref check and use: OK\n");
    run_child2("open_race (a table in new space between file_size and table_ref)", "race",
               test_path(g_dir, "race2.mmo"), "1", 60);
    printf("open_race: a writer built a table in new space between the reader's file_size and "
           "table_ref loads: OK\n");
}

/* ---- defect 2: count and tombstones of a clean file ------------------------------------------ */

static int g_repairs;
static void count_repairs(const char *point, mmapobj_map *m)
{
    (void)m;
    if (strcmp(point, "writer:repair") == 0) g_repairs++;
}

static int count_hang_child(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *path = argv[0];
    int forged = atoi(argv[1]);
    mmapobj_map *w = NULL;
    /* The trust rule would allow E_CORRUPT; this library repairs (crafted: the checksum fails,
     * the walk recounts) or copes (forged: the rebuild counts what the table holds), so the
     * test asks for OK. */
    mo_test_hook = count_repairs;
    int rc = mmapobj_create(path, 0, 0, 0, &w);
    mo_test_hook = NULL;
    CHECK_OK(NULL, rc);
    /* crafted: the checksum catches it (a repair walk); forged: the writer trusts count 0 */
    if (g_repairs != !forged) {
        fprintf(stderr, "count_hang: %d repair walks at writer open, expected %d\n", g_repairs, !forged);
        return 6;
    }
    rc = mmapobj_set_string(w, "a new key", 9, "new", 3);
    if (rc != MMAPOBJ_OK) {
        fprintf(stderr, "count_hang: set: %s: %s\n", mmapobj_code_name(rc), mmapobj_errmsg(w));
        return 5;
    }
    unsigned bad = keys_intact(w, 12, 1);
    if (bad) {
        fprintf(stderr, "count_hang: %u of 12 keys lost through the writer\n", bad);
        return 4;
    }
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    bad = keys_intact(r, 12, 1);
    if (bad) {
        fprintf(stderr, "count_hang: %u of 12 keys lost after the writer closed\n", bad);
        return 4;
    }
    CHECK_OK(r, mmapobj_close(&r));
    return 0;
}

static void case_count_hang(void)
{
    /* as crafted (the state checksum no longer matches: the writer repairs), and forged (the
     * checksum recomputed: the writer trusts count 0, and the rebuild must size the new table
     * from what the old one holds) */
    for (int forged = 0; forged < 2; forged++) {
        const char *path = test_path(g_dir, "count.mmo");
        unlink(path);
        mmapobj_map *w = NULL;
        CHECK_OK(NULL, mmapobj_create(path, 0, 12, 0, &w));
        set_keys(w, 0, 12);
        CHECK_OK(w, mmapobj_verify(w));
        CHECK_OK(w, mmapobj_close(&w));
        CHECK(pread64_at(path, H_TABLE) >> 56 == 4); /* 12 keys in 16 slots */
        CHECK(pread64_at(path, H_COUNT) == 12);
        CHECK((pread64_at(path, H_FLAGS) & 1) == 0); /* closed cleanly */
        pwrite64_at(path, H_COUNT, 0);
        pwrite64_at(path, H_TOMBS, 100);
        if (forged) forge_state_checksum(path);
        run_child2(forged ? "count_hang (forged)" : "count_hang", "count", path, forged ? "1" : "0", 30);
    }
    printf("count_hang: count 0 / tombstones 100 on a clean file, as crafted and with the state "
           "checksum forged: no hang, nothing lost: OK\n");
}

/* ---- defect 3a: a free-list head inside a live value ----------------------------------------- */

#define VICTIM_LEN 300
#define FAKE_BLOCK 64u /* a free block of 64 bytes: exact class (64 - 16) / 4 = 12 */

static unsigned char g_victim_before[VICTIM_LEN];

static int victim_ok(mmapobj_map *m, const char *who)
{
    mmapobj_value v;
    int rc = mmapobj_get(m, "victim", 6, &v);
    if (rc == MMAPOBJ_E_CORRUPT) return 1; /* an error is allowed, a changed value is not */
    if (rc != MMAPOBJ_OK || v.kind != MMAPOBJ_KIND_BYTES || v.len != VICTIM_LEN ||
        memcmp(v.data, g_victim_before, VICTIM_LEN) != 0) {
        size_t diff = 0;
        if (rc == MMAPOBJ_OK && v.len == VICTIM_LEN)
            while (diff < VICTIM_LEN && ((const unsigned char *)v.data)[diff] == g_victim_before[diff])
                diff++;
        fprintf(stderr, "free_in_value: %s: get(victim) = %s with %s (first changed byte %zu)\n", who,
                mmapobj_code_name(rc), rc == MMAPOBJ_OK ? "changed bytes" : mmapobj_errmsg(m), diff);
        return 0;
    }
    return 1;
}

static int free_in_value_child(int argc, char **argv)
{
    CHECK(argc == 1);
    const char *path = argv[0];
    /* the victim's value as the crafted file holds it */
    mmapobj_map *r0 = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r0));
    mmapobj_value v0;
    CHECK_OK(r0, mmapobj_get(r0, "victim", 6, &v0));
    CHECK(v0.len == VICTIM_LEN);
    memcpy(g_victim_before, v0.data, VICTIM_LEN);
    CHECK_OK(r0, mmapobj_close(&r0));
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(path, 0, 0, 0, &w);
    if (rc == MMAPOBJ_E_CORRUPT) return 0;
    CHECK_OK(NULL, rc);
    /* a record of exactly 64 bytes: 8 + 3 + 53 */
    char v53[53];
    memset(v53, 'N', sizeof v53);
    rc = mmapobj_set_string(w, "new", 3, v53, sizeof v53);
    if (rc != MMAPOBJ_OK && rc != MMAPOBJ_E_CORRUPT) return 5;
    for (unsigned i = 0; i < 8; i++) {
        char k[16];
        snprintf(k, sizeof k, "more-%u", i);
        rc = mmapobj_set_string(w, k, strlen(k), v53, sizeof v53);
        if (rc != MMAPOBJ_OK && rc != MMAPOBJ_E_CORRUPT) return 5;
    }
    if (!victim_ok(w, "writer after sets") || keys_intact(w, 20, 1)) return 4;
    CHECK_OK(w, mmapobj_close(&w));
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    if (!victim_ok(r, "reader after the writer closed") || keys_intact(r, 20, 1)) return 4;
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(r, mmapobj_close(&r));
    return 0;
}

static void case_free_in_value(void)
{
    const char *path = test_path(g_dir, "freeval.mmo");
    unlink(path);
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
    set_keys(w, 0, 10);
    unsigned char zeros[VICTIM_LEN] = {0};
    CHECK_OK(w, mmapobj_set_bytes(w, "victim", 6, zeros, sizeof zeros));
    set_keys(w, 10, 20);
    CHECK_OK(w, mmapobj_close(&w));
    /* Inside the victim's value, at a 4-aligned offset, put bytes that read as a free block of 64
     * bytes, and point that class's free-list head at them. */
    uint64_t rec = record_of(path, "victim");
    CHECK(rec >= HDR);
    uint64_t val = rec + 8 + 6;
    uint64_t fake = (val + 3 + 16) & ~UINT64_C(3);
    CHECK(fake + FAKE_BLOCK <= val + VICTIM_LEN);
    uint64_t hdr[2] = {((uint64_t)FAKE_BLOCK << 8) | FREE_MARKER, 0};
    pwrite_at(path, fake, hdr, sizeof hdr);
    pwrite64_at(path, H_HEADS + 8 * ((FAKE_BLOCK - 16) / 4), fake);
    run_child("free_in_value", "freeval", path, 30);
    printf("free_in_value: a free-list head inside a live value: the value stays: OK\n");
}

/* ---- defect 3b: alloc_end lowered to the end of the table ------------------------------------ */

static int alloc_end_child(int argc, char **argv)
{
    CHECK(argc == 1);
    const char *path = argv[0];
    uint64_t len = file_len(path);
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(path, 0, 0, 0, &w);
    if (rc == MMAPOBJ_OK) CHECK_OK(w, mmapobj_close(&w));
    else if (rc != MMAPOBJ_E_CORRUPT) CHECK_OK(NULL, rc);
    if (file_len(path) < len) {
        fprintf(stderr, "alloc_end_low: a writer that wrote nothing cut the file from %llu to %llu "
                "bytes\n", (unsigned long long)len, (unsigned long long)file_len(path));
        return 4;
    }
    mmapobj_map *r = NULL;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    unsigned bad = keys_intact(r, 50, 1);
    if (bad) {
        fprintf(stderr, "alloc_end_low: %u of 50 keys lost\n", bad);
        return 4;
    }
    CHECK_OK(r, mmapobj_close(&r));
    /* and a writer that writes keeps them too */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
    set_keys(w, 50, 60);
    bad = keys_intact(w, 60, 1);
    if (bad) {
        fprintf(stderr, "alloc_end_low: %u of 60 keys wrong after writes\n", bad);
        return 4;
    }
    CHECK_OK(w, mmapobj_verify(w));
    CHECK_OK(w, mmapobj_close(&w));
    return 0;
}

static void case_alloc_end_low(void)
{
    const char *path = test_path(g_dir, "allocend.mmo");
    unlink(path);
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
    set_keys(w, 0, 50);
    CHECK_OK(w, mmapobj_close(&w));
    uint64_t tref = pread64_at(path, H_TABLE);
    uint64_t tend = (tref & ((UINT64_C(1) << 48) - 1)) + 16 + (UINT64_C(8) << (tref >> 56));
    CHECK(pread64_at(path, H_ALLOC) > tend); /* the records lie after the table */
    pwrite64_at(path, H_ALLOC, tend);
    run_child("alloc_end_low", "allocend", path, 30);
    printf("alloc_end_low: alloc_end lowered to the table's end: no truncation, nothing lost: OK\n");
}

/* ---- defect 4: a crash while creating inside an existing empty file -------------------------- */

#define KILLED_EXIT 77 /* the child ended at the hook point: _exit, no cleanup, like a kill */
static int g_kill_at, g_points;

static void kill_hook(const char *point, mmapobj_map *m)
{
    (void)m;
    if (strncmp(point, "create:", 7) != 0) return;
    if (g_points++ == g_kill_at) _exit(KILLED_EXIT);
}

static int create_killed_child(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *path = argv[0];
    g_kill_at = atoi(argv[1]);
    mo_test_hook = kill_hook;
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
    mo_test_hook = NULL;
    CHECK_OK(w, mmapobj_set_string(w, "k", 1, "v", 1));
    CHECK_OK(w, mmapobj_close(&w));
    return 0;
}

static void case_create_killed(void)
{
    const char *path = test_path(g_dir, "killed.mmo");
    int killed = 0;
    for (int step = 0; step < 32; step++) {
        make_empty(path);
        char arg[16];
        snprintf(arg, sizeof arg, "%d", step);
        int kid = sp_spawn("killed", 30, -1, path, arg, (const char *)NULL);
        sp_status st = sp_wait(kid, 60);
        char buf[96];
        if (sp_ok(&st)) break; /* no step left to end at */
        if (st.how != SP_EXITED || st.code != KILLED_EXIT)
            relia_fail("create_killed: child (ending at step %d) ended with %s", step,
                       sp_status_str(&st, buf, sizeof buf));
        killed++;
        /* what the dead writer left: a reader gets "not a map yet", never a crash */
        mmapobj_map *r = NULL;
        int rc = mmapobj_open(path, &r);
        if (rc == MMAPOBJ_OK) CHECK_OK(r, mmapobj_close(&r));
        else if (rc != MMAPOBJ_E_TOOSMALL && rc != MMAPOBJ_E_BADMAGIC)
            relia_fail("create_killed: step %d: open of what was left: %s: %s", step,
                       mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        /* the next create must succeed and make a working map */
        mmapobj_map *w = NULL;
        rc = mmapobj_create(path, 0, 0, 0, &w);
        if (rc != MMAPOBJ_OK)
            relia_fail("create_killed: ended at step %d, the next create gives %s: %s (file of "
                       "%llu bytes)", step, mmapobj_code_name(rc), mmapobj_errmsg(NULL),
                       (unsigned long long)file_len(path));
        CHECK_OK(w, mmapobj_set_string(w, "after", 5, "crash", 5));
        CHECK_OK(w, mmapobj_verify(w));
        CHECK_OK(w, mmapobj_close(&w));
        CHECK_OK(NULL, mmapobj_open(path, &r));
        mmapobj_value v;
        CHECK_OK(r, mmapobj_get(r, "after", 5, &v));
        CHECK(v.len == 5 && memcmp(v.data, "crash", 5) == 0);
        CHECK_OK(r, mmapobj_verify(r));
        CHECK_OK(r, mmapobj_close(&r));
    }
    CHECK(killed >= 2);
    printf("create_killed: a writer ended at each of the %d steps of a create in an empty file; "
           "each time the next create worked: OK\n", killed);
}

static const char *g_reader_path;
static int g_reader_bad, g_reader_seen;

static void reader_hook(const char *point, mmapobj_map *m)
{
    (void)m;
    if (strncmp(point, "create:", 7) != 0) return;
    g_reader_seen++;
    mmapobj_map *r = NULL;
    mo_test_hook = NULL; /* the reader's own open must not recurse */
    int rc = mmapobj_open(g_reader_path, &r);
    if (rc == MMAPOBJ_OK) {
        int v = mmapobj_verify(r);
        if (v != MMAPOBJ_OK) {
            fprintf(stderr, "create_reader: at %s a reader opened a map that does not verify: %s\n",
                    point, mmapobj_errmsg(r));
            g_reader_bad++;
        }
        mmapobj_close(&r);
    } else if (rc != MMAPOBJ_E_TOOSMALL && rc != MMAPOBJ_E_BADMAGIC) {
        fprintf(stderr, "create_reader: at %s a reader's open gave %s: %s\n", point,
                mmapobj_code_name(rc), mmapobj_errmsg(NULL));
        g_reader_bad++;
    }
    mo_test_hook = reader_hook;
}

static int create_reader_child(int argc, char **argv)
{
    CHECK(argc == 1);
    g_reader_path = argv[0];
    make_empty(g_reader_path);
    mo_test_hook = reader_hook;
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(g_reader_path, 0, 0, 0, &w));
    mo_test_hook = NULL;
    CHECK_OK(w, mmapobj_close(&w));
    if (g_reader_seen < 2) {
        fprintf(stderr, "create_reader: only %d create steps seen\n", g_reader_seen);
        return 3;
    }
    return g_reader_bad ? 4 : 0;
}

static void case_create_reader(void)
{
    run_child("create_reader", "creating", test_path(g_dir, "creating.mmo"), 30);
    printf("create_reader: readers during a create in an empty file saw no half-made map: OK\n");
}

/* ---- main ------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"open_race", case_open_race},         {"count_hang", case_count_hang},
    {"free_in_value", case_free_in_value}, {"alloc_end_low", case_alloc_end_low},
    {"create_killed", case_create_killed}, {"create_reader", case_create_reader},
};

int main(int argc, char **argv)
{
    static const sp_role roles[] = {
        {"race", open_race_child},         {"count", count_hang_child},
        {"freeval", free_in_value_child},  {"allocend", alloc_end_child},
        {"killed", create_killed_child},   {"creating", create_reader_child},
        {NULL, NULL},
    };
    sp_main(argc, argv, roles);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        g_dir = test_dir("trust");
        cases[i].fn();
        relia_rmdir(g_dir);
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "test_trust: no case named %s\n", argv[1]);
        return 2;
    }
    return 0;
}
