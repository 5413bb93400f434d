/* test_api.c - every public function, and every error path reachable by misusing the API. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>

#include "check.h"
#include "spawn.h"

#ifdef _WIN32
#include <windows.h>
#endif

static const char *dir;

/* 1 if a name in directory d contains s (a leftover temporary). */
static int dir_has(const char *d, const char *s)
{
    DIR *dp = opendir(d);
    CHECK(dp != NULL);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(dp)) != NULL) found |= strstr(e->d_name, s) != NULL;
    closedir(dp);
    return found;
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static void test_versions_and_codes(void)
{
    CHECK(mmapobj_abi_version() == MMAPOBJ_ABI_VERSION);
    CHECK(strcmp(mmapobj_version_string(), "1.0.0") == 0);
    static const int codes[] = {MMAPOBJ_OK, MMAPOBJ_NOTFOUND, MMAPOBJ_E_IO, MMAPOBJ_E_NOENT,
        MMAPOBJ_E_ACCESS, MMAPOBJ_E_NOTREG, MMAPOBJ_E_LOCKED, MMAPOBJ_E_NOSPC, MMAPOBJ_E_NOMEM,
        MMAPOBJ_E_BADMAGIC, MMAPOBJ_E_MAJOR, MMAPOBJ_E_MINOR, MMAPOBJ_E_TOOSMALL,
        MMAPOBJ_E_CORRUPT, MMAPOBJ_E_LAYOUT, MMAPOBJ_E_INVAL, MMAPOBJ_E_READONLY,
        MMAPOBJ_E_CLOSED, MMAPOBJ_E_BUFSMALL, MMAPOBJ_E_FULL, MMAPOBJ_E_TOOBIG,
        MMAPOBJ_E_RESERVE, MMAPOBJ_E_BUSY, MMAPOBJ_E_CANCELED};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *name = mmapobj_code_name(codes[i]);
        CHECK(strncmp(name, "MMAPOBJ_", 8) == 0);
        CHECK(strcmp(name, "MMAPOBJ_UNKNOWN") != 0);
        CHECK(strcmp(mmapobj_strerror(codes[i]), "unknown error") != 0);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(name, mmapobj_code_name(codes[j])) != 0);
    }
    CHECK(strcmp(mmapobj_code_name(MMAPOBJ_E_FULL), "MMAPOBJ_E_FULL") == 0);
    CHECK(strcmp(mmapobj_code_name(-999), "MMAPOBJ_UNKNOWN") == 0);
    CHECK(strcmp(mmapobj_strerror(-999), "unknown error") == 0);
    CHECK(strcmp(mmapobj_strerror(12345), "unknown error") == 0);
    CHECK(strstr(mmapobj_strerror(MMAPOBJ_E_LOCKED), "locked") != NULL);
}

