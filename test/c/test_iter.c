/* test_iter.c - iteration: every key once with its value, the batch format byte by byte,
 * small buffers, and iteration while the same handle (and a writer under a reader) writes
 * and rebuilds the table. */
#include <stdint.h>

#include "check.h"

static const char *dir;

static int key_index(const void *k, size_t kl)
{
    char buf[32];
    CHECK(kl > 4 && kl < sizeof buf && memcmp(k, "key:", 4) == 0);
    memcpy(buf, k, kl);
    buf[kl] = 0;
    return atoi(buf + 4);
}

static void set_n(mmapobj_map *m, int from, int to)
{
    char k[32];
    for (int i = from; i < to; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        if (i % 3 == 0)
            CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), i));
        else if (i % 3 == 1)
            CHECK_OK(m, mmapobj_set_string(m, k, strlen(k), k, strlen(k)));
        else
            CHECK_OK(m, mmapobj_set_bytes(m, k, strlen(k), k + 4, strlen(k) - 4));
    }
}

static void check_value(const void *k, size_t kl, const mmapobj_value *v)
{
    int i = key_index(k, kl);
    if (i % 3 == 0) {
        CHECK(v->kind == MMAPOBJ_KIND_NUMBER && v->number == i);
    } else if (i % 3 == 1) {
        CHECK(v->kind == MMAPOBJ_KIND_STRING && v->len == kl && memcmp(v->data, k, kl) == 0);
        CHECK(((const char *)v->data)[v->len] == 0);
    } else {
        CHECK(v->kind == MMAPOBJ_KIND_BYTES && v->len == kl - 4 &&
              memcmp(v->data, (const char *)k + 4, kl - 4) == 0);
    }
}

static void test_basic(void)
{
    const char *path = test_path(dir, "basic");
    mmapobj_map *m = NULL, *r = NULL;
    mmapobj_iter *it = NULL;
    const void *k;
    size_t kl;
    mmapobj_value v;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    CHECK(mmapobj_iter_next(it, &k, &kl, &v) == 0);
    CHECK(mmapobj_iter_next(it, &k, &kl, &v) == 0); /* stays at the end */
    mmapobj_iter_close(&it);
    int n = 5000;
    set_n(m, 0, n);
    CHECK_OK(NULL, mmapobj_open(path, &r));
    mmapobj_map *maps[2] = {m, r};
    for (int x = 0; x < 2; x++) {
        char *seen = calloc((size_t)n, 1);
        CHECK_OK(maps[x], mmapobj_iter_open(maps[x], &it));
        int got = 0, rc;
        while ((rc = mmapobj_iter_next(it, &k, &kl, x ? &v : NULL)) == 1) {
            int i = key_index(k, kl);
            CHECK(i >= 0 && i < n && !seen[i]);
            seen[i] = 1;
            if (x) check_value(k, kl, &v);
            got++;
        }
        CHECK_RC(maps[x], rc, 0);
        CHECK(got == n);
        mmapobj_iter_close(&it);
        free(seen);
    }
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
}

/* Parses a batch buffer; returns the entries seen, marking them. */
static int parse_batch(const uint8_t *p, size_t used_max, int count, int with_values, char *seen,
                       int n, size_t *used_out)
{
    size_t off = 0;
    for (int e = 0; e < count; e++) {
        uint32_t kl;
        CHECK(off + 4 <= used_max);
        memcpy(&kl, p + off, 4);
        off += 4;
        const uint8_t *k = p + off;
        off += kl;
        int i = key_index(k, kl);
        CHECK(i >= 0 && i < n && !seen[i]);
        seen[i] = 1;
        if (with_values) {
            mmapobj_value v;
            memset(&v, 0, sizeof v);
            v.kind = p[off++];
            if (v.kind == MMAPOBJ_KIND_NUMBER) {
                memcpy(&v.number, p + off, 8);
                off += 8;
            } else {
                uint32_t vl;
                memcpy(&vl, p + off, 4);
                v.len = vl;
                v.data = p + off + 4;
                off += 4 + vl;
                if (v.kind == MMAPOBJ_KIND_STRING) {
                    /* check_value wants the NUL after a string: compare by hand instead */
                    CHECK(vl == kl && memcmp(v.data, k, kl) == 0);
                    continue;
                }
            }
            check_value(k, kl, &v);
        }
    }
    CHECK(off <= used_max);
    *used_out = off;
    return count;
}

