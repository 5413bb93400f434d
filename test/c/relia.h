/* relia.h - shared helpers of the reliability tests (test_concurrency, test_crash, test_hostile,
 * test_limits): environment knobs, a deterministic PRNG, self-checking keys and values, and
 * failures that end every child process (spawn.h starts them). */
#ifndef MMAPOBJ_TEST_RELIA_H
#define MMAPOBJ_TEST_RELIA_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mmapobj.h"
#include "spawn.h"

/* ---- knobs -------------------------------------------------------------------------------- */

/* MMAPOBJ_TEST_QUICK=1 (set by the valgrind build) shrinks every run; MMAPOBJ_TEST_LONG=1 makes
 * the runs last minutes. */
static inline int relia_quick(void)
{
    const char *s = getenv("MMAPOBJ_TEST_QUICK");
    return s && *s && strcmp(s, "0") != 0;
}

static inline int relia_long(void)
{
    const char *s = getenv("MMAPOBJ_TEST_LONG");
    return s && *s && strcmp(s, "0") != 0;
}

/* Tests for library bugs that are reported but not fixed yet run only with this set. */
static inline int relia_known_bugs(void)
{
    const char *s = getenv("MMAPOBJ_TEST_KNOWN_BUG");
    return s && *s && strcmp(s, "0") != 0;
}

static inline long relia_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return (*end == 0 && v >= 0) ? v : dflt;
}

/* Seed of this run: MMAPOBJ_TEST_SEED, else time and pid (printed so a failure can be rerun). */
static inline uint64_t relia_seed(void)
{
    const char *s = getenv("MMAPOBJ_TEST_SEED");
    if (s && *s) return strtoull(s, NULL, 0);
    return ((uint64_t)time(NULL) * 1000003u) ^ (uint64_t)(sp_now() * 1e9) ^ ((uint64_t)getpid() << 32);
}

static inline double relia_now(void)
{
    return sp_now();
}

/* ---- PRNG and hashing --------------------------------------------------------------------- */

static inline uint64_t relia_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

typedef struct { uint64_t s; } relia_rng;

static inline uint64_t relia_next(relia_rng *r)
{
    r->s += 0x9E3779B97F4A7C15ull;
    return relia_mix(r->s);
}

/* Uniform in [0, n), n > 0. */
static inline uint64_t relia_below(relia_rng *r, uint64_t n)
{
    return relia_next(r) % n;
}

/* ---- self-checking keys ------------------------------------------------------------------- */

/* Key of id k: "k<id>." then a suffix whose length and bytes depend on k only; every 7th key has a
 * NUL byte in its suffix (so it must be passed as pointer+length). Returns the length. */
#define RELIA_KEY_MAX 64
static inline size_t relia_key(uint32_t k, char *buf)
{
    int n = snprintf(buf, RELIA_KEY_MAX, "k%u.", k);
    uint64_t h = relia_mix((uint64_t)k ^ 0x6B6579ull);
    size_t extra = (size_t)(h % 41);
    for (size_t i = 0; i < extra; i++) buf[n + i] = (char)('a' + (relia_mix(h + i) % 26));
    if (k % 7 == 3 && extra > 2) buf[n + extra / 2] = 0;
    return (size_t)n + extra;
}

static inline int relia_key_has_nul(uint32_t k)
{
    char buf[RELIA_KEY_MAX];
    size_t n = relia_key(k, buf);
    return memchr(buf, 0, n) != NULL;
}

/* Parses a key made by relia_key(); returns 1 and sets *k if it is exactly such a key. */
static inline int relia_parse_key(const void *key, size_t klen, uint32_t *k)
{
    const char *p = key;
    if (klen < 3 || klen > RELIA_KEY_MAX || p[0] != 'k') return 0;
    uint64_t v = 0;
    size_t i = 1;
    while (i < klen && p[i] >= '0' && p[i] <= '9' && i < 12) v = v * 10 + (uint64_t)(p[i++] - '0');
    if (i == 1 || i >= klen || p[i] != '.' || v > 0xFFFFFFFFu) return 0;
    char buf[RELIA_KEY_MAX];
    size_t n = relia_key((uint32_t)v, buf);
    if (n != klen || memcmp(buf, key, n) != 0) return 0;
    *k = (uint32_t)v;
    return 1;
}