static void test_create_errors(void)
{
    mmapobj_map *m = (mmapobj_map *)1;
    CHECK_RC(NULL, mmapobj_create(NULL, 0, 0, 0, &m), MMAPOBJ_E_INVAL);
    CHECK(m == NULL);
    CHECK_RC(NULL, mmapobj_create(test_path(dir, "x"), 0, 0, 0, NULL), MMAPOBJ_E_INVAL);
    CHECK_RC(NULL, mmapobj_create("", 0, 0, 0, &m), MMAPOBJ_E_INVAL);
    const char *nodir = test_path(dir, "no/such/dir/file");
    CHECK_RC(NULL, mmapobj_create(nodir, 0, 0, 0, &m), MMAPOBJ_E_NOENT);
    CHECK(strstr(mmapobj_errmsg(NULL), nodir) != NULL);
    CHECK_RC(NULL, mmapobj_create(dir, 0, 0, 0, &m), MMAPOBJ_E_NOTREG);
    CHECK(strstr(mmapobj_errmsg(NULL), dir) != NULL);
    CHECK_RC(NULL, mmapobj_create(TEST_NULL_DEVICE, 0, 0, 0, &m), MMAPOBJ_E_NOTREG);
    CHECK(strstr(mmapobj_errmsg(NULL), TEST_NULL_DEVICE) != NULL);
#ifndef _WIN32 /* making a symbolic link needs a privilege on Windows */
    /* a dangling symbolic link is neither created through nor clobbered */
    const char *dangling = test_path(dir, "dangling");
    CHECK(symlink("no-such-target", dangling) == 0);
    CHECK_RC(NULL, mmapobj_create(dangling, 0, 0, 0, &m), MMAPOBJ_E_NOENT);
    CHECK(strstr(mmapobj_errmsg(NULL), dangling) != NULL);
    struct stat lst;
    CHECK(lstat(dangling, &lst) == 0 && S_ISLNK(lst.st_mode));
#else
    printf("test_api: no dangling symbolic link case on Windows (making a link needs a privilege)\n");
#endif
    /* max_size too small for header + table */
    const char *small = test_path(dir, "small");
    CHECK_RC(NULL, mmapobj_create(small, 0, 0, 4096, &m), MMAPOBJ_E_INVAL);
    CHECK(access(small, F_OK) != 0); /* nothing left behind */
    CHECK_RC(NULL, mmapobj_create(small, 0, 1000000, 65536, &m), MMAPOBJ_E_INVAL);
    /* an initial size above the maximum (a size in the wrong unit?) is refused, not clamped */
    CHECK_RC(NULL, mmapobj_create(small, 1 << 20, 0, 65536, &m), MMAPOBJ_E_INVAL);
    CHECK(strstr(mmapobj_errmsg(NULL), "initial_size") != NULL);
    CHECK_RC(NULL, mmapobj_create(small, UINT64_C(1) << 50, 0, 0, &m), MMAPOBJ_E_INVAL);
    CHECK(access(small, F_OK) != 0);
    /* an existing file that is not ours is never clobbered */
    const char *foreign = test_path(dir, "foreign");
    char junk[9000];
    memset(junk, 'x', sizeof junk);
    write_file(foreign, junk, sizeof junk);
    CHECK_RC(NULL, mmapobj_create(foreign, 0, 0, 0, &m), MMAPOBJ_E_BADMAGIC);
    CHECK(strstr(mmapobj_errmsg(NULL), foreign) != NULL);
    write_file(foreign, junk, 100);
    CHECK_RC(NULL, mmapobj_create(foreign, 0, 0, 0, &m), MMAPOBJ_E_TOOSMALL);
    struct stat st;
    CHECK(stat(foreign, &st) == 0 && st.st_size == 100);
#ifndef _WIN32 /* POSIX permissions and users; Windows has ACLs (not tested) */
    /* permissions: checked in a child that is not root (root ignores them) */
    const char *ro = test_path(dir, "ro");
    const char *secret = test_path(dir, "secret");
    const char *closed_dir = test_path(dir, "closed");
    write_file(ro, "", 0);
    chmod(ro, 0444);
    mmapobj_map *w = NULL;
    CHECK_OK(NULL, mmapobj_create(secret, 0, 0, 0, &w));
    CHECK_OK(NULL, mmapobj_close(&w));
    chmod(secret, 0200); /* not readable, not even by its owner */
    mkdir(closed_dir, 0555); /* no one but root may create in it */
    sp_status status = sp_wait(sp_spawn("no_access", 60, -1, ro, secret, closed_dir, (const char *)NULL), 120);
    CHECK(sp_ok(&status));
#else
    printf("test_api: no permission cases on Windows (POSIX modes and users; Windows has ACLs)\n");
#endif
    /* no temporary files left in the directory after the failures */
    CHECK(!dir_has(dir, "tmp-"));
}

/* Child role "no_access" RO SECRET CLOSED_DIR: as a user that is not root, a read-only file
 * cannot be created over, an unreadable one cannot be opened, and nothing can be created in a
 * directory without write permission. */
#ifndef _WIN32
static int no_access_child(int argc, char **argv)
{
    if (argc != 3) return 2;
    const char *ro = argv[0], *secret = argv[1], *closed_dir = argv[2];
    mmapobj_map *m = NULL;
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 3;
    CHECK_RC(NULL, mmapobj_create(ro, 0, 0, 0, &m), MMAPOBJ_E_ACCESS);
    CHECK(strstr(mmapobj_errmsg(NULL), ro) != NULL);
    CHECK_RC(NULL, mmapobj_open(secret, &m), MMAPOBJ_E_ACCESS);
    CHECK(strstr(mmapobj_errmsg(NULL), secret) != NULL);
    char in_closed[1024];
    snprintf(in_closed, sizeof in_closed, "%s/new", closed_dir);
    CHECK_RC(NULL, mmapobj_create(in_closed, 0, 0, 0, &m), MMAPOBJ_E_ACCESS);
    return 0;
}
#endif

