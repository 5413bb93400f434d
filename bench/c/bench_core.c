/*
 * bench_core.c - C benchmark of libmmapobj against an in-memory floor.
 *
 * For each key count: random-order hit and miss lookups, a dependent chain of
 * hits (each key chosen from the previous value, so lookups cannot overlap),
 * and inserts (pre-sized and growing from the default size), in ns/op. The
 * floor is a bare open-addressing table in RAM with the same record layout
 * idea ([klen][vlen][key][value] in one arena, u64 slots of offset + hash tag,
 * XXH3_64bits_withSeed, linear probing, grown past load 0.8; for lookups it has
 * exactly as many slots as the mmapobj file), measured in the same run with the
 * same keys, interleaved round by round. Both copy the value out
 * (mmapobj_get copies into the handle's scratch; the floor memcpy's it).
 *
 *   mmapobj_bench [--keys 100000,1000000] [--rounds 5] [--dir /tmp]
 *                 [--quick] [--json FILE]
 */
#define _POSIX_C_SOURCE 200809L
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmapobj.h"

#define KEY_LEN 11  /* "key:" + 7 digits */
#define VAL_LEN 16  /* "val:" + 12 digits */
#define MAX_SIZES 8

/* ---- helpers --------------------------------------------------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Lowest CPU share (thread CPU time / wall time) of a kept lookup batch, and
 * how many batches were measured again because another process took the CPU. */
static double min_cpu_share = 1e9;
static int cpu_retries;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "mmapobj_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void die_mo(const char *what, int rc, const mmapobj_map *m)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s (%s)", mmapobj_strerror(rc), mmapobj_errmsg(m));
    die(what, buf);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static uint32_t xs_state = 0x9e3779b9u;
static uint32_t xs32(void)
{
    uint32_t s = xs_state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    xs_state = s;
    return s;
}

