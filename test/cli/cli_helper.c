/* cli_helper.c - fixtures and independent checks for the CLI tests
 * (test/cli/run-cli-tests.sh). It talks to the library directly, never to the tool,
 * so the tests do not grade the tool with its own output alone.
 *
 *   fill FILE N            N deterministic pairs of every kind (see gen())
 *   check FILE N           FILE holds exactly the N pairs of fill
 *   kinds N                prints "S N B": strings, numbers, bytes among fill's N pairs
 *   sample FILE            a small fixed set of pairs with known dump lines
 *   overwrite FILE N R     N keys "k<i>", each overwritten R times; last value "final-<i>"
 *   set FILE KEY STRING    sets one string value
 *   has FILE KEY           exit 0 if FILE exists and holds KEY, else 1
 *   hold FILE              reader: prints "ready", then serves stdin lines
 *                          "get KEY" / "count" / "verify" / "quit", one answer line each
 *   writer FILE            holds FILE open as the writer until stdin ends
 *   churn FILE N           writer: sets keys "c<i>" (i < N), prints "ready", then keeps
 *                          rewriting them with values of changing sizes and adding and
 *                          deleting keys "x<j>" until stdin ends
 *   lockonly FILE          takes FILE's writer lock (OFD lock on byte 0) without the
 *                          library, as mmapobj compact does, until stdin ends
 *   corrupt FILE MODE      damages FILE in place per docs/FORMAT.md; MODE is one of
 *                          record-kind, record-klen, number-vlen, table-marker,
 *                          slot-range, header-checksum
 *   oddseq FILE            marks FILE as left by a writer that died mid-write
 *                          (seq odd, DIRTY set), as a crash would
 */
#include <fcntl.h>
#include <float.h>
#include <poll.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmapobj.h"

static void die(const char *what, int rc, const mmapobj_map *m)
{
    fprintf(stderr, "cli_helper: %s: %s (%s) %s\n", what, mmapobj_strerror(rc),
            mmapobj_code_name(rc), mmapobj_errmsg(m));
    exit(3);
}