static void test_open_errors(void)
{
    mmapobj_map *m = (mmapobj_map *)1;
    CHECK_RC(NULL, mmapobj_open(NULL, &m), MMAPOBJ_E_INVAL);
    CHECK(m == NULL);
    CHECK_RC(NULL, mmapobj_open(test_path(dir, "x"), NULL), MMAPOBJ_E_INVAL);
    const char *missing = test_path(dir, "missing");
    CHECK_RC(NULL, mmapobj_open(missing, &m), MMAPOBJ_E_NOENT);
    CHECK(strstr(mmapobj_errmsg(NULL), missing) != NULL);
    CHECK_RC(NULL, mmapobj_open(dir, &m), MMAPOBJ_E_NOTREG);
    CHECK_RC(NULL, mmapobj_open("/dev/null", &m), MMAPOBJ_E_NOTREG);
    const char *empty = test_path(dir, "empty");
    write_file(empty, "", 0);
    CHECK_RC(NULL, mmapobj_open(empty, &m), MMAPOBJ_E_TOOSMALL);
    CHECK(strstr(mmapobj_errmsg(NULL), empty) != NULL);
    char junk[8192];
    memset(junk, 0, sizeof junk);
    const char *zeros = test_path(dir, "zeros");
    write_file(zeros, junk, sizeof junk);
    CHECK_RC(NULL, mmapobj_open(zeros, &m), MMAPOBJ_E_BADMAGIC);
}