static uint32_t *permutation(size_t n, uint32_t seed)
{
    uint32_t *p = xmalloc(n * sizeof *p);
    xs_state = seed ? seed : 1;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = xs32() % (i + 1);
        uint32_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* Key i is "key:" + (1000000 + i): hits are [0, n), misses [n, 2n). */
static void make_key(char *out, uint32_t i)
{
    snprintf(out, KEY_LEN + 1, "key:%07" PRIu32, (uint32_t)(1000000u + i));
}
static void make_val(char *out, uint32_t i)
{
    snprintf(out, VAL_LEN + 1, "val:%012" PRIu64, (uint64_t)100000000000ull + i);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat3 {
    double median, min, max;
} stat3;

static stat3 summarize(double *v, int n)
{
    stat3 s = {0, 0, 0};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

/* ---- the floor: an open-addressing table in RAM ------------------------------ */

typedef struct floor_table {
    uint64_t *slots;   /* 0 empty, else (offset/4 + 1) | tag << 40 */
    uint64_t mask;
    uint64_t count;
    unsigned char *arena;
    size_t used, cap;
    uint64_t seed;
} floor_table;

#define F_OFF_MASK ((UINT64_C(1) << 40) - 1)

static void floor_init(floor_table *t, uint64_t slots, size_t arena_cap)
{
    uint64_t cap = 16;
    while (cap < slots)
        cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots)
        die("out of memory", NULL);
    t->mask = cap - 1;
    t->count = 0;
    t->cap = arena_cap ? arena_cap : 4096;
    t->arena = xmalloc(t->cap);
    t->used = 0;
    t->seed = UINT64_C(0x5bd1e9955bd1e995);
}

static void floor_free(floor_table *t)
{
    free(t->slots);
    free(t->arena);
}

static inline const unsigned char *floor_rec(const floor_table *t, uint64_t slot)
{
    return t->arena + ((slot & F_OFF_MASK) - 1) * 4;
}

static void floor_place(uint64_t *slots, uint64_t mask, uint64_t h, uint64_t s)
{
    uint64_t i = h & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = s;
}

static void floor_grow(floor_table *t)
{
    uint64_t ncap = (t->mask + 1) * 2;
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        die("out of memory", NULL);
    for (uint64_t i = 0; i <= t->mask; i++) {
        uint64_t s = t->slots[i];
        if (!s)
            continue;
        const unsigned char *r = floor_rec(t, s);
        uint32_t klen;
        memcpy(&klen, r, 4);
        floor_place(ns, ncap - 1, XXH3_64bits_withSeed(r + 8, klen, t->seed), s);
    }
    free(t->slots);
    t->slots = ns;
    t->mask = ncap - 1;
}

static void floor_put(floor_table *t, const char *key, uint32_t klen, const char *val, uint32_t vlen)
{
    uint64_t h = XXH3_64bits_withSeed(key, klen, t->seed);
    uint64_t tag = h >> 40;
    for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t s = t->slots[i];
        if (!s)
            break;
        if ((s >> 40) != tag)
            continue;
        const unsigned char *r = floor_rec(t, s);
        uint32_t k2;
        memcpy(&k2, r, 4);
        if (k2 == klen && memcmp(r + 8, key, klen) == 0) {
            uint32_t v2;
            memcpy(&v2, r + 4, 4);
            if (v2 == vlen) { /* same size: overwrite in place */
                memcpy((unsigned char *)r + 8 + klen, val, vlen);
                return;
            }
            t->slots[i] = 0; /* different size: drop (the benchmark never does this) */
            break;
        }
    }
    size_t need = (8 + (size_t)klen + vlen + 3) & ~(size_t)3;
    if (t->used + need > t->cap) {
        while (t->used + need > t->cap)
            t->cap *= 2;
        unsigned char *na = realloc(t->arena, t->cap);
        if (!na)
            die("out of memory", NULL);
        t->arena = na;
    }
    unsigned char *r = t->arena + t->used;
    memcpy(r, &klen, 4);
    memcpy(r + 4, &vlen, 4);
    memcpy(r + 8, key, klen);
    memcpy(r + 8 + klen, val, vlen);
    uint64_t s = ((uint64_t)(t->used / 4) + 1) | (tag << 40);
    t->used += need;
    if ((t->count + 1) * 5 > (t->mask + 1) * 4) /* grow past load 0.8, like mmapobj */
        floor_grow(t);
    floor_place(t->slots, t->mask, h, s);
    t->count++;
}

/* Short keys and values (the benchmark's) compare and copy with overlapping
 * 8-byte loads instead of libc calls, as a tuned table would. */
static inline int key_eq(const unsigned char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

static inline void copy_small(char *dst, const unsigned char *src, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else
        memcpy(dst, src, n);
}

/* Copies the value into out; returns its length or -1 on a miss. */
static inline int64_t floor_get(const floor_table *t, const char *key, uint32_t klen, char *out)
{
    uint64_t h = XXH3_64bits_withSeed(key, klen, t->seed);
    uint64_t tag = h >> 40;
    for (uint64_t i = h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        uint64_t s = t->slots[i];
        if (!s)
            return -1;
        if ((s >> 40) != tag)
            continue;
        const unsigned char *r = floor_rec(t, s);
        uint32_t k2, vlen;
        memcpy(&k2, r, 4);
        if (k2 != klen || !key_eq(r + 8, key, klen))
            continue;
        memcpy(&vlen, r + 4, 4);
        copy_small(out, r + 8 + klen, vlen);
        return vlen;
    }
    return -1;
}

/* ---- workloads ------------------------------------------------------------- */

typedef struct ctx {
    size_t n;
    const char *keys;      /* 2n keys of KEY_LEN bytes: [0,n) hits, [n,2n) misses */
    const uint32_t *perm;  /* random order of [0, n) */
    floor_table *floor;
    mmapobj_map *reader, *writer;
    volatile uint64_t sink;
} ctx;

enum op { OP_HIT, OP_MISS, OP_CHAIN };

/* Runs `ops` lookups of one kind on one system starting at position `from` of
 * the permutation; returns ns. A wrong answer aborts the benchmark. */
static double run_lookups(ctx *c, int sys, enum op op, size_t ops, size_t from)
{
    char out[64];
    uint64_t sink = 0;
    size_t n = c->n, j = from % n;
    mmapobj_map *m = sys == 1 ? c->reader : c->writer;
    mmapobj_value v;
    uint32_t idx = c->perm[j];
    double t0 = now_ns();
    for (size_t i = 0; i < ops; i++) {
        const char *k;
        if (op == OP_CHAIN)
            k = c->keys + (size_t)idx * KEY_LEN;
        else {
            k = c->keys + ((size_t)c->perm[j] + (op == OP_MISS ? n : 0)) * KEY_LEN;
            if (++j == n)
                j = 0;
        }
        int64_t len;
        const unsigned char *val;
        if (sys == 0) {
            len = floor_get(c->floor, k, KEY_LEN, out);
            val = (const unsigned char *)out;
        } else {
            int rc = mmapobj_get(m, k, KEY_LEN, &v);
            if (rc != MMAPOBJ_OK && rc != MMAPOBJ_NOTFOUND)
                die_mo("mmapobj_get", rc, m);
            len = rc == MMAPOBJ_OK ? (int64_t)v.len : -1;
            val = v.data;
        }
        if ((len < 0) != (op == OP_MISS)) {
            char kb[KEY_LEN + 1];
            memcpy(kb, k, KEY_LEN);
            kb[KEY_LEN] = 0;
            fprintf(stderr, "mmapobj_bench: %s lookup of %s: %s\n", sys ? "mmapobj" : "floor", kb,
                    len < 0 ? "missing" : "unexpectedly present");
            exit(1);
        }
        if (len >= 0) {
            /* the chain picks the next key from the bytes just read */
            uint32_t x = (uint32_t)val[VAL_LEN - 1] * 131u + val[VAL_LEN - 2] * 7u + val[VAL_LEN - 3];
            sink += x;
            /* i advances, so the chain never falls into a short cycle */
            if (op == OP_CHAIN)
                idx = c->perm[(from + i + x) % n];
        } else
            sink++;
    }
    double t = now_ns() - t0;
    c->sink += sink;
    return t;
}

typedef struct result {
    const char *what;
    size_t n;
    stat3 floor, mo;
    double ratio;
} result;

static result results[64];
static int nresults;

static void add_result(const char *what, size_t n, double *fv, double *mv, int rounds)
{
    result *r = &results[nresults++];
    r->what = what;
    r->n = n;
    r->floor = summarize(fv, rounds);
    r->mo = summarize(mv, rounds);
    r->ratio = r->floor.median > 0 ? r->mo.median / r->floor.median : 0;
    char fc[64], mc[64];
    snprintf(fc, sizeof fc, "%.1f (%.1f-%.1f)", r->floor.median, r->floor.min, r->floor.max);
    snprintf(mc, sizeof mc, "%.1f (%.1f-%.1f)", r->mo.median, r->mo.min, r->mo.max);
    printf("| %-40s | %8zu | %-24s | %-24s | %5.2f |\n", what, n, fc, mc, r->ratio);
    fflush(stdout);
}

static void bench_size(size_t n, int rounds, const char *dir, double target_ms)
{
    char *keys = xmalloc(2 * n * KEY_LEN + 1);
    char *vals = xmalloc(n * VAL_LEN + 1);
    char tmp[32];
    for (size_t i = 0; i < 2 * n; i++) {
        make_key(tmp, (uint32_t)i);
        memcpy(keys + i * KEY_LEN, tmp, KEY_LEN);
    }
    for (size_t i = 0; i < n; i++) {
        make_val(tmp, (uint32_t)i);
        memcpy(vals + i * VAL_LEN, tmp, VAL_LEN);
    }
    uint32_t *perm = permutation(n, 0x2545f491u ^ (uint32_t)n);
    char path_pre[4096], path_grow[4096];
    snprintf(path_pre, sizeof path_pre, "%s/cbench-%zu-presized.mmo", dir, n);
    snprintf(path_grow, sizeof path_grow, "%s/cbench-%zu-grow.mmo", dir, n);

    /* ---- inserts: floor (pre-sized / growing) vs mmapobj (pre-sized / default size) ---- */
    int irounds = rounds < 3 ? rounds : 3;
    double f_pre[16], f_grow[16], m_pre[16], m_grow[16];
    floor_table ft;
    for (int r = 0; r < irounds; r++) {
        for (int sys = 0; sys < 4; sys++) {
            int which = (sys + r) % 4;
            double t0, t;
            if (which == 0 || which == 1) {
                floor_table f;
                if (which == 0)
                    floor_init(&f, (n * 5 + 3) / 4, n * 36 + 4096);
                else
                    floor_init(&f, 16, 0);
                t0 = now_ns();
                for (size_t i = 0; i < n; i++) {
                    uint32_t x = perm[i];
                    floor_put(&f, keys + (size_t)x * KEY_LEN, KEY_LEN, vals + (size_t)x * VAL_LEN, VAL_LEN);
                }
                t = now_ns() - t0;
                if (f.count != n)
                    die("floor insert count mismatch", NULL);
                floor_free(&f);
                (which == 0 ? f_pre : f_grow)[r] = t / (double)n;
            } else {
                const char *p = which == 2 ? path_pre : path_grow;
                mmapobj_map *m = NULL;
                unlink(p);
                int rc = which == 2 ? mmapobj_create(p, 0, n, 0, &m) : mmapobj_create(p, 0, 0, 0, &m);
                if (rc != MMAPOBJ_OK)
                    die_mo("mmapobj_create", rc, NULL);
                t0 = now_ns();
                for (size_t i = 0; i < n; i++) {
                    uint32_t x = perm[i];
                    rc = mmapobj_set_string(m, keys + (size_t)x * KEY_LEN, KEY_LEN, vals + (size_t)x * VAL_LEN, VAL_LEN);
                    if (rc != MMAPOBJ_OK)
                        die_mo("mmapobj_set_string", rc, m);
                }
                t = now_ns() - t0;
                if (mmapobj_count(m) != (int64_t)n)
                    die("mmapobj insert count mismatch", p);
                (which == 2 ? m_pre : m_grow)[r] = t / (double)n;
                rc = mmapobj_close(&m);
                if (rc != MMAPOBJ_OK)
                    die_mo("mmapobj_close", rc, NULL);
            }
        }
    }
    add_result("insert, pre-sized", n, f_pre, m_pre, irounds);
    add_result("insert, growing (mmapobj: default size)", n, f_grow, m_grow, irounds);
    unlink(path_grow);

    /* ---- lookups ---- */
    mmapobj_map *writer = NULL, *reader = NULL;
    int rc = mmapobj_create(path_pre, 0, 0, 0, &writer);
    if (rc != MMAPOBJ_OK)
        die_mo("mmapobj_create (reopen)", rc, NULL);
    rc = mmapobj_open(path_pre, &reader);
    if (rc != MMAPOBJ_OK)
        die_mo("mmapobj_open", rc, NULL);
    mmapobj_stats st;
    rc = mmapobj_stat(reader, &st);
    if (rc != MMAPOBJ_OK)
        die_mo("mmapobj_stat", rc, reader);
    /* the floor gets exactly as many slots as the file's table: same load, same footprint */
    floor_init(&ft, st.bucket_count, n * 36 + 4096);
    for (size_t i = 0; i < n; i++)
        floor_put(&ft, keys + (size_t)perm[i] * KEY_LEN, KEY_LEN, vals + (size_t)perm[i] * VAL_LEN, VAL_LEN);
    if (ft.mask + 1 != st.bucket_count)
        fprintf(stderr, "mmapobj_bench: note: floor has %" PRIu64 " slots, mmapobj %" PRIu64 "\n", ft.mask + 1,
                st.bucket_count);
    printf("<!-- %zu keys: table of %" PRIu64 " slots (load %.2f), file %" PRIu64 " bytes -->\n", n, st.bucket_count,
           st.load_factor, st.file_size);
    ctx c = {n, keys, perm, &ft, reader, writer, 0};

    /* before timing: every key gives its exact value on all three, every miss key nothing */
    for (size_t i = 0; i < 2 * n; i++) {
        const char *k = keys + i * KEY_LEN;
        const char *want = i < n ? vals + i * VAL_LEN : NULL;
        char out[64];
        int64_t fl = floor_get(&ft, k, KEY_LEN, out);
        if (want ? (fl != VAL_LEN || memcmp(out, want, VAL_LEN) != 0) : fl >= 0)
            die("floor returned a wrong answer", NULL);
        for (int h = 0; h < 2; h++) {
            mmapobj_map *m = h ? writer : reader;
            mmapobj_value v;
            rc = mmapobj_get(m, k, KEY_LEN, &v);
            int ok = want ? (rc == MMAPOBJ_OK && v.kind == MMAPOBJ_KIND_STRING && v.len == VAL_LEN &&
                             memcmp(v.data, want, VAL_LEN) == 0)
                          : rc == MMAPOBJ_NOTFOUND;
            if (!ok) {
                char kb[KEY_LEN + 1];
                memcpy(kb, k, KEY_LEN);
                kb[KEY_LEN] = 0;
                fprintf(stderr, "mmapobj_bench: %s: wrong answer for %s (rc %d)\n", h ? "writer" : "reader", kb, rc);
                exit(1);
            }
        }
    }

    static const struct {
        const char *name;
        enum op op;
        int sys;
    } tasks[] = {
        {"hit, reader (mmapobj_open)", OP_HIT, 1},
        {"miss, reader", OP_MISS, 1},
        {"hit, dependent chain, reader", OP_CHAIN, 1},
        {"hit, writer's own reads", OP_HIT, 2},
    };
    enum { NT = sizeof tasks / sizeof tasks[0] };
    /* calibrate each pair to ~target_ms per timed batch */
    size_t ops[NT][2];
    for (int t = 0; t < NT; t++)
        for (int s = 0; s < 2; s++) {
            size_t cal = n < 50000 ? n : 50000;
            int sys = s == 0 ? 0 : tasks[t].sys;
            run_lookups(&c, sys, tasks[t].op, cal, 7);
            double ns = run_lookups(&c, sys, tasks[t].op, cal, 7 + cal);
            double want = target_ms * 1e6 / (ns / (double)cal);
            ops[t][s] = want < 10000 ? 10000 : want > 50e6 ? 50000000 : (size_t)want;
        }
    double fv[NT][64], mv[NT][64];
    size_t pos = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NT * 2; k++) {
            int idx = (k + r) % (NT * 2), t = idx / 2, s = idx % 2;
            int sys = s == 0 ? 0 : tasks[t].sys;
            /* a batch that got less than 0.9 of a CPU is measured again (at most
             * twice); the attempt with the highest CPU share is kept */
            double best = 0, best_share = -1;
            for (int attempt = 0; attempt < 3; attempt++) {
                double c0 = cpu_ns();
                double ns = run_lookups(&c, sys, tasks[t].op, ops[t][s], pos);
                double share = (cpu_ns() - c0) / ns;
                pos += ops[t][s];
                if (share > best_share) {
                    best_share = share;
                    best = ns;
                }
                if (share >= 0.9)
                    break;
                if (attempt < 2)
                    cpu_retries++;
            }
            if (best_share < min_cpu_share)
                min_cpu_share = best_share;
            (s == 0 ? fv : mv)[t][r] = best / (double)ops[t][s];
        }
    }
    for (int t = 0; t < NT; t++)
        add_result(tasks[t].name, n, fv[t], mv[t], rounds);

    mmapobj_close(&reader);
    mmapobj_close(&writer);
    unlink(path_pre);
    floor_free(&ft);
    free(perm);
    free(keys);
    free(vals);
}

