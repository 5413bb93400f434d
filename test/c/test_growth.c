/* test_growth.c - the file and the table grow by themselves: from a tiny file, through table
 * rebuilds, across reopen; free space is reused (one key rewritten 200,000 times inside a
 * 64 KiB file); E_FULL leaves everything intact and the handle usable; close shrinks. */
#include <stdint.h>

#include "check.h"

static const char *dir;

static void key_of(char *buf, size_t cap, int i)
{
    snprintf(buf, cap, "key:%d", i);
}

static void check_all(mmapobj_map *m, int from, int to)
{
    char k[32];
    for (int i = from; i < to; i++) {
        key_of(k, sizeof k, i);
        mmapobj_value v;
        CHECK_OK(m, mmapobj_get(m, k, strlen(k), &v));
        CHECK(v.kind == MMAPOBJ_KIND_NUMBER && v.number == (double)i);
    }
}

static uint64_t buckets(mmapobj_map *m)
{
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    return s.bucket_count;
}

static void test_from_tiny(void)
{
    const char *path = test_path(dir, "tiny");
    mmapobj_map *m = NULL, *r = NULL;
    /* the smallest file: header + an 8-slot table */
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 0, &m));
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.bucket_count == 8);
    CHECK(s.file_size == 8192 + 16 + 64);
    /* a reader opened now must follow the growth */
    CHECK_OK(NULL, mmapobj_open(path, &r));
    char k[32];
    /* FORMAT.md: an insert into an empty slot rebuilds when count + tombstones + 1 > 0.8 B,
     * to the smallest B with count + 1 <= 0.5 B */
    for (int i = 0; i < 6; i++) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), i));
    }
    CHECK(buckets(m) == 8);
    key_of(k, sizeof k, 6);
    CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), 6));
    CHECK(buckets(m) == 16);
    CHECK(buckets(r) == 16);
    check_all(r, 0, 7);
    int n = 100000;
    for (int i = 7; i < n; i++) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), i));
        if ((i & (i - 1)) == 0) {
            CHECK_OK(m, mmapobj_verify(m));
            check_all(r, 0, i + 1);
        }
    }
    CHECK(mmapobj_count(m) == n && mmapobj_count(r) == n);
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.load_factor <= 0.8 && s.bucket_count == 131072);
    CHECK(s.file_size > 1 << 20);
    check_all(m, 0, n);
    check_all(r, 0, n);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(r, mmapobj_verify(r));
    /* deletes leave tombstones; re-adding reuses them and the freed records */
    for (int i = 0; i < n; i += 2) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_delete(m, k, strlen(k)));
    }
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(m, mmapobj_stat(m, &s));
    uint64_t size_before = s.file_size;
    for (int i = 0; i < n; i += 2) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), i));
    }
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size == size_before);
    CHECK_OK(m, mmapobj_verify(m));
    check_all(r, 0, n);
    /* reopen: everything is still there */
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    check_all(r, 0, n);
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    check_all(m, 0, n);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
}

static void test_rewrite_in_64k(void)
{
    const char *path = test_path(dir, "rewrite");
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 65536, &m));
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size <= 65536 && s.max_file_size == 65536);
    char val[256];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 200000; i++) {
        size_t len = (size_t)(i * 7919) % 200; /* varying sizes exercise splitting */
        snprintf(val, sizeof val, "%d", i);
        val[strlen(val)] = 'v';
        CHECK_OK(m, mmapobj_set_string(m, "the key", 7, val, len));
        if (i % 50000 == 0) CHECK_OK(m, mmapobj_verify(m));
    }
    CHECK(mmapobj_count(m) == 1);
    for (int i = 0; i < 200000; i++) {
        char k[32];
        key_of(k, sizeof k, i % 20);
        if (i % 3 == 0)
            mmapobj_delete(m, k, strlen(k));
        else
            CHECK_OK(m, mmapobj_set_string(m, k, strlen(k), val, (size_t)i % 150));
    }
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size <= 65536);
    CHECK_OK(NULL, mmapobj_close(&m));
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size <= 65536);
}

