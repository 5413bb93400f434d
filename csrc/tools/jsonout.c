/* jsonout.c - writes keys and values as JSON: strict UTF-8 check, string
 * escaping, shortest round-trip doubles, and the JSON Lines record format. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jsonout.h"

size_t utf8_valid_prefix(const void *str, size_t n)
{
    const unsigned char *s = str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2; cp = c & 0x1F; min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3; cp = c & 0x0F; min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4; cp = c & 0x07; min = 0x10000;
        } else {
            return i; /* continuation byte, C0/C1 overlong lead, or F5..FF */
        }
        if (n - i < len)
            return i;
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

int utf8_valid(const void *s, size_t n)
{
    return utf8_valid_prefix(s, n) == n;
}

int json_write_string(FILE *f, const void *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = str;
    if (putc('"', f) == EOF)
        return -1;
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (i > run && fwrite(s + run, 1, i - run, f) != i - run)
            return -1;
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            elen = 6;
        }
        if (fwrite(esc, 1, elen, f) != elen)
            return -1;
    }
    if (n > run && fwrite(s + run, 1, n - run, f) != n - run)
        return -1;
    return putc('"', f) == EOF ? -1 : 0;
}

const char *fmt_double(char buf[32], double d)
{
    if (isnan(d))
        return strcpy(buf, "NaN");
    if (isinf(d))
        return strcpy(buf, d > 0 ? "Infinity" : "-Infinity");
    /* Fewest significant digits that read back to the same bits. The C locale is in
     * effect (the tool never calls setlocale), so '.' is the decimal point. */
    char e[40];
    /* Round-tripping is monotonic in the digit count (rounding to p+1 digits is at
     * least as close as to p digits), so binary-search it; 17 digits always do. */
    int lo = 0, hi = 16;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(e, sizeof e, "%.*e", mid, d);
        double back = strtod(e, NULL);
        if (memcmp(&back, &d, sizeof d) == 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(e, sizeof e, "%.*e", hi, d);
    /* e is "[-]D[.DDD]e(+|-)XX": collect the digits and the exponent. */
    char digits[24] = {0};
    int nd = 0, o = 0;
    const char *p = e;
    if (*p == '-')
        buf[o++] = *p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    /* Lay it out the way JavaScript's Number#toString does (plain notation for
     * 1e-6 <= |d| < 1e21), so dumps look like JSON.stringify output; -0 stays "-0". */
    if (exp >= -6 && exp < 21) {
        if (exp >= 0) {
            for (int k = 0; k <= exp || k < nd; k++) {
                if (k == exp + 1)
                    buf[o++] = '.';
                buf[o++] = k < nd ? digits[k] : '0';
            }
        } else {
            buf[o++] = '0';
            buf[o++] = '.';
            for (int k = 0; k < -exp - 1; k++)
                buf[o++] = '0';
            for (int k = 0; k < nd; k++)
                buf[o++] = digits[k];
        }
        buf[o] = 0;
    } else {
        buf[o++] = digits[0];
        if (nd > 1) {
            buf[o++] = '.';
            for (int k = 1; k < nd; k++)
                buf[o++] = digits[k];
        }
        snprintf(buf + o, (size_t)(32 - o), "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    return buf;
}

static int write_member_bytes(FILE *f, const char *name, const char *name_b64, const void *p,
                              size_t n, int text)
{
    if (text && utf8_valid(p, n)) {
        if (fprintf(f, "\"%s\":", name) < 0 || json_write_string(f, p, n) < 0)
            return -1;
        return 0;
    }
    if (fprintf(f, "\"%s\":\"", name_b64) < 0 || b64_write(f, p, n) < 0 || putc('"', f) == EOF)
        return -1;
    return 0;
}

int json_write_record(FILE *f, const void *key, size_t klen, const mmapobj_value *val)
{
    if (putc('{', f) == EOF || write_member_bytes(f, "key", "key_base64", key, klen, 1) < 0)
        return -1;
    if (val) {
        if (putc(',', f) == EOF)
            return -1;
        switch (val->kind) {
        case MMAPOBJ_KIND_STRING:
            if (write_member_bytes(f, "string", "string_base64", val->data, val->len, 1) < 0)
                return -1;
            break;
        case MMAPOBJ_KIND_NUMBER: {
            char nb[32];
            fmt_double(nb, val->number);
            int quoted = isnan(val->number) || isinf(val->number);
            if (fprintf(f, quoted ? "\"number\":\"%s\"" : "\"number\":%s", nb) < 0)
                return -1;
            break;
        }
        case MMAPOBJ_KIND_BYTES:
            if (write_member_bytes(f, "bytes", "bytes", val->data, val->len, 0) < 0)
                return -1;
            break;
        default:
            return -2;
        }
    }
    if (putc('}', f) == EOF || putc('\n', f) == EOF)
        return -1;
    return 0;
}