/* ---- self-checking values ----------------------------------------------------------------- */

/* Operation number v (v >= 1) on key k is fully determined by (k, v, salt): a delete or a set of
 * one kind with one length and one content. A value names its key and version and carries a
 * checksum, so a reader can tell a torn, mixed, foreign or invented value from a real one. */
enum { RELIA_OP_DELETE = 0 };
#define RELIA_HDR_STR 30 /* "k%08x v%08x l%08x|" */
#define RELIA_HDR_BIN 16 /* u32 k, u32 v, u32 len, u32 check */
#define RELIA_VER_BITS 26
#define RELIA_VER_MAX ((1u << RELIA_VER_BITS) - 1)

typedef struct {
    int kind;   /* RELIA_OP_DELETE or an MMAPOBJ_KIND_* */
    size_t len; /* value length for string/bytes */
} relia_op;

static inline relia_op relia_op_of(uint32_t k, uint32_t v, uint64_t salt, size_t max_extra)
{
    relia_op op;
    uint64_t h = relia_mix(((uint64_t)k << 32 | v) ^ salt);
    unsigned r = (unsigned)(h % 16);
    op.kind = r < 3 ? RELIA_OP_DELETE : r < 6 ? MMAPOBJ_KIND_NUMBER
            : r < 11 ? MMAPOBJ_KIND_STRING : MMAPOBJ_KIND_BYTES;
    uint64_t h2 = relia_mix(h);
    unsigned p = (unsigned)(h2 % 1000);
    uint64_t h3 = relia_mix(h2) >> 8;
    size_t extra = p < 700 ? h3 % 64 : p < 950 ? 64 + h3 % 960 : p < 995 ? 1024 + h3 % 7168
                 : 8192 + h3 % 57344;
    if (extra > max_extra) extra = max_extra;
    op.len = (op.kind == MMAPOBJ_KIND_STRING ? RELIA_HDR_STR : RELIA_HDR_BIN) + extra;
    if (op.kind == MMAPOBJ_KIND_NUMBER) op.len = 8;
    if (op.kind == RELIA_OP_DELETE) op.len = 0;
    return op;
}

static inline double relia_number(uint32_t k, uint32_t v)
{
    return (double)(((uint64_t)k << RELIA_VER_BITS) | v);
}

/* Fills buf (op.len bytes) with the value of a string/bytes op. */
static inline void relia_fill(uint32_t k, uint32_t v, relia_op op, uint64_t salt, unsigned char *buf)
{
    uint64_t h = relia_mix(((uint64_t)k << 32 | v) ^ salt ^ 0x56414Cull);
    size_t i;
    if (op.kind == MMAPOBJ_KIND_STRING) {
        char tmp[RELIA_HDR_STR + 1];
        snprintf(tmp, sizeof tmp, "k%08x v%08x l%08x|", k, v, (unsigned)op.len);
        memcpy(buf, tmp, RELIA_HDR_STR);
        for (i = RELIA_HDR_STR; i < op.len; i++) {
            if ((i & 7) == 0) h = relia_mix(h);
            buf[i] = (unsigned char)(' ' + ((h >> ((i & 7) * 8)) & 0xFF) % 95);
        }
    } else {
        uint32_t hdr[4] = {k, v, (uint32_t)op.len, (uint32_t)relia_mix(h)};
        memcpy(buf, hdr, RELIA_HDR_BIN);
        for (i = RELIA_HDR_BIN; i < op.len; i++) {
            if ((i & 7) == 0) h = relia_mix(h);
            buf[i] = (unsigned char)(h >> ((i & 7) * 8));
        }
    }
}