static void test_full(void)
{
    const char *path = test_path(dir, "full");
    mmapobj_map *m = NULL, *r = NULL;
    uint64_t max = 256 * 1024;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, max, &m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    char k[32], val[1000];
    memset(val, 'x', sizeof val);
    int n = 0, rc;
    for (;;) {
        key_of(k, sizeof k, n);
        rc = mmapobj_set_string(m, k, strlen(k), val, sizeof val);
        if (rc != MMAPOBJ_OK) break;
        n++;
    }
    CHECK_RC(m, rc, MMAPOBJ_E_FULL);
    CHECK(strstr(mmapobj_errmsg(m), path) != NULL);
    CHECK(n > 100);
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size <= max && s.count == (uint64_t)n);
    /* everything written is intact, in the writer and in a reader */
    for (int i = 0; i < n; i++) {
        key_of(k, sizeof k, i);
        mmapobj_value v;
        CHECK_OK(m, mmapobj_get(m, k, strlen(k), &v));
        CHECK(v.len == sizeof val && memcmp(v.data, val, sizeof val) == 0);
        CHECK_OK(r, mmapobj_get(r, k, strlen(k), &v));
        CHECK(v.len == sizeof val);
    }
    key_of(k, sizeof k, n);
    CHECK(mmapobj_has(m, k, strlen(k)) == 0);
    CHECK_OK(m, mmapobj_verify(m));
    /* a bigger overwrite fails too and keeps the old value */
    char big[4000];
    memset(big, 'y', sizeof big);
    CHECK_RC(m, mmapobj_set_string(m, "key:0", 5, big, sizeof big), MMAPOBJ_E_FULL);
    mmapobj_value v;
    CHECK_OK(m, mmapobj_get(m, "key:0", 5, &v));
    CHECK(v.len == sizeof val);
    /* the handle stays usable: small writes still fit, deletes make room */
    CHECK_OK(m, mmapobj_delete(m, "key:1", 5));
    CHECK_OK(m, mmapobj_delete(m, "key:2", 5));
    CHECK_OK(m, mmapobj_set_string(m, k, strlen(k), val, sizeof val));
    CHECK_OK(m, mmapobj_verify(m));
    CHECK(mmapobj_count(r) == n - 1);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
}

static void test_close_shrinks(void)
{
    const char *path = test_path(dir, "shrink");
    mmapobj_map *m = NULL, *r = NULL;
    struct stat st;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_number_z(m, "a", 1));
    CHECK(stat(path, &st) == 0 && st.st_size == (off_t)MMAPOBJ_DEFAULT_FILE_SIZE);
    /* a reader has it open: no shrink */
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK(stat(path, &st) == 0 && st.st_size == (off_t)MMAPOBJ_DEFAULT_FILE_SIZE);
    CHECK(mmapobj_get_z(r, "a") == NULL && mmapobj_status_block(r)->number == 1);
    CHECK_OK(NULL, mmapobj_close(&r));
    /* no reader: close shrinks to what is in use */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    uint64_t used = s.used_bytes;
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == used);
    CHECK(st.st_size == 8192 + 16 + 8 * 2048 + 20); /* header, table, one 20-byte record */
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(r, mmapobj_stat(r, &s));
    CHECK(s.file_size == used && s.free_bytes == 0);
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(NULL, mmapobj_close(&r));
    /* and it grows again on the next write */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_string_z(m, "b", "bee"));
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(strcmp(mmapobj_get_z(r, "b"), "bee") == 0);
    CHECK_OK(NULL, mmapobj_close(&r));
}

static void test_presized(void)
{
    const char *path = test_path(dir, "presized");
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 100000, 0, &m));
    uint64_t b = buckets(m);
    CHECK(b == 131072); /* 100000 <= 0.8 * 131072 */
    char k[32];
    for (int i = 0; i < 100000; i++) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_set_number(m, k, strlen(k), i));
    }
    CHECK(buckets(m) == b); /* no rebuild */
    check_all(m, 0, 100000);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
}

static void test_reserve(void)
{
    /* a reader reserves the max_file_size it saw at open; a writer that raises the maximum and
     * grows past that reservation makes the reader's lookups fail with E_RESERVE (reopen) */
    const char *path = test_path(dir, "reserve");
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 1 << 20, &m));
    CHECK_OK(m, mmapobj_set_number_z(m, "first", 1));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 64 << 20, &m));
    char k[32], val[1000];
    memset(val, 'r', sizeof val);
    for (int i = 0; i < 3000; i++) {
        key_of(k, sizeof k, i);
        CHECK_OK(m, mmapobj_set_string(m, k, strlen(k), val, sizeof val));
    }
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size > 2 << 20);
    mmapobj_value v;
    CHECK_RC(r, mmapobj_get(r, "key:2999", 8, &v), MMAPOBJ_E_RESERVE);
    CHECK(strstr(mmapobj_errmsg(r), "reopen") != NULL);
    CHECK(mmapobj_get_z(r, "key:2999") == NULL &&
          mmapobj_status_block(r)->code == MMAPOBJ_E_RESERVE);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(r, mmapobj_get(r, "key:2999", 8, &v));
    CHECK(v.len == sizeof val);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
}