static void test_batch(void)
{
    const char *path = test_path(dir, "batch");
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    int n = 3000;
    set_n(m, 0, n);
    /* exact bytes of one entry: "key:1" = "key:1" string */
    static const size_t caps[] = {17, 64, 1000, 1 << 16};
    for (int wv = 0; wv < 2; wv++) {
        for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
            size_t cap = caps[c];
            uint8_t *buf = malloc(cap);
            char *seen = calloc((size_t)n, 1);
            mmapobj_iter *it = NULL;
            CHECK_OK(m, mmapobj_iter_open(m, &it));
            int total = 0;
            for (;;) {
                uint64_t need = 0;
                int got = mmapobj_iter_batch(it, buf, cap, wv, &need);
                if (got == MMAPOBJ_E_BUFSMALL) {
                    CHECK(need > cap);
                    uint8_t *big = malloc(need);
                    got = mmapobj_iter_batch(it, big, need, wv, &need);
                    CHECK(got == 1);
                    size_t used;
                    parse_batch(big, need, got, wv, seen, n, &used);
                    CHECK(used == need);
                    free(big);
                    total += got;
                    continue;
                }
                CHECK_RC(m, got >= 0 ? 0 : got, 0);
                if (got == 0) break;
                size_t used;
                parse_batch(buf, cap, got, wv, seen, n, &used);
                total += got;
            }
            CHECK(total == n);
            mmapobj_iter_close(&it);
            free(seen);
            free(buf);
        }
    }
    /* the documented layout, byte by byte, for a one-key map */
    CHECK_OK(NULL, mmapobj_close(&m));
    path = test_path(dir, "batch1");
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_number(m, "ab", 2, 1.5));
    mmapobj_iter *it = NULL;
    uint8_t buf[64];
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    CHECK(mmapobj_iter_batch(it, buf, sizeof buf, 1, NULL) == 1);
    double d = 1.5;
    uint8_t want[4 + 2 + 1 + 8] = {2, 0, 0, 0, 'a', 'b', MMAPOBJ_KIND_NUMBER};
    memcpy(want + 7, &d, 8);
    CHECK(memcmp(buf, want, sizeof want) == 0);
    mmapobj_iter_close(&it);
    CHECK_OK(m, mmapobj_set_string(m, "ab", 2, "xyz", 3));
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    CHECK(mmapobj_iter_batch(it, buf, 4 + 2 + 1 + 4 + 3, 1, NULL) == 1);
    uint8_t want2[] = {2, 0, 0, 0, 'a', 'b', MMAPOBJ_KIND_STRING, 3, 0, 0, 0, 'x', 'y', 'z'};
    CHECK(memcmp(buf, want2, sizeof want2) == 0);
    mmapobj_iter_close(&it);
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    CHECK(mmapobj_iter_batch(it, buf, 6, 0, NULL) == 1);
    CHECK(memcmp(buf, want2, 6) == 0);
    mmapobj_iter_close(&it);
    CHECK_OK(NULL, mmapobj_close(&m));
}

/* Iterates with `reader` while `writer` adds many keys (forcing table rebuilds) and deletes
 * and re-adds others. Keys present throughout must be produced exactly once. */
static void iterate_while_writing(mmapobj_map *writer, mmapobj_map *reader, int n)
{
    int total = n * 8;
    char *seen = calloc((size_t)total, 1);
    char k[32];
    mmapobj_iter *it = NULL;
    CHECK_OK(reader, mmapobj_iter_open(reader, &it));
    const void *kp;
    size_t kl;
    mmapobj_value v;
    int produced = 0, rc, next_new = n;
    while ((rc = mmapobj_iter_next(it, &kp, &kl, &v)) == 1) {
        int i = key_index(kp, kl);
        CHECK(i >= 0 && i < total);
        CHECK(!seen[i]);
        seen[i] = 1;
        check_value(kp, kl, &v);
        produced++;
        if (produced % 50 == 0 && next_new < total) {
            /* grow: enough new keys to rebuild the table at least once over the walk */
            set_n(writer, next_new, next_new + 200 > total ? total : next_new + 200);
            next_new = next_new + 200 > total ? total : next_new + 200;
            /* churn keys >= n/2 (deleted and re-added: may or may not be produced) */
            int j = n / 2 + (produced * 7) % (n / 2);
            snprintf(k, sizeof k, "key:%d", j);
            mmapobj_delete(writer, k, strlen(k));
            set_n(writer, j, j + 1);
        }
    }
    CHECK_RC(reader, rc, 0);
    for (int i = 0; i < n / 2; i++) CHECK(seen[i]); /* present throughout */
    mmapobj_iter_close(&it);
    free(seen);
}

static void test_while_writing(void)
{
    const char *path = test_path(dir, "concurrent");
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 0, &m));
    int n = 2000;
    set_n(m, 0, n);
    mmapobj_stats s0, s1;
    CHECK_OK(m, mmapobj_stat(m, &s0));
    iterate_while_writing(m, m, n); /* the same handle writes */
    CHECK_OK(m, mmapobj_stat(m, &s1));
    CHECK(s1.bucket_count > s0.bucket_count); /* the table was rebuilt during the walk */
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));

    path = test_path(dir, "concurrent2");
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 0, &m));
    set_n(m, 0, n);
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(m, mmapobj_stat(m, &s0));
    iterate_while_writing(m, r, n); /* a reader iterates while the writer grows the file */
    CHECK_OK(m, mmapobj_stat(m, &s1));
    CHECK(s1.bucket_count > s0.bucket_count && s1.file_size > s0.file_size);
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
}

/* Churn with a steady key count: tombstones force rebuilds to the same table size, and a rebuilt
 * table may land where an older one was (same table_ref). A cursor must still see each switch:
 * keys present throughout are produced exactly once. */
static void test_same_size_rebuilds(void)
{
    const char *path = test_path(dir, "churn");
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 0, &m));
    int stable = 100;
    set_n(m, 0, stable);
    int total = 200000;
    char *seen = calloc((size_t)total, 1);
    mmapobj_iter *it = NULL;
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    const void *kp;
    size_t kl;
    int rc, next = stable;
    char k[32];
    while ((rc = mmapobj_iter_next(it, &kp, &kl, NULL)) == 1) {
        int i = key_index(kp, kl);
        CHECK(i >= 0 && i < total && !seen[i]);
        seen[i] = 1;
        /* 300 short-lived keys per produced entry: many rebuilds at one size */
        for (int j = 0; j < 300 && next < total; j++, next++) {
            set_n(m, next, next + 1);
            snprintf(k, sizeof k, "key:%d", next);
            CHECK_OK(m, mmapobj_delete(m, k, strlen(k)));
        }
    }
    CHECK_RC(m, rc, 0);
    for (int i = 0; i < stable; i++) CHECK(seen[i]);
    mmapobj_iter_close(&it);
    free(seen);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
}

int main(void)
{
    dir = test_dir("test_iter");
    test_basic();
    test_batch();
    test_while_writing();
    test_same_size_rebuilds();
    printf("test_iter: ok\n");
    return 0;
}
