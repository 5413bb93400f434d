/* test_compact.c - mmapobj_writer_state and mmapobj_compact, the library calls the CLI's stat and
 * compact are made of: the writer state with and without a writer (and its pid), a compaction
 * into a new file and in place (smaller, same pairs, no free space, source unchanged or
 * replaced), and the refusals: a writer holds the source, the destination exists, the caller
 * stops it. Nothing is left behind in the directory after any of them. */
#include <dirent.h>

#include "check.h"

#define N 3000

static void fill(const char *path)
{
    mmapobj_map *w;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w));
    char k[32], v[64];
    for (int i = 0; i < N; i++) {
        int kl = snprintf(k, sizeof k, "key:%d", i);
        int vl = snprintf(v, sizeof v, "value %d with some length to it", i);
        CHECK_OK(w, mmapobj_set_string(w, k, (size_t)kl, v, (size_t)vl));
    }
    for (int i = 0; i < N; i += 2) { /* free space in the middle */
        int kl = snprintf(k, sizeof k, "key:%d", i);
        CHECK_OK(w, mmapobj_delete(w, k, (size_t)kl));
    }
    CHECK_OK(w, mmapobj_set_number(w, "pi", 2, 3.25));
    CHECK_OK(w, mmapobj_close(&w));
}

/* The pairs of path are those fill() leaves. */
static void check_pairs(const char *path)
{
    mmapobj_map *r;
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_count(r) == N / 2 + 1);
    char k[32], v[64];
    mmapobj_value val;
    for (int i = 0; i < N; i++) {
        int kl = snprintf(k, sizeof k, "key:%d", i);
        int vl = snprintf(v, sizeof v, "value %d with some length to it", i);
        int rc = mmapobj_get(r, k, (size_t)kl, &val);
        if (i % 2 == 0) {
            CHECK_RC(r, rc, MMAPOBJ_NOTFOUND);
        } else {
            CHECK_RC(r, rc, MMAPOBJ_OK);
            CHECK(val.len == (size_t)vl && memcmp(val.data, v, (size_t)vl) == 0);
        }
    }
    CHECK_OK(r, mmapobj_get(r, "pi", 2, &val));
    CHECK(val.kind == MMAPOBJ_KIND_NUMBER && val.number == 3.25);
    CHECK_OK(r, mmapobj_verify(r));
    mmapobj_close(&r);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    fclose(f);
    return n;
}

static int same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    CHECK(fa && fb);
    int ca, cb, same = 1;
    do {
        ca = getc(fa);
        cb = getc(fb);
        if (ca != cb) same = 0;
    } while (same && ca != EOF);
    fclose(fa);
    fclose(fb);
    return same;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    CHECK(a && b);
    int ch;
    while ((ch = getc(a)) != EOF) CHECK(putc(ch, b) != EOF);
    fclose(a);
    CHECK(fclose(b) == 0);
}

/* No temporary file of a compaction in dir. */
static void no_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, "mmapobj-compact") || strstr(e->d_name, ".tmp-")) {
            fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
            CHECK(0);
        }
    }
    closedir(d);
}

static int calls;
static uint64_t last_done, last_total;

static int count_calls(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    calls++;
    last_done = done;
    last_total = total;
    return 0;
}

static int stop_at_first(void *ctx, uint64_t done, uint64_t total)
{
    (void)done;
    (void)total;
    ++*(int *)ctx;
    return 1;
}

static void test_writer_state(const char *dir)
{
    const char *p = test_path(dir, "state.mmo");
    int32_t pid = -1;
    CHECK_RC(NULL, mmapobj_writer_state(p, &pid), MMAPOBJ_E_NOENT);
    CHECK(pid == 0);
    CHECK(strstr(mmapobj_errmsg(NULL), "state.mmo") != NULL);
    CHECK_RC(NULL, mmapobj_writer_state(NULL, &pid), MMAPOBJ_E_INVAL);
    CHECK_RC(NULL, mmapobj_writer_state(dir, &pid), MMAPOBJ_E_NOTREG);
    mmapobj_map *w;
    CHECK_OK(NULL, mmapobj_create(p, 0, 0, 0, &w));
    pid = -1;
    CHECK(mmapobj_writer_state(p, &pid) == 1);
    CHECK(pid == (int32_t)getpid());
    CHECK(mmapobj_writer_state(p, NULL) == 1);
    CHECK_OK(w, mmapobj_close(&w));
    pid = -1;
    CHECK(mmapobj_writer_state(p, &pid) == 0);
    CHECK(pid == 0);
    remove(p);
}