static void test_big_records(void)
{
    /* a 1 MiB key with a 32 MiB value: the file grows by more than doubling in one step */
    const char *path = test_path(dir, "big");
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, 0, &m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    size_t klen = 1 << 20, vlen = 32 << 20;
    uint8_t *key = malloc(klen), *val = malloc(vlen);
    CHECK(key && val);
    for (size_t i = 0; i < klen; i++) key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < vlen; i++) val[i] = (uint8_t)(i * 13 + 5);
    CHECK_OK(m, mmapobj_set_bytes(m, key, klen, val, vlen));
    CHECK_OK(m, mmapobj_set_string(m, "small", 5, "s", 1));
    mmapobj_map *maps[2] = {m, r};
    for (int x = 0; x < 2; x++) {
        mmapobj_value v;
        CHECK_OK(maps[x], mmapobj_get(maps[x], key, klen, &v));
        CHECK(v.kind == MMAPOBJ_KIND_BYTES && v.len == vlen && memcmp(v.data, val, vlen) == 0);
        key[klen - 1] ^= 1; /* same length, last byte differs: a miss */
        CHECK_RC(maps[x], mmapobj_get(maps[x], key, klen, &v), MMAPOBJ_NOTFOUND);
        key[klen - 1] ^= 1;
        const mmapobj_status *st = mmapobj_status_block(maps[x]);
        CHECK(mmapobj_get_cstr(maps[x], key, klen) == NULL && st->kind == MMAPOBJ_KIND_BYTES &&
              st->len == vlen);
        CHECK(mmapobj_copy_last(maps[x], val, vlen - 1) == MMAPOBJ_E_BUFSMALL);
        CHECK(mmapobj_copy_last(maps[x], val, vlen) == (int64_t)vlen);
        CHECK_OK(maps[x], mmapobj_verify(maps[x]));
    }
    mmapobj_iter *it = NULL;
    CHECK_OK(r, mmapobj_iter_open(r, &it));
    const void *k;
    size_t kl;
    int n = 0;
    mmapobj_value v;
    while (mmapobj_iter_next(it, &k, &kl, &v) == 1) {
        n++;
        if (kl == klen) CHECK(memcmp(k, key, klen) == 0 && v.len == vlen);
    }
    CHECK(n == 2);
    mmapobj_iter_close(&it);
    /* replacing it frees 33 MiB that the next big value reuses without growing */
    mmapobj_stats s0, s1;
    CHECK_OK(m, mmapobj_delete(m, key, klen));
    CHECK_OK(m, mmapobj_stat(m, &s0));
    CHECK_OK(m, mmapobj_set_bytes(m, "again", 5, val, vlen));
    CHECK_OK(m, mmapobj_stat(m, &s1));
    CHECK(s1.file_size == s0.file_size);
    CHECK_OK(m, mmapobj_verify(m));
    free(key);
    free(val);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
}

static void test_full_table(void)
{
    /* tiny records in a small file: the table cannot double any more; the insert that needs the
     * rebuild fails with E_FULL, and the map, the old table and the handle stay fine */
    const char *path = test_path(dir, "fulltable");
    mmapobj_map *m = NULL;
    uint64_t max = 40 * 1024;
    CHECK_OK(NULL, mmapobj_create(path, 1, 1, max, &m));
    char k[32];
    int n = 0, rc;
    for (;;) {
        snprintf(k, sizeof k, "%d", n);
        rc = mmapobj_set_bytes(m, k, strlen(k), "", 0);
        if (rc != MMAPOBJ_OK) break;
        n++;
    }
    CHECK_RC(m, rc, MMAPOBJ_E_FULL);
    CHECK(strstr(mmapobj_errmsg(m), "growing the table") != NULL); /* the rebuild failed */
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.count == (uint64_t)n && s.file_size <= max);
    CHECK(s.load_factor <= 0.8);
    CHECK_OK(m, mmapobj_verify(m));
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%d", i);
        CHECK(mmapobj_has(m, k, strlen(k)) == 1);
    }
    /* overwrites in place of existing keys need no new slot: they still work */
    CHECK_OK(m, mmapobj_set_bytes(m, "0", 1, "x", 1));
    CHECK_OK(m, mmapobj_delete(m, "1", 1));
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_open(path, &m));
    CHECK(mmapobj_count(m) == n - 1);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
}

int main(void)
{
    dir = test_dir("test_growth");
    test_from_tiny();
    test_rewrite_in_64k();
    test_full();
    test_full_table();
    test_close_shrinks();
    test_presized();
    test_reserve();
    test_big_records();
    printf("test_growth: ok\n");
    return 0;
}
