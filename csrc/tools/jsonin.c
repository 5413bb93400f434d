/* jsonin.c - strict parser for the tool's JSON Lines records (input of `load`).
 * Accepts exactly the JSON grammar (RFC 8259) for the tokens it meets, decodes
 * strings to UTF-8 bytes (rejecting malformed UTF-8 and lone surrogates) and
 * maps the members onto a key and a typed value. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jsonin.h"
#include "jsonout.h"
#include "mmapobj.h"

struct parser {
    const unsigned char *s;
    size_t n;
    size_t i;
    char *err;
    size_t errcap;
    size_t *col;
    int nomem;
};

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errcap, fmt, ap);
    va_end(ap);
    *p->col = at + 1;
    return -1;
}

static int nomem(struct parser *p)
{
    p->nomem = 1;
    snprintf(p->err, p->errcap, "out of memory");
    *p->col = p->i + 1;
    return -1;
}

void jrecord_free(struct jrecord *r)
{
    free(r->key.p);
    free(r->val.p);
    free(r->tmp.p);
    memset(r, 0, sizeof *r);
}

static int jbuf_reserve(struct jbuf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *np = realloc(b->p, cap);
    if (!np)
        return -1;
    b->p = np;
    b->cap = cap;
    return 0;
}

static int jbuf_add(struct jbuf *b, const void *data, size_t n)
{
    if (jbuf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        p->i++;
    }
}

static int hex4(struct parser *p, size_t at, uint32_t *out)
{
    if (p->n - at < 4)
        return fail_at(p, at, "truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p->s[at + (size_t)k];
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return fail_at(p, at + (size_t)k, "bad hex digit in \\u escape");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static int add_codepoint(struct jbuf *b, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp; n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6); u[1] = (unsigned char)(0x80 | (cp & 63)); n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        u[2] = (unsigned char)(0x80 | (cp & 63)); n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18); u[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)); u[3] = (unsigned char)(0x80 | (cp & 63));
        n = 4;
    }
    return jbuf_add(b, u, n);
}

/* Parses a JSON string at p->i (which must be '"') into b (replacing its content). */
static int parse_string(struct parser *p, struct jbuf *b)
{
    b->len = 0;
    if (p->i >= p->n || p->s[p->i] != '"')
        return fail_at(p, p->i, "expected a string");
    size_t start_quote = p->i;
    p->i++;
    size_t run = p->i;
    for (;;) {
        if (p->i >= p->n)
            return fail_at(p, start_quote, "unterminated string");
        unsigned char c = p->s[p->i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            p->i++;
            continue;
        }
        /* Flush the raw run before the special character; it must be UTF-8. */
        if (p->i > run) {
            size_t ok = utf8_valid_prefix(p->s + run, p->i - run);
            if (ok != p->i - run) {
                return fail_at(p, run + ok, "string is not valid UTF-8 "
                                      "(use \"key_base64\"/\"string_base64\" for such bytes)");
            }
            if (jbuf_add(b, p->s + run, p->i - run) < 0)
                return nomem(p);
        }
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20)
            return fail_at(p, p->i, "unescaped control character 0x%02x in string", c);
        /* backslash */
        size_t esc = p->i;
        if (p->i + 1 >= p->n)
            return fail_at(p, esc, "unterminated escape");
        unsigned char e = p->s[p->i + 1];
        p->i += 2;
        char one = 0;
        switch (e) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (hex4(p, p->i, &cp) < 0)
                return -1;
            p->i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_at(p, esc, "lone low surrogate \\u%04X", (unsigned)cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->n - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                    return fail_at(p, esc, "high surrogate \\u%04X not followed by a low one",
                                   (unsigned)cp);
                if (hex4(p, p->i + 2, &lo) < 0)
                    return -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail_at(p, esc, "high surrogate \\u%04X not followed by a low one",
                                   (unsigned)cp);
                p->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (add_codepoint(b, cp) < 0)
                return nomem(p);
            break;
        }
        default:
            return fail_at(p, esc, "bad escape '\\%c'", e >= 0x20 && e < 0x7F ? e : '?');
        }
        if (one && jbuf_add(b, &one, 1) < 0)
            return nomem(p);
        run = p->i;
    }
}

/* Decodes the base64 text in r->tmp into dst. */
static int decode_b64(struct parser *p, size_t at, struct jbuf *src, struct jbuf *dst)
{
    dst->len = 0;
    if (jbuf_reserve(dst, src->len / 4 * 3 + 1) < 0)
        return nomem(p);
    size_t bad;
    long long n = b64_decode((const char *)src->p, src->len, dst->p, &bad);
    if (n < 0)
        return fail_at(p, at, "bad base64 at character %zu of the string", bad + 1);
    dst->len = (size_t)n;
    return 0;
}