#define MUST(m, call)                          \
    do {                                       \
        int rc_ = (call);                      \
        if (rc_ != MMAPOBJ_OK) die(#call, rc_, m); \
    } while (0)

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct pair {
    char key[96];
    size_t klen;
    int kind;
    unsigned char val[96];
    size_t vlen;
    double num;
};

/* The i-th pair of `fill`: keys ASCII, non-ASCII UTF-8, with NUL, not UTF-8, with JSON
 * escapes, with control characters, and the empty key; values of all three kinds
 * including empty ones, NUL, invalid UTF-8, and the doubles JSON has no form for. */
static void gen(uint64_t i, struct pair *p)
{
    int n;
    switch (i % 6) {
    case 0: n = snprintf(p->key, sizeof p->key, "key:%llu", (unsigned long long)i); break;
    case 1: n = snprintf(p->key, sizeof p->key, "ключ/é/😀:%llu", (unsigned long long)i); break;
    case 2: n = snprintf(p->key, sizeof p->key, "nul%ckey:%llu", 0, (unsigned long long)i); break;
    case 3: n = snprintf(p->key, sizeof p->key, "\xff\xfe bad %llu", (unsigned long long)i); break;
    case 4: n = snprintf(p->key, sizeof p->key, "q\"b\\s\n\t/:%llu", (unsigned long long)i); break;
    default: n = snprintf(p->key, sizeof p->key, "\x01\x1f\x7f:%llu", (unsigned long long)i); break;
    }
    p->klen = i == 0 ? 0 : (size_t)n;
    p->kind = (int)((i / 6) % 3) + 1;
    uint64_t r = splitmix(i);
    if (p->kind == MMAPOBJ_KIND_STRING) {
        switch (i % 5) {
        case 0: n = snprintf((char *)p->val, sizeof p->val, "value %llu", (unsigned long long)r); break;
        case 1: n = snprintf((char *)p->val, sizeof p->val, "значение ✓ %llu 😀", (unsigned long long)i); break;
        case 2: n = snprintf((char *)p->val, sizeof p->val, "a%cb%llu", 0, (unsigned long long)i); break;
        case 3: n = snprintf((char *)p->val, sizeof p->val, "\xc0\xaf%llu\xed\xa0\x80", (unsigned long long)i); break;
        default: n = 0; break;
        }
        p->vlen = (size_t)n;
    } else if (p->kind == MMAPOBJ_KIND_NUMBER) {
        static const double special[] = {0.0, -0.0, 0.1, 1e21, 5e-324, DBL_MAX, -DBL_MIN,
                                         9007199254740993.0, 1.0 / 3.0};
        uint64_t sel = (i / 18) % 14;
        if (sel < 9) {
            p->num = special[sel];
        } else if (sel == 9) {
            p->num = NAN;
        } else if (sel == 10) {
            p->num = INFINITY;
        } else if (sel == 11) {
            p->num = -INFINITY;
        } else if (sel == 12) {
            p->num = (double)(int64_t)(r % 2000001) - 1000000.0;
        } else {
            uint64_t bits = r;
            memcpy(&p->num, &bits, sizeof bits);
            if (isnan(p->num))
                p->num = (double)r;
        }
    } else {
        p->vlen = (size_t)(r % 41);
        for (size_t j = 0; j < p->vlen; j++)
            p->val[j] = (unsigned char)((r >> (j % 8 * 8)) + j * 37);
    }
}

static int open_writer(const char *path, mmapobj_map **m)
{
    return mmapobj_create(path, 0, 0, 0, m);
}

static void do_set(mmapobj_map *m, const struct pair *p)
{
    if (p->kind == MMAPOBJ_KIND_NUMBER)
        MUST(m, mmapobj_set_number(m, p->key, p->klen, p->num));
    else
        MUST(m, mmapobj_set(m, p->key, p->klen, p->kind, p->val, p->vlen));
}

static int cmd_fill(const char *path, uint64_t n)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    for (uint64_t i = 0; i < n; i++) {
        struct pair p;
        gen(i, &p);
        do_set(m, &p);
    }
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_check(const char *path, uint64_t n)
{
    mmapobj_map *m = NULL;
    MUST(NULL, mmapobj_open(path, &m));
    int64_t count = mmapobj_count(m);
    if (count != (int64_t)n) {
        fprintf(stderr, "cli_helper check: %s holds %lld keys, expected %llu\n", path,
                (long long)count, (unsigned long long)n);
        return 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        struct pair p;
        gen(i, &p);
        mmapobj_value v;
        int rc = mmapobj_get(m, p.key, p.klen, &v);
        if (rc != MMAPOBJ_OK) {
            fprintf(stderr, "cli_helper check: pair %llu: get returned %s\n",
                    (unsigned long long)i, mmapobj_code_name(rc));
            return 1;
        }
        int ok = v.kind == p.kind;
        if (ok && p.kind == MMAPOBJ_KIND_NUMBER)
            ok = (isnan(p.num) && isnan(v.number)) || memcmp(&p.num, &v.number, 8) == 0;
        else if (ok)
            ok = v.len == p.vlen && memcmp(v.data, p.val, p.vlen) == 0;
        if (!ok) {
            fprintf(stderr, "cli_helper check: pair %llu: wrong value (kind %d, expected %d)\n",
                    (unsigned long long)i, (int)v.kind, p.kind);
            return 1;
        }
    }
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_kinds(uint64_t n)
{
    uint64_t c[4] = {0, 0, 0, 0};
    for (uint64_t i = 0; i < n; i++) {
        struct pair p;
        gen(i, &p);
        c[p.kind]++;
    }
    printf("%llu %llu %llu\n", (unsigned long long)c[1], (unsigned long long)c[2],
           (unsigned long long)c[3]);
    return 0;
}

static int cmd_sample(const char *path)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    MUST(m, mmapobj_set_string(m, "greeting", 8, "hello, world", 12));
    MUST(m, mmapobj_set_number(m, "pi", 2, 3.141592653589793));
    MUST(m, mmapobj_set_number(m, "tenth", 5, 0.1));
    MUST(m, mmapobj_set_number(m, "negzero", 7, -0.0));
    MUST(m, mmapobj_set_number(m, "nan", 3, NAN));
    MUST(m, mmapobj_set_number(m, "inf", 3, INFINITY));
    MUST(m, mmapobj_set_number(m, "ninf", 4, -INFINITY));
    MUST(m, mmapobj_set_number(m, "tiny", 4, 5e-324));
    MUST(m, mmapobj_set_number(m, "big", 3, 1e21));
    MUST(m, mmapobj_set_number(m, "int", 3, 42));
    MUST(m, mmapobj_set_bytes(m, "blob", 4, "\x00\x01\x02\xff\xfe", 5));
    MUST(m, mmapobj_set_bytes(m, "empty-bytes", 11, "", 0));
    MUST(m, mmapobj_set_string(m, "empty-string", 12, "", 0));
    MUST(m, mmapobj_set_string(m, "", 0, "value of the empty key", 22));
    MUST(m, mmapobj_set_string(m, "nul\0key", 7, "a\0b", 3));
    MUST(m, mmapobj_set_string(m, "unicode", 7, "ключ ✓ 😀", strlen("ключ ✓ 😀")));
    MUST(m, mmapobj_set_string(m, "badutf8", 7, "\xc3\x28", 2));
    MUST(m, mmapobj_set_string(m, "esc", 3, "\"\\\n\r\t\b\f\x01/", 9));
    MUST(m, mmapobj_set_number(m, "\xff", 1, 1));
    MUST(m, mmapobj_set_string(m, "-dash", 5, "starts with a dash", 18));
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_overwrite(const char *path, uint64_t n, uint64_t rounds)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    char key[32];
    static char val[400];
    for (uint64_t r = 0; r < rounds; r++) {
        for (uint64_t i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "k%llu", (unsigned long long)i);
            size_t vl = (size_t)((r * 37 + i) % 300 + 1);
            memset(val, 'a' + (int)(r % 26), vl);
            MUST(m, mmapobj_set_string(m, key, (size_t)kl, val, vl));
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "k%llu", (unsigned long long)i);
        int vl = snprintf(val, sizeof val, "final-%llu", (unsigned long long)i);
        MUST(m, mmapobj_set_string(m, key, (size_t)kl, val, (size_t)vl));
    }
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_set(const char *path, const char *key, const char *val)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    MUST(m, mmapobj_set_string(m, key, strlen(key), val, strlen(val)));
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_has(const char *path, const char *key)
{
    mmapobj_map *m = NULL;
    if (mmapobj_open(path, &m) != MMAPOBJ_OK)
        return 1;
    int rc = mmapobj_has(m, key, strlen(key));
    mmapobj_close(&m);
    return rc == 1 ? 0 : 1;
}

static int cmd_hold(const char *path)
{
    mmapobj_map *m = NULL;
    MUST(NULL, mmapobj_open(path, &m));
    printf("ready\n");
    fflush(stdout);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "get ", 4) == 0) {
            mmapobj_value v;
            int rc = mmapobj_get(m, line + 4, strlen(line + 4), &v);
            if (rc == MMAPOBJ_NOTFOUND)
                printf("absent\n");
            else if (rc != MMAPOBJ_OK)
                printf("error %s %s\n", mmapobj_code_name(rc), mmapobj_errmsg(m));
            else if (v.kind == MMAPOBJ_KIND_STRING)
                printf("%.*s\n", (int)v.len, (const char *)v.data);
            else
                printf("kind %d\n", (int)v.kind);
        } else if (strcmp(line, "count") == 0) {
            printf("%lld\n", (long long)mmapobj_count(m));
        } else if (strcmp(line, "verify") == 0) {
            int rc = mmapobj_verify(m);
            printf("%s %s\n", mmapobj_code_name(rc), mmapobj_errmsg(m));
        } else if (strcmp(line, "quit") == 0) {
            break;
        } else {
            printf("unknown command\n");
        }
        fflush(stdout);
    }
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_writer(const char *path)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin))
        ;
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_churn(const char *path, uint64_t n)
{
    mmapobj_map *m = NULL;
    MUST(NULL, open_writer(path, &m));
    char key[32];
    static char val[2048];
    memset(val, 'v', sizeof val);
    for (uint64_t i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "c%llu", (unsigned long long)i);
        MUST(m, mmapobj_set_string(m, key, (size_t)kl, val, 8));
    }
    printf("ready\n");
    fflush(stdout);
    struct pollfd pfd = {0, POLLIN, 0};
    for (uint64_t round = 1;; round++) {
        if (poll(&pfd, 1, 0) > 0)
            break; /* stdin readable or closed: stop */
        for (uint64_t i = 0; i < n; i++) {
            int kl = snprintf(key, sizeof key, "c%llu", (unsigned long long)i);
            MUST(m, mmapobj_set_string(m, key, (size_t)kl, val, (size_t)((i * 7 + round * 13) % 2000)));
            kl = snprintf(key, sizeof key, "x%llu", (unsigned long long)((i + round) % (4 * n)));
            if (i % 2)
                MUST(m, mmapobj_set_number(m, key, (size_t)kl, (double)round));
            else {
                int rc = mmapobj_delete(m, key, (size_t)kl);
                if (rc != MMAPOBJ_OK && rc != MMAPOBJ_NOTFOUND)
                    die("mmapobj_delete", rc, m);
            }
        }
    }
    MUST(m, mmapobj_close(&m));
    return 0;
}