static void test_values(void)
{
    const char *path = test_path(dir, "values");
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK(m != NULL);
    CHECK(mmapobj_is_writable(m) == 1);
    CHECK(strcmp(mmapobj_path(m), path) == 0);
    CHECK(mmapobj_count(m) == 0);
    CHECK_OK(m, mmapobj_set_string(m, "s", 1, "hello", 5));
    CHECK_OK(m, mmapobj_set_number(m, "n", 1, 3.25));
    CHECK_OK(m, mmapobj_set_bytes(m, "b", 1, "\0\1\2", 3));
    CHECK_OK(m, mmapobj_set_string(m, "z", 1, "a\0b", 3));
    CHECK_OK(m, mmapobj_set_string_z(m, "sz", "zed"));
    CHECK_OK(m, mmapobj_set_number_z(m, "nz", -1e300));
    CHECK_OK(m, mmapobj_set(m, "", 0, MMAPOBJ_KIND_STRING, "empty key", 9));
    CHECK_OK(m, mmapobj_set(m, "e", 1, MMAPOBJ_KIND_STRING, NULL, 0));
    CHECK_OK(m, mmapobj_set_bytes(m, "k\0x", 3, "", 0));
    CHECK(mmapobj_count(m) == 9);

    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_is_writable(r) == 0);
    mmapobj_map *maps[2] = {m, r};
    for (int i = 0; i < 2; i++) {
        mmapobj_map *x = maps[i];
        mmapobj_value v;
        CHECK_OK(x, mmapobj_get(x, "s", 1, &v));
        CHECK(v.kind == MMAPOBJ_KIND_STRING && v.len == 5 && memcmp(v.data, "hello", 6) == 0);
        CHECK_OK(x, mmapobj_get(x, "n", 1, &v));
        CHECK(v.kind == MMAPOBJ_KIND_NUMBER && v.number == 3.25);
        CHECK_OK(x, mmapobj_get(x, "b", 1, &v));
        CHECK(v.kind == MMAPOBJ_KIND_BYTES && v.len == 3 && memcmp(v.data, "\0\1\2", 3) == 0);
        CHECK_OK(x, mmapobj_get(x, "", 0, &v));
        CHECK(v.len == 9 && memcmp(v.data, "empty key", 9) == 0);
        CHECK_OK(x, mmapobj_get(x, NULL, 0, &v));
        CHECK(v.len == 9);
        CHECK_OK(x, mmapobj_get(x, "e", 1, &v));
        CHECK(v.kind == MMAPOBJ_KIND_STRING && v.len == 0 && ((const char *)v.data)[0] == 0);
        CHECK_OK(x, mmapobj_get(x, "k\0x", 3, &v));
        CHECK(v.kind == MMAPOBJ_KIND_BYTES && v.len == 0);
        CHECK_RC(x, mmapobj_get(x, "k", 1, &v), MMAPOBJ_NOTFOUND);
        CHECK(v.kind == MMAPOBJ_KIND_NONE);
        CHECK_RC(x, mmapobj_get(x, "missing", 7, &v), MMAPOBJ_NOTFOUND);
        CHECK_RC(x, mmapobj_get(x, "s", 1, NULL), MMAPOBJ_E_INVAL);
        CHECK(strstr(mmapobj_errmsg(x), path) != NULL);
        CHECK_RC(x, mmapobj_get(x, NULL, 1, &v), MMAPOBJ_E_INVAL);
        CHECK_RC(x, mmapobj_get(x, "s", MMAPOBJ_MAX_KEY_LEN + 1, &v), MMAPOBJ_E_TOOBIG);
        CHECK(mmapobj_has(x, "s", 1) == 1);
        CHECK(mmapobj_has(x, "q", 1) == 0);
        CHECK(mmapobj_has_z(x, "sz") == 1);
        CHECK(mmapobj_has_z(x, "q") == 0);
        CHECK_RC(x, mmapobj_has_z(x, NULL), MMAPOBJ_E_INVAL);
        CHECK_RC(x, mmapobj_has(x, NULL, 2), MMAPOBJ_E_INVAL);
        CHECK_RC(x, mmapobj_has(x, "s", MMAPOBJ_MAX_KEY_LEN + 1), MMAPOBJ_E_TOOBIG);

        /* the FFI fast path and its status block */
        const mmapobj_status *st = mmapobj_status_block(x);
        CHECK(st != NULL && st == mmapobj_status_block(x));
        const char *s = mmapobj_get_z(x, "s");
        CHECK(s && strcmp(s, "hello") == 0);
        CHECK(st->kind == MMAPOBJ_KIND_STRING && st->code == MMAPOBJ_OK && st->len == 5);
        char buf[16];
        CHECK(mmapobj_copy_last(x, buf, sizeof buf) == 5 && memcmp(buf, "hello", 5) == 0);
        CHECK(mmapobj_get_z(x, "n") == NULL);
        CHECK(st->kind == MMAPOBJ_KIND_NUMBER && st->code == MMAPOBJ_OK && st->number == 3.25);
        CHECK_RC(x, mmapobj_copy_last(x, buf, sizeof buf), MMAPOBJ_E_INVAL);
        CHECK(mmapobj_get_z(x, "z") == NULL);
        CHECK(st->kind == MMAPOBJ_KIND_STRING && st->code == MMAPOBJ_OK && st->len == 3);
        CHECK(mmapobj_copy_last(x, buf, sizeof buf) == 3 && memcmp(buf, "a\0b", 3) == 0);
        CHECK_RC(x, mmapobj_copy_last(x, buf, 2), MMAPOBJ_E_BUFSMALL);
        CHECK(mmapobj_get_cstr(x, "b", 1) == NULL);
        CHECK(st->kind == MMAPOBJ_KIND_BYTES && st->len == 3 && st->code == MMAPOBJ_OK);
        CHECK(mmapobj_copy_last(x, buf, 3) == 3 && memcmp(buf, "\0\1\2", 3) == 0);
        CHECK_RC(x, mmapobj_copy_last(x, NULL, 3), MMAPOBJ_E_INVAL);
        CHECK(mmapobj_get_z(x, "nope") == NULL);
        CHECK(st->kind == MMAPOBJ_KIND_NONE && st->code == MMAPOBJ_NOTFOUND);
        CHECK_RC(x, mmapobj_copy_last(x, buf, sizeof buf), MMAPOBJ_E_INVAL);
        CHECK(mmapobj_get_z(x, NULL) == NULL);
        CHECK(st->kind == MMAPOBJ_KIND_NONE && st->code == MMAPOBJ_E_INVAL);
        CHECK(mmapobj_get_cstr(x, NULL, 4) == NULL && st->code == MMAPOBJ_E_INVAL);
        CHECK(mmapobj_get_z(x, "sz") != NULL && st->len == 3);
        CHECK(mmapobj_get_z(x, "nz") == NULL && st->number == -1e300);
        CHECK(mmapobj_get_z(x, "e") != NULL && st->len == 0);
        CHECK(mmapobj_count(x) == 9);
    }

    /* a reader sees every write at once */
    CHECK_OK(m, mmapobj_set_string(m, "s", 1, "world!", 6));
    CHECK(strcmp(mmapobj_get_z(r, "s"), "world!") == 0);
    CHECK_OK(m, mmapobj_set_number(m, "s", 1, 7));
    CHECK(mmapobj_get_z(r, "s") == NULL && mmapobj_status_block(r)->number == 7);
    CHECK_OK(m, mmapobj_delete(m, "s", 1));
    CHECK(mmapobj_has(r, "s", 1) == 0);
    CHECK_RC(m, mmapobj_delete(m, "s", 1), MMAPOBJ_NOTFOUND);
    CHECK_OK(m, mmapobj_delete_z(m, "sz"));
    CHECK_RC(m, mmapobj_delete_z(m, "sz"), MMAPOBJ_NOTFOUND);
    CHECK_RC(m, mmapobj_delete_z(m, NULL), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_delete(m, NULL, 3), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_delete(m, "x", MMAPOBJ_MAX_KEY_LEN + 1), MMAPOBJ_E_TOOBIG);
    CHECK(mmapobj_count(r) == 7 && mmapobj_count(m) == 7);

    /* write errors leave the map unchanged */
    CHECK_RC(m, mmapobj_set(m, "k", 1, 0, "x", 1), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set(m, "k", 1, 4, "x", 1), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set(m, "k", 1, MMAPOBJ_KIND_NUMBER, "x", 1), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set_string(m, "k", 1, NULL, 1), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set_string(m, NULL, 1, "x", 1), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set_string(m, "k", MMAPOBJ_MAX_KEY_LEN + 1, "x", 1), MMAPOBJ_E_TOOBIG);
    CHECK(strstr(mmapobj_errmsg(m), "key") != NULL);
    CHECK_RC(m, mmapobj_set_bytes(m, "k", 1, "x", (size_t)MMAPOBJ_MAX_VALUE_LEN + 1),
             MMAPOBJ_E_TOOBIG);
    CHECK_RC(m, mmapobj_set_string_z(m, NULL, "x"), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set_string_z(m, "k", NULL), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_set_number_z(m, NULL, 1), MMAPOBJ_E_INVAL);
    CHECK(mmapobj_has(m, "k", 1) == 0 && mmapobj_count(m) == 7);

    /* a reader cannot write */
    CHECK_RC(r, mmapobj_set_string(r, "k", 1, "x", 1), MMAPOBJ_E_READONLY);
    CHECK(strstr(mmapobj_errmsg(r), path) != NULL);
    CHECK_RC(r, mmapobj_set_number(r, "k", 1, 1), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_set_bytes(r, "k", 1, "x", 1), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_set_string_z(r, "k", "x"), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_set_number_z(r, "k", 1), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_delete(r, "n", 1), MMAPOBJ_E_READONLY);
    CHECK_RC(r, mmapobj_delete_z(r, "n"), MMAPOBJ_E_READONLY);
    CHECK(mmapobj_has(r, "n", 1) == 1);

    /* a second writer shares the file; an exclusive one is refused, naming the file */
    mmapobj_map *w2 = NULL;
    CHECK_RC(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w2), MMAPOBJ_E_LOCKED);
    CHECK(w2 == NULL);
    CHECK(strstr(mmapobj_errmsg(NULL), path) != NULL);
    CHECK(strstr(mmapobj_errmsg(NULL), "locked") != NULL);
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w2));
    CHECK(mmapobj_count(w2) == 7);
    CHECK_OK(w2, mmapobj_close(&w2));

    /* stats */
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.count == 7 && s.count_string == 3 && s.count_number == 2 && s.count_bytes == 2);
    CHECK(s.writable == 1 && s.writer_pid == (int32_t)getpid());
    CHECK(s.format_major == MMAPOBJ_FORMAT_MAJOR && s.format_minor == MMAPOBJ_FORMAT_MINOR);
    CHECK(s.file_size == MMAPOBJ_DEFAULT_FILE_SIZE);
    CHECK(s.max_file_size == MMAPOBJ_DEFAULT_MAX_FILE_SIZE);
    CHECK(s.bucket_count == 2048); /* 1024 keys at load <= 0.8 */
    CHECK(s.max_bucket_count > s.bucket_count);
    CHECK(s.load_factor == 7.0 / 2048 && s.max_load_factor == 0.8);
    CHECK(s.used_bytes > 8192 + 8 * 2048 && s.used_bytes + s.free_bytes <= s.file_size);
    CHECK_OK(r, mmapobj_stat(r, &s));
    CHECK(s.count == 7 && s.writable == 0 && s.writer_pid == (int32_t)getpid());
    CHECK_RC(m, mmapobj_stat(m, NULL), MMAPOBJ_E_INVAL);

    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(r, mmapobj_verify(r));
    CHECK_OK(m, mmapobj_flush(m));
    CHECK_OK(r, mmapobj_flush(r));

    /* close: idempotent, NULLs the pointer; the file keeps its data */
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK(r == NULL);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(NULL));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK(m == NULL);
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK(mmapobj_count(m) == 7);
    CHECK(mmapobj_get_z(m, "nz") == NULL && mmapobj_status_block(m)->number == -1e300);
    CHECK_OK(m, mmapobj_verify(m));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_count(r) == 7);
    CHECK_OK(NULL, mmapobj_close(&r));
}

