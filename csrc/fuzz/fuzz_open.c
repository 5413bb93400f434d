/* fuzz_open.c - libFuzzer target: the input bytes are a file; open it read-only and use it.
 *
 * Writes the input to a private temp file, opens it with mmapobj_open, then verifies, iterates
 * (both forms), counts, stats, and looks up a few keys: fixed ones, keys cut from the input and
 * the first keys the iteration produced. Then the same as a writer (mmapobj_create: free-list
 * loading and dead-writer repair on hostile bytes), and if the writer's verify passes, a few
 * writes after which verify must still pass. Any crash, hang, leak, out-of-bounds access,
 * undefined behaviour or a verified file broken by writes is a finding; error codes are fine.
 *
 * The trust rule (docs/FORMAT.md): a writer uses the state of a cleanly closed file only when its
 * state checksum (offset 200) matches. Mutated inputs almost never match, so when bit 0 of the
 * reserved header byte 255 is set the target recomputes the checksum over the input first (a
 * forged file): the trusted paths then run on hostile state too, and must not crash or hang.
 * And whatever a clean close of the library leaves, the next writer must trust (no repair walk).
 * Built by csrc/fuzz/CMakeLists.txt with -fsanitize=fuzzer,address,undefined; run by
 * test/run-fuzz.sh. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "mmapobj.h"

/* The library's test hook (csrc/testhook.c, in the static library this target links). */
extern void (*mo_test_hook)(const char *point, mmapobj_map *m);
static int g_repairs;
static void count_repairs(const char *point, mmapobj_map *m)
{
    (void)m;
    if (strcmp(point, "writer:repair") == 0) g_repairs++;
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

/* state_checksum as docs/FORMAT.md defines it, over a file image b of n >= 8192 bytes (a cycle
 * or an offset out of the image ends a list). */
static uint64_t state_checksum(const uint8_t *b, size_t n)
{
    XXH3_state_t *st = XXH3_createState();
    if (!st) abort();
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, b + 72, 8);
    XXH3_64bits_update(st, b + 128, 64);
    XXH3_64bits_update(st, b + 4096, 4096);
    size_t steps = 0;
    for (size_t c = 0; c < 512; c++)
        for (uint64_t off = rd64(b, 4096 + 8 * c); off && off <= n - 16 && steps++ < n / 16;
             off = rd64(b, off + 8))
            XXH3_64bits_update(st, b + off, 16);
    uint64_t d = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char g_path[256];
static volatile unsigned g_sink;

static void touch(const void *p, size_t n)
{
    const unsigned char *c = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += c[i];
    g_sink += s;
}

static void remove_temp(void)
{
    unlink(g_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    snprintf(g_path, sizeof g_path, "%s/mmapobj-fuzz-%d.mmo", dir && *dir ? dir : "/tmp", (int)getpid());
    atexit(remove_temp);
    return 0;
}

static void lookup(mmapobj_map *m, const void *key, size_t klen)
{
    mmapobj_value v;
    if (mmapobj_get(m, key, klen, &v) == MMAPOBJ_OK && v.kind != MMAPOBJ_KIND_NUMBER) touch(v.data, v.len);
    (void)mmapobj_has(m, key, klen);
    const char *s = mmapobj_get_cstr(m, key, klen);
    if (s) touch(s, strlen(s));
    const mmapobj_status *sb = mmapobj_status_block(m);
    if (!s && sb->code == MMAPOBJ_OK && sb->kind != MMAPOBJ_KIND_NUMBER && sb->len < ((uint64_t)1 << 26)) {
        void *buf = malloc(sb->len + 1);
        if (buf) {
            (void)mmapobj_copy_last(m, buf, sb->len + 1);
            free(buf);
        }
    }
}

/* Everything a reader can do with the map; returns the first key the iteration produced (if
 * any) in key0/klen0. */
static void use_map(mmapobj_map *m, const uint8_t *data, size_t size, char *key0, size_t *klen0)
{
    (void)mmapobj_verify(m);
    touch(mmapobj_errmsg(m), strlen(mmapobj_errmsg(m)));
    (void)mmapobj_count(m);
    mmapobj_stats st;
    (void)mmapobj_stat(m, &st);
    /* Iterate, keeping the first few keys to look up again. */
    char keys[4][64];
    size_t klens[4];
    int nkeys = 0;
    mmapobj_iter *it = NULL;
    if (mmapobj_iter_open(m, &it) == MMAPOBJ_OK) {
        for (int i = 0; i < 100000; i++) {
            const void *k;
            size_t kl;
            mmapobj_value v;
            int rc = mmapobj_iter_next(it, &k, &kl, &v);
            if (rc != 1) break;
            touch(k, kl);
            if (v.kind != MMAPOBJ_KIND_NUMBER) touch(v.data, v.len);
            if (nkeys < 4 && kl <= 64) {
                memcpy(keys[nkeys], k, kl);
                klens[nkeys++] = kl;
            }
        }
        mmapobj_iter_close(&it);
    }
    if (mmapobj_iter_open(m, &it) == MMAPOBJ_OK) {
        unsigned char buf[512];
        for (int i = 0; i < 100000; i++) {
            uint64_t need = 0;
            int rc = mmapobj_iter_batch(it, buf, sizeof buf, i & 1, &need);
            if (rc <= 0) break;
        }
        mmapobj_iter_close(&it);
    }

    for (int i = 0; i < nkeys; i++) lookup(m, keys[i], klens[i]);
    lookup(m, "a", 1);
    lookup(m, "", 0);
    /* Keys cut from the input: record-shaped spots after the header and the input's tail. */
    if (size > 8200) {
        size_t kl = data[8192] % 32;
        if (kl <= size - 8200) lookup(m, data + 8200, kl);
    }
    if (size >= 16) lookup(m, data + size - 16, 16);
    *klen0 = 0;
    if (nkeys > 0) {
        memcpy(key0, keys[0], klens[0]);
        *klen0 = klens[0];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *forged = NULL;
    if (size >= 8192 && (data[255] & 1)) {
        forged = malloc(size);
        if (!forged) return 0;
        memcpy(forged, data, size);
        uint64_t d = state_checksum(forged, size);
        memcpy(forged + 200, &d, 8);
        data = forged;
    }
    int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    close(fd);

    char key0[64];
    size_t klen0 = 0;
    mmapobj_map *m = NULL;
    if (mmapobj_open(g_path, &m) == MMAPOBJ_OK) {
        use_map(m, data, size, key0, &klen0);
        mmapobj_close(&m);
    } else {
        touch(mmapobj_errmsg(NULL), strlen(mmapobj_errmsg(NULL)));
    }

    /* The same bytes opened by a writer: loading the free lists, and the repair of a dead
     * writer's file (DIRTY), run on hostile data too. A file that the writer's verify accepts
     * must stay consistent through a few writes: anything else is a finding. */
    if (mmapobj_create(g_path, 0, 0, 0, &m) != MMAPOBJ_OK) {
        free(forged);
        return 0;
    }
    use_map(m, data, size, key0, &klen0);
    int consistent = 0;
    if (mmapobj_verify(m) == MMAPOBJ_OK) {
        static const char big[3000];
        int rc[5];
        rc[0] = mmapobj_set_string(m, "fz-s", 4, "fuzz", 4);
        rc[1] = mmapobj_set_number(m, "fz-n", 4, 1.5);
        rc[2] = mmapobj_set_bytes(m, "fz-b", 4, big, sizeof big);
        rc[3] = mmapobj_delete(m, key0, klen0);
        rc[4] = mmapobj_delete(m, "fz-s", 4);
        for (int i = 0; i < 5; i++)
            if (rc[i] != MMAPOBJ_OK && rc[i] != MMAPOBJ_NOTFOUND && rc[i] != MMAPOBJ_E_FULL &&
                rc[i] != MMAPOBJ_E_NOSPC && rc[i] != MMAPOBJ_E_NOMEM) {
                fprintf(stderr, "fuzz_open: write %d on a verified file: %s: %s\n", i,
                        mmapobj_code_name(rc[i]), mmapobj_errmsg(m));
                abort();
            }
        if (mmapobj_verify(m) != MMAPOBJ_OK) {
            fprintf(stderr, "fuzz_open: verify passed, then a few writes made it fail: %s\n",
                    mmapobj_errmsg(m));
            abort();
        }
        consistent = 1;
    }
    if (mmapobj_close(&m) == MMAPOBJ_OK && consistent) {
        /* a consistent state closed cleanly: the next writer trusts it as it is */
        g_repairs = 0;
        mo_test_hook = count_repairs;
        int rc = mmapobj_create(g_path, 0, 0, 0, &m);
        mo_test_hook = NULL;
        if (rc != MMAPOBJ_OK || g_repairs != 0) {
            fprintf(stderr, "fuzz_open: after a clean close of a verified file, a writer open gave "
                    "%s with %d repair walks: %s\n", mmapobj_code_name(rc), g_repairs,
                    mmapobj_errmsg(NULL));
            abort();
        }
        mmapobj_close(&m);
    }
    free(forged);
    return 0;
}