/* Reads the (key, version) a value claims to be. Returns 1 on success. */
static inline int relia_claim(const mmapobj_value *val, uint32_t *k, uint32_t *v)
{
    if (val->kind == MMAPOBJ_KIND_NUMBER) {
        double d = val->number;
        if (!(d >= 0 && d < 18014398509481984.0)) return 0;
        uint64_t u = (uint64_t)d;
        if ((double)u != d) return 0;
        *k = (uint32_t)(u >> RELIA_VER_BITS);
        *v = (uint32_t)(u & RELIA_VER_MAX);
        return 1;
    }
    if (val->kind == MMAPOBJ_KIND_STRING) {
        if (val->len < RELIA_HDR_STR) return 0;
        char tmp[RELIA_HDR_STR + 1];
        memcpy(tmp, val->data, RELIA_HDR_STR);
        tmp[RELIA_HDR_STR] = 0;
        unsigned a, b, c;
        if (sscanf(tmp, "k%8x v%8x l%8x|", &a, &b, &c) != 3) return 0;
        *k = a;
        *v = b;
        return 1;
    }
    if (val->kind == MMAPOBJ_KIND_BYTES) {
        if (val->len < RELIA_HDR_BIN) return 0;
        uint32_t hdr[4];
        memcpy(hdr, val->data, sizeof hdr);
        *k = hdr[0];
        *v = hdr[1];
        return 1;
    }
    return 0;
}

/* 1 if val is exactly the value written by op (k, v). scratch holds at least the op's length. */
static inline int relia_value_is(const mmapobj_value *val, uint32_t k, uint32_t v, uint64_t salt,
                                 size_t max_extra, unsigned char *scratch)
{
    relia_op op = relia_op_of(k, v, salt, max_extra);
    if (op.kind == RELIA_OP_DELETE || val->kind != op.kind) return 0;
    if (op.kind == MMAPOBJ_KIND_NUMBER) return val->number == relia_number(k, v);
    if (val->len != op.len) return 0;
    relia_fill(k, v, op, salt, scratch);
    if (memcmp(scratch, val->data, op.len) != 0) return 0;
    if (op.kind == MMAPOBJ_KIND_STRING && ((const char *)val->data)[op.len] != 0) return 0;
    return 1;
}

/* Applies op (k, v) through writer w. Returns the library's code (NOTFOUND allowed for delete). */
static inline int relia_apply(mmapobj_map *w, uint32_t k, uint32_t v, uint64_t salt, size_t max_extra,
                              unsigned char *scratch)
{
    char key[RELIA_KEY_MAX];
    size_t klen = relia_key(k, key);
    relia_op op = relia_op_of(k, v, salt, max_extra);
    switch (op.kind) {
    case RELIA_OP_DELETE: {
        int rc = mmapobj_delete(w, key, klen);
        return rc == MMAPOBJ_NOTFOUND ? MMAPOBJ_OK : rc;
    }
    case MMAPOBJ_KIND_NUMBER:
        return mmapobj_set_number(w, key, klen, relia_number(k, v));
    case MMAPOBJ_KIND_STRING:
        relia_fill(k, v, op, salt, scratch);
        return mmapobj_set_string(w, key, klen, scratch, op.len);
    default:
        relia_fill(k, v, op, salt, scratch);
        return mmapobj_set_bytes(w, key, klen, scratch, op.len);
    }
}

#define RELIA_SCRATCH (RELIA_HDR_STR + 65536 + 16)

/* Removes a test directory made by test_dir() and what is in it (one level of subdirectories),
 * after a successful run. Best effort. */
static inline void relia_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1200];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        if (unlink(p) != 0) relia_rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

/* ---- processes ---------------------------------------------------------------------------- */

/* Children are started, waited for and killed through the spawn harness (spawn.h): copies of the
 * test program started with `--child ROLE`, no fork(). */

/* Prints a failure, kills the children and exits 1. */
static inline void relia_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void relia_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_vfail(fmt, ap);
}

#endif