static void test_closed_handle(void)
{
    mmapobj_value v;
    mmapobj_stats s;
    mmapobj_iter *it = NULL;
    CHECK_RC(NULL, mmapobj_get(NULL, "a", 1, &v), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_has(NULL, "a", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_has_z(NULL, "a"), MMAPOBJ_E_CLOSED);
    CHECK(mmapobj_get_z(NULL, "a") == NULL);
    CHECK(mmapobj_get_cstr(NULL, "a", 1) == NULL);
    CHECK(mmapobj_status_block(NULL) == NULL);
    CHECK_RC(NULL, mmapobj_copy_last(NULL, &v, sizeof v), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set_string(NULL, "a", 1, "b", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set_number(NULL, "a", 1, 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set_bytes(NULL, "a", 1, "b", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set(NULL, "a", 1, 1, "b", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set_string_z(NULL, "a", "b"), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_set_number_z(NULL, "a", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_delete(NULL, "a", 1), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_delete_z(NULL, "a"), MMAPOBJ_E_CLOSED);
    CHECK(mmapobj_count(NULL) == MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_stat(NULL, &s), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_verify(NULL), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_flush(NULL), MMAPOBJ_E_CLOSED);
    CHECK(mmapobj_path(NULL) == NULL);
    CHECK_RC(NULL, mmapobj_is_writable(NULL), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_iter_open(NULL, &it), MMAPOBJ_E_CLOSED);
    const void *k;
    size_t kl;
    uint64_t need;
    char buf[8];
    CHECK_RC(NULL, mmapobj_iter_next(NULL, &k, &kl, &v), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_iter_batch(NULL, buf, sizeof buf, 1, &need), MMAPOBJ_E_CLOSED);
    mmapobj_iter_close(NULL);
    mmapobj_iter_close(&it);
    CHECK(strlen(mmapobj_errmsg(NULL)) < 512);
}

static void test_iter_misuse(void)
{
    const char *path = test_path(dir, "iter");
    mmapobj_map *m = NULL;
    mmapobj_iter *it = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_string(m, "key", 3, "a long enough value", 19));
    CHECK_RC(m, mmapobj_iter_open(m, NULL), MMAPOBJ_E_INVAL);
    CHECK_OK(m, mmapobj_iter_open(m, &it));
    const void *k;
    size_t kl;
    CHECK_RC(m, mmapobj_iter_next(it, NULL, &kl, NULL), MMAPOBJ_E_INVAL);
    CHECK_RC(m, mmapobj_iter_next(it, &k, NULL, NULL), MMAPOBJ_E_INVAL);
    uint64_t need = 0;
    char buf[64];
    CHECK_RC(m, mmapobj_iter_batch(it, buf, 8, 1, &need), MMAPOBJ_E_BUFSMALL);
    CHECK(need == 4 + 3 + 1 + 4 + 19);
    CHECK_RC(m, mmapobj_iter_batch(it, NULL, 8, 1, &need), MMAPOBJ_E_INVAL);
    CHECK(mmapobj_iter_batch(it, buf, sizeof buf, 1, &need) == 1);
    CHECK(mmapobj_iter_batch(it, buf, sizeof buf, 1, &need) == 0);
    CHECK(mmapobj_iter_next(it, &k, &kl, NULL) == 0);
    mmapobj_iter *it2 = NULL;
    CHECK_OK(m, mmapobj_iter_open(m, &it2));
    /* closing the map first orphans its iterators: they report E_CLOSED, close is safe */
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_RC(NULL, mmapobj_iter_next(it2, &k, &kl, NULL), MMAPOBJ_E_CLOSED);
    CHECK_RC(NULL, mmapobj_iter_batch(it2, buf, sizeof buf, 0, NULL), MMAPOBJ_E_CLOSED);
    mmapobj_iter_close(&it2);
    CHECK(it2 == NULL);
    mmapobj_iter_close(&it);
    CHECK(it == NULL);
}

static void test_create_file_mode(void)
{
    /* a new file gets 0644 & ~umask, appears complete under its name, leaves no temporary */
#ifndef _WIN32
    mode_t old = umask(027);
#endif
    const char *path = test_path(dir, "mode");
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    struct stat st;
#ifndef _WIN32
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
#else
    CHECK(stat(path, &st) == 0); /* no POSIX mode bits on Windows */
#endif
    CHECK_OK(NULL, mmapobj_close(&m));
#ifndef _WIN32
    umask(old);
#endif
    CHECK(!dir_has(dir, "tmp-"));
}

/* A path that is not ASCII: paths are UTF-8 (converted to UTF-16 on Windows), and the file gets
 * exactly that name. */
static void test_utf8_path(void)
{
    const char *path = test_path(dir, "\xc3\xbc" "n" "\xc3\xae" "c" "\xc3\xb8" "d" "\xc3\xa9" "-\xe6\x97\xa5\xe6\x9c\xac.mmo"); /* ünîcødé-日本.mmo */
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_string(m, "k", 1, "v", 1));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK(mmapobj_count(r) == 1);
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_OK(NULL, mmapobj_close(&m));
#ifdef _WIN32
    /* the name on disk, asked for in UTF-16 */
    wchar_t wdir[600];
    CHECK(MultiByteToWideChar(CP_UTF8, 0, dir, -1, wdir, 600) > 0);
    wchar_t wpath[700];
    swprintf(wpath, 700, L"%ls/\u00fcn\u00eec\u00f8d\u00e9-\u65e5\u672c.mmo", wdir);
    CHECK(GetFileAttributesW(wpath) != INVALID_FILE_ATTRIBUTES);
#else
    struct stat st;
    CHECK(stat(path, &st) == 0);
#endif
    remove(path); /* (on Windows the C runtime's remove() takes an ANSI name: the file stays) */
}

static void test_two_handles_one_process(void)
{
    /* a reader and an exclusive writer in one process: closing the reader keeps the writer's
     * lock */
    const char *path = test_path(dir, "two");
    mmapobj_map *m = NULL, *r = NULL, *w2 = NULL;
    CHECK_OK(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &m));
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(NULL, mmapobj_close(&r));
    CHECK_RC(NULL, mmapobj_create(path, 0, 0, 0, &w2), MMAPOBJ_E_LOCKED);
    CHECK_OK(m, mmapobj_set_number_z(m, "a", 1));
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &w2));
    CHECK(mmapobj_count(w2) == 1);
    CHECK_OK(NULL, mmapobj_close(&w2));
}

/* Child: another process must find the file's writer lock held, and a reader must open it. */
static int locked_child(int argc, char **argv)
{
    if (argc != 1) return 2;
    mmapobj_map *m = NULL;
    CHECK_RC(NULL, mmapobj_create(argv[0], 0, 0, 0, &m), MMAPOBJ_E_LOCKED);
    CHECK_OK(NULL, mmapobj_open(argv[0], &m));
    mmapobj_value v;
    CHECK_OK(m, mmapobj_get(m, "k", 1, &v));
    CHECK_OK(NULL, mmapobj_close(&m));
    return 0;
}

#ifdef _WIN32
/* How many handles this process has open (files, sections, processes, threads, ...). */
static int open_fds(void)
{
    DWORD n = 0;
    CHECK(GetProcessHandleCount(GetCurrentProcess(), &n));
    return (int)n;
}
#else
/* How many descriptors below 4096 this process has open. */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}
#endif