static int parse_number(struct parser *p, double *out)
{
    size_t start = p->i, i = p->i;
    const unsigned char *s = p->s;
    if (i < p->n && s[i] == '-')
        i++;
    if (i >= p->n || s[i] < '0' || s[i] > '9')
        return fail_at(p, start, "expected a number or \"NaN\", \"Infinity\", \"-Infinity\"");
    if (s[i] == '0') {
        i++;
    } else {
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->n && s[i] == '.') {
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return fail_at(p, i, "expected a digit after '.'");
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return fail_at(p, i, "expected a digit in the exponent");
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    /* The line is NUL-terminated and the next byte cannot extend a JSON number, so
     * strtod stops where the grammar did; check anyway. */
    errno = 0;
    char *end;
    double d = strtod((const char *)s + start, &end);
    if ((const unsigned char *)end != s + i)
        return fail_at(p, start, "malformed number");
    if (errno == ERANGE && isinf(d))
        return fail_at(p, start, "number out of the range of a double");
    *out = d;
    p->i = i;
    return 0;
}

enum member { M_KEY, M_KEY_B64, M_STRING, M_STRING_B64, M_NUMBER, M_BYTES, M_UNKNOWN };

static enum member member_of(const struct jbuf *b)
{
    static const char *const names[] = {"key", "key_base64", "string", "string_base64",
                                        "number", "bytes"};
    for (int k = 0; k < M_UNKNOWN; k++) {
        size_t len = strlen(names[k]);
        if (b->len == len && memcmp(b->p, names[k], len) == 0)
            return (enum member)k;
    }
    return M_UNKNOWN;
}

int jsonl_parse(const char *line, size_t n, struct jrecord *r, char *err, size_t errcap,
                size_t *col)
{
    struct parser ps = {(const unsigned char *)line, n, 0, err, errcap, col, 0};
    struct parser *p = &ps;
    int have_key = 0;
    int rc = -1;
    r->kind = MMAPOBJ_KIND_NONE;
    r->key.len = 0;
    r->val.len = 0;

    skip_ws(p);
    if (p->i >= p->n || p->s[p->i] != '{') {
        fail_at(p, p->i, "expected '{' at the start of a record");
        goto out;
    }
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        fail_at(p, p->i, "empty object: a record needs \"key\" and a value");
        goto out;
    }
    for (;;) {
        skip_ws(p);
        size_t name_at = p->i;
        if (p->i >= p->n || p->s[p->i] != '"') {
            fail_at(p, p->i, "expected a member name in double quotes");
            goto out;
        }
        if (parse_string(p, &r->tmp) < 0)
            goto out;
        enum member m = member_of(&r->tmp);
        if (m == M_UNKNOWN) {
            fail_at(p, name_at, "unknown member (expected \"key\", \"key_base64\", \"string\", "
                                "\"string_base64\", \"number\" or \"bytes\")");
            goto out;
        }
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            fail_at(p, p->i, "expected ':' after the member name");
            goto out;
        }
        p->i++;
        skip_ws(p);
        size_t val_at = p->i;
        if (m == M_KEY || m == M_KEY_B64) {
            if (have_key) {
                fail_at(p, name_at, "more than one key member");
                goto out;
            }
            have_key = 1;
        } else if (r->kind != MMAPOBJ_KIND_NONE) {
            fail_at(p, name_at, "more than one value member");
            goto out;
        }
        switch (m) {
        case M_KEY:
            if (parse_string(p, &r->key) < 0)
                goto out;
            break;
        case M_STRING:
            if (parse_string(p, &r->val) < 0)
                goto out;
            r->kind = MMAPOBJ_KIND_STRING;
            break;
        case M_KEY_B64:
        case M_STRING_B64:
        case M_BYTES:
            if (parse_string(p, &r->tmp) < 0 ||
                decode_b64(p, val_at, &r->tmp, m == M_KEY_B64 ? &r->key : &r->val) < 0)
                goto out;
            if (m == M_STRING_B64)
                r->kind = MMAPOBJ_KIND_STRING;
            else if (m == M_BYTES)
                r->kind = MMAPOBJ_KIND_BYTES;
            break;
        case M_NUMBER:
            if (p->i < p->n && p->s[p->i] == '"') {
                if (parse_string(p, &r->tmp) < 0)
                    goto out;
                if (r->tmp.len == 3 && memcmp(r->tmp.p, "NaN", 3) == 0)
                    r->number = NAN;
                else if (r->tmp.len == 8 && memcmp(r->tmp.p, "Infinity", 8) == 0)
                    r->number = INFINITY;
                else if (r->tmp.len == 9 && memcmp(r->tmp.p, "-Infinity", 9) == 0)
                    r->number = -INFINITY;
                else {
                    fail_at(p, val_at, "a number in quotes must be \"NaN\", \"Infinity\" or "
                                       "\"-Infinity\"");
                    goto out;
                }
            } else if (parse_number(p, &r->number) < 0) {
                goto out;
            }
            r->kind = MMAPOBJ_KIND_NUMBER;
            break;
        default:
            break;
        }
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') {
            p->i++;
            break;
        }
        fail_at(p, p->i, "expected ',' or '}'");
        goto out;
    }
    skip_ws(p);
    if (p->i < p->n) {
        fail_at(p, p->i, "unexpected text after the record");
        goto out;
    }
    if (!have_key) {
        fail_at(p, 0, "record has no \"key\" (or \"key_base64\") member");
        goto out;
    }
    if (r->kind == MMAPOBJ_KIND_NONE) {
        fail_at(p, 0, "record has no value member (\"string\", \"string_base64\", \"number\" "
                      "or \"bytes\")");
        goto out;
    }
    rc = 0;
out:
    if (rc < 0 && ps.nomem)
        rc = -2;
    return rc;
}