static int cmd_lockonly(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_len = 1;
    if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        perror(path);
        return 3;
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin))
        ;
    close(fd);
    return 0;
}

/* ---- raw damage, by the offsets of docs/FORMAT.md -------------------------------------- */

static uint64_t rd64(int fd, uint64_t off)
{
    unsigned char b[8];
    if (pread(fd, b, 8, (off_t)off) != 8) {
        perror("pread");
        exit(3);
    }
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | b[k];
    return v;
}

static void wr(int fd, uint64_t off, const void *p, size_t n)
{
    if (pwrite(fd, p, n, (off_t)off) != (ssize_t)n) {
        perror("pwrite");
        exit(3);
    }
}

static void wr32(int fd, uint64_t off, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    wr(fd, off, b, 4);
}

static void wr64(int fd, uint64_t off, uint64_t v)
{
    unsigned char b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)(v >> (8 * k));
    wr(fd, off, b, 8);
}

/* Offset of the first record of the wanted kind (0 = any) reached from the table. */
static uint64_t find_record(int fd, uint64_t *slot_off, int kind)
{
    uint64_t ref = rd64(fd, 72);
    uint64_t table = ref & ((1ull << 48) - 1);
    uint64_t buckets = 1ull << (ref >> 56);
    for (uint64_t i = 0; i < buckets; i++) {
        uint64_t s = rd64(fd, table + 16 + 8 * i);
        if (s <= 1)
            continue;
        uint64_t rec = (s & ((1ull << 40) - 1)) * 4;
        uint64_t w0 = rd64(fd, rec) & 0xFFFFFFFFu;
        if (kind && (int)(w0 & 3) != kind)
            continue;
        if (slot_off)
            *slot_off = table + 16 + 8 * i;
        return rec;
    }
    fprintf(stderr, "cli_helper corrupt: no record of kind %d\n", kind);
    exit(3);
}