static void test_handles_keep_process_locks(void)
{
    /* Readers of a file opened and closed, in the process that holds its writer, leave the
     * writer lock held as other processes see it (the portable backend's POSIX locks are the
     * process's: closing any descriptor of the file would drop them). Descriptors it must keep
     * open for that are reused: never more than the most handles open at once, and none once
     * the last handle of the file is closed. */
    const char *path = test_path(dir, "locks");
    mmapobj_map *w = NULL, *r[8] = {NULL};
    /* (exclusive: a writer of another process is refused as long as w's lock holds) */
    CHECK_OK(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w));
    CHECK_OK(w, mmapobj_set_string(w, "k", 1, "v", 1));
    int base = open_fds();
    int rounds = getenv("MMAPOBJ_TEST_QUICK") ? 40 : 200; /* each open reserves address space: slow under qemu */
    for (int round = 0; round < rounds; round++) {
        int n = 1 + round % 8;
        for (int i = 0; i < n; i++) CHECK_OK(NULL, mmapobj_open(path, &r[i]));
        for (int i = n - 1; i >= 0; i--) CHECK_OK(NULL, mmapobj_close(&r[i]));
    }
#ifndef _WIN32
    CHECK(open_fds() <= base + 8);
#else
    (void)base; /* Wine counts no handles (GetProcessHandleCount gives 0): nothing to compare */