static void test_compact_to_new(const char *dir)
{
    const char *src = test_path(dir, "src.mmo");
    const char *copy = test_path(dir, "src.copy");
    const char *dst = test_path(dir, "dst.mmo");
    fill(src);
    copy_file(src, copy);
    mmapobj_compact_info info;
    calls = 0;
    CHECK_OK(NULL, mmapobj_compact(src, dst, count_calls, NULL, &info));
    CHECK(info.keys == N / 2 + 1 && info.repaired == 0 && info.output == 0);
    CHECK(info.old_size == (uint64_t)file_size(src));
    CHECK(info.new_size == (uint64_t)file_size(dst));
    CHECK(info.new_size < info.old_size);
    CHECK(calls >= 1 && last_done == N / 2 + 1 && last_total == N / 2 + 1);
    CHECK(same_bytes(src, copy)); /* the source is untouched */
    check_pairs(dst);
    mmapobj_map *r;
    mmapobj_stats st;
    CHECK_OK(NULL, mmapobj_open(dst, &r));
    CHECK_OK(r, mmapobj_stat(r, &st));
    CHECK(st.free_bytes == 0);
    CHECK(st.bucket_count == 2048); /* the smallest table for 1501 keys at load 0.8 */
    mmapobj_close(&r);

    /* an existing destination is refused and left alone */
    copy_file(dst, copy);
    CHECK_RC(NULL, mmapobj_compact(src, dst, NULL, NULL, &info), MMAPOBJ_E_INVAL);
    CHECK(info.output == 1);
    CHECK(strstr(mmapobj_errmsg(NULL), "exists") != NULL);
    CHECK(same_bytes(dst, copy));
    CHECK_RC(NULL, mmapobj_compact(NULL, dst, NULL, NULL, NULL), MMAPOBJ_E_INVAL);
    no_leftovers(dir);
    remove(dst);
    remove(copy);
    remove(src);
}

static void test_compact_in_place(const char *dir)
{
    const char *src = test_path(dir, "inplace.mmo");
    const char *copy = test_path(dir, "inplace.copy");
    fill(src);
    long before = file_size(src);
    copy_file(src, copy);

    /* a writer holds it: refused, named, unchanged */
    mmapobj_map *w;
    CHECK_OK(NULL, mmapobj_create(src, 0, 0, 0, &w));
    mmapobj_compact_info info;
    CHECK_RC(NULL, mmapobj_compact(src, NULL, NULL, NULL, &info), MMAPOBJ_E_LOCKED);
    char want[64];
    snprintf(want, sizeof want, "open for writing by process %d", (int)getpid());
    CHECK(strstr(mmapobj_errmsg(NULL), want) != NULL);
    CHECK_OK(w, mmapobj_close(&w));
    copy_file(src, copy); /* (the writer's close may have rewritten its header) */

    /* the caller stops it: unchanged, nothing left behind */
    int stops = 0;
    CHECK_RC(NULL, mmapobj_compact(src, NULL, stop_at_first, &stops, &info), MMAPOBJ_E_CANCELED);
    CHECK(stops == 1);
    CHECK(same_bytes(src, copy));
    no_leftovers(dir);

    /* a reader that has it open keeps the old contents */
    mmapobj_map *old;
    CHECK_OK(NULL, mmapobj_open(src, &old));
#ifdef _WIN32
    /* Windows does not rename over a file that is open (here: by the reader, and by the
     * compaction's own lock): in place is refused there, nothing changed (README, Limits) */
    CHECK_RC(NULL, mmapobj_compact(src, NULL, NULL, NULL, &info), MMAPOBJ_E_ACCESS);
    CHECK(strstr(mmapobj_errmsg(NULL), src) != NULL);
    CHECK(same_bytes(src, copy));
    no_leftovers(dir);
    mmapobj_close(&old);
    CHECK_RC(NULL, mmapobj_compact(src, NULL, NULL, NULL, &info), MMAPOBJ_E_ACCESS);
    CHECK(same_bytes(src, copy));
    no_leftovers(dir);
    printf("test_compact: in place: E_ACCESS on Windows (an open file cannot be renamed over)\n");
    remove(copy);
    remove(src);
    return;
#endif
    CHECK_OK(NULL, mmapobj_compact(src, NULL, NULL, NULL, &info));
    CHECK(info.keys == N / 2 + 1);
    CHECK((long)info.old_size == before && (long)info.new_size == file_size(src));
    CHECK(file_size(src) < before);
    check_pairs(src);
    CHECK(mmapobj_count(old) == N / 2 + 1);
    CHECK_OK(old, mmapobj_verify(old));
    mmapobj_close(&old);
    no_leftovers(dir);
    remove(copy);
    remove(src);
}

int main(void)
{
    const char *dir = test_dir("test_compact");
    test_writer_state(dir);
    test_compact_to_new(dir);
    test_compact_in_place(dir);
    rmdir(dir);
    printf("test_compact: ok\n");
    return 0;
}