static int parse_sizes(const char *s, size_t *out)
{
    int k = 0;
    while (*s && k < MAX_SIZES) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || v < 1000 || v > 20000000)
            return -1;
        out[k++] = (size_t)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return k;
}

int main(int argc, char **argv)
{
    size_t sizes[MAX_SIZES] = {100000, 1000000};
    int nsizes = 2, rounds = 5, quick = 0;
    const char *dir = "/tmp", *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick"))
            quick = 1;
        else if (!strcmp(a, "--keys") && i + 1 < argc) {
            nsizes = parse_sizes(argv[++i], sizes);
            if (nsizes <= 0)
                die("bad --keys (comma separated counts, 1000..20000000)", argv[i]);
        } else if (!strcmp(a, "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
            if (rounds < 1 || rounds > 64)
                die("bad --rounds (1..64)", argv[i]);
        } else if (!strcmp(a, "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(a, "--json") && i + 1 < argc)
            json = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--keys 100000,1000000] [--rounds N] [--dir DIR] [--quick] [--json FILE]\n", argv[0]);
            return 2;
        }
    }
    double target_ms = quick ? 40 : 100;
    printf("libmmapobj %s C benchmark: ns/op, median (min-max) of %d rounds; floor = in-memory XXH3 open-addressing table\n\n",
           mmapobj_version_string(), rounds);
    printf("| %-40s | %8s | %-24s | %-24s | %5s |\n", "operation", "keys", "floor ns/op", "mmapobj ns/op", "ratio");
    printf("|%s|%s|%s|%s|%s|\n", "------------------------------------------", "----------", "--------------------------",
           "--------------------------", "-------");
    fflush(stdout);
    for (int i = 0; i < nsizes; i++)
        bench_size(sizes[i], rounds, dir, target_ms);

    printf("\nlookup batches: lowest CPU share kept %.2f, %d re-measured because another process took the CPU\n",
           min_cpu_share, cpu_retries);
    /* the "done when" figures of the core issue */
    printf("\n");
    for (int i = 0; i < nresults; i++) {
        result *r = &results[i];
        if (r->n != 1000000)
            continue;
        if (!strcmp(r->what, "hit, reader (mmapobj_open)"))
            printf("core target: 1M random hit lookups within 2x of the floor: %.2fx -> %s\n", r->ratio,
                   r->ratio <= 2.0 ? "PASS" : "MISS");
        if (!strcmp(r->what, "insert, pre-sized"))
            printf("core target: 1M inserts with pre-sized buckets >= 3 M/s: %.2f M/s -> %s\n", 1e3 / r->mo.median,
                   1e3 / r->mo.median >= 3.0 ? "PASS" : "MISS");
    }
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f)
            die("cannot write --json file", json);
        fprintf(f, "{\n \"library\": \"%s\", \"rounds\": %d, \"min_cpu_share\": %.3f, \"cpu_retries\": %d,\n \"results\": [\n",
                mmapobj_version_string(), rounds, min_cpu_share, cpu_retries);
        for (int i = 0; i < nresults; i++) {
            result *r = &results[i];
            fprintf(f,
                    "  {\"op\": \"%s\", \"keys\": %zu, \"floor\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
                    "\"mmapobj\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, \"ratio\": %.3f}%s\n",
                    r->what, r->n, r->floor.median, r->floor.min, r->floor.max, r->mo.median, r->mo.min, r->mo.max,
                    r->ratio, i + 1 < nresults ? "," : "");
        }
        fprintf(f, " ]\n}\n");
        fclose(f);
    }
    return 0;
}