#endif
    int slot = sp_spawn("locked", 60, -1, path, (const char *)NULL);
    sp_status st = sp_wait(slot, 60);
    CHECK(sp_ok(&st));
    /* the writer closes with a reader of its own still open: the reader is untouched */
    CHECK_OK(NULL, mmapobj_open(path, &r[0]));
    CHECK_OK(NULL, mmapobj_close(&w));
    mmapobj_value v;
    CHECK_OK(r[0], mmapobj_get(r[0], "k", 1, &v));
    CHECK_OK(NULL, mmapobj_create_ex(path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w)); /* released */
    CHECK_OK(NULL, mmapobj_close(&w));
    CHECK_OK(NULL, mmapobj_close(&r[0]));
#ifndef _WIN32
    CHECK(open_fds() == base - 1); /* base counted the writer's own descriptor */
#else
    printf("test_api: descriptor counts not checked on Windows (handles; Wine counts none)\n");
#endif
}

static void test_empty_existing_file(void)
{
    /* an existing empty file (touch) becomes a new map */
    const char *path = test_path(dir, "touched");
    write_file(path, "", 0);
    mmapobj_map *m = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 65536, 10, 1 << 20, &m));
    CHECK_OK(m, mmapobj_set_number_z(m, "a", 1));
    mmapobj_stats s;
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.file_size == 65536 && s.max_file_size == 1 << 20 && s.bucket_count == 16);
    CHECK_OK(NULL, mmapobj_close(&m));
    /* max_size of an existing file: 0 keeps it, a value changes it, too small is refused */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.max_file_size == 1 << 20);
    CHECK_OK(NULL, mmapobj_close(&m));
    CHECK_RC(NULL, mmapobj_create(path, 0, 0, 8192, &m), MMAPOBJ_E_INVAL);
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 2 << 20, &m));
    CHECK_OK(m, mmapobj_stat(m, &s));
    CHECK(s.max_file_size == 2 << 20);
    CHECK_OK(NULL, mmapobj_close(&m));
}

int main(int argc, char **argv)
{
    static const sp_role roles[] = {
#ifndef _WIN32
        {"no_access", no_access_child},
#endif
        {"locked", locked_child},
        {NULL, NULL}};
    sp_main(argc, argv, roles);
    dir = test_dir("test_api");
    test_versions_and_codes();
    test_create_errors();
    test_open_errors();
    test_values();
    test_closed_handle();
    test_iter_misuse();
    test_create_file_mode();
    test_two_handles_one_process();
    test_utf8_path();
    test_handles_keep_process_locks();
    test_empty_existing_file();
    printf("test_api: ok\n");
    return 0;
}