static int cmd_corrupt(const char *path, const char *mode)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror(path);
        return 3;
    }
    uint64_t slot = 0;
    if (strcmp(mode, "record-kind") == 0) {
        uint64_t rec = find_record(fd, NULL, 0);
        uint32_t w0 = (uint32_t)rd64(fd, rec);
        wr32(fd, rec, w0 & ~3u); /* kind 0 is invalid */
    } else if (strcmp(mode, "record-klen") == 0) {
        uint64_t rec = find_record(fd, NULL, 0);
        uint32_t w0 = (uint32_t)rd64(fd, rec);
        wr32(fd, rec, (w0 & 3u) | (0x3FFFFFF0u << 2)); /* key far past the end of the file */
    } else if (strcmp(mode, "number-vlen") == 0) {
        uint64_t rec = find_record(fd, NULL, MMAPOBJ_KIND_NUMBER);
        wr32(fd, rec + 4, 4);
    } else if (strcmp(mode, "table-marker") == 0) {
        uint64_t table = rd64(fd, 72) & ((1ull << 48) - 1);
        wr32(fd, table, 0x58585858u);
    } else if (strcmp(mode, "slot-range") == 0) {
        find_record(fd, &slot, 0);
        uint64_t s = rd64(fd, slot);
        uint64_t file_size = rd64(fd, 80);
        uint64_t bad = (file_size + 4096) / 4; /* a record offset past the end of the file */
        wr64(fd, slot, (s & ~((1ull << 40) - 1)) | bad);
    } else if (strcmp(mode, "header-checksum") == 0) {
        uint64_t seed = rd64(fd, 24);
        wr64(fd, 24, seed ^ 1);
    } else {
        fprintf(stderr, "cli_helper corrupt: unknown mode %s\n", mode);
        return 3;
    }
    close(fd);
    return 0;
}

static int cmd_oddseq(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror(path);
        return 3;
    }
    wr64(fd, 64, rd64(fd, 64) | 1);
    uint32_t flags = (uint32_t)rd64(fd, 192);
    wr32(fd, 192, flags | 1);
    close(fd);
    return 0;
}

static uint64_t num(const char *s)
{
    return strtoull(s, NULL, 10);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "fill") == 0) return cmd_fill(argv[2], num(argv[3]));
    if (argc >= 4 && strcmp(argv[1], "check") == 0) return cmd_check(argv[2], num(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "kinds") == 0) return cmd_kinds(num(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "sample") == 0) return cmd_sample(argv[2]);
    if (argc >= 5 && strcmp(argv[1], "overwrite") == 0)
        return cmd_overwrite(argv[2], num(argv[3]), num(argv[4]));
    if (argc >= 5 && strcmp(argv[1], "set") == 0) return cmd_set(argv[2], argv[3], argv[4]);
    if (argc >= 4 && strcmp(argv[1], "has") == 0) return cmd_has(argv[2], argv[3]);
    if (argc >= 3 && strcmp(argv[1], "hold") == 0) return cmd_hold(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "writer") == 0) return cmd_writer(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "churn") == 0) return cmd_churn(argv[2], num(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "lockonly") == 0) return cmd_lockonly(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "corrupt") == 0) return cmd_corrupt(argv[2], argv[3]);
    if (argc >= 3 && strcmp(argv[1], "oddseq") == 0) return cmd_oddseq(argv[2]);
    fprintf(stderr, "usage: cli_helper fill|check|kinds|sample|overwrite|set|has|hold|writer|churn|lockonly|"
                    "corrupt|oddseq ...\n");
    return 64;
}
