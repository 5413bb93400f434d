/* base64.c - strict RFC 4648 base64 encoding (streamed to a FILE) and decoding. */
#include "base64.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

int b64_write(FILE *f, const void *data, size_t n)
{
    const unsigned char *p = data;
    char out[4096];
    size_t o = 0;
    size_t i = 0;
    while (i + 3 <= n) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
        i += 3;
        if (o == sizeof out) {
            if (fwrite(out, 1, o, f) != o)
                return -1;
            o = 0;
        }
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    if (o && fwrite(out, 1, o, f) != o)
        return -1;
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long long b64_decode(const char *src, size_t n, unsigned char *dst, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)src;
    if (n % 4 != 0) {
        *bad_at = n;
        return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            if (s[i + j] == '=' && i + 4 == n && j >= 2) {
                /* '=' only in the last quantum, positions 2-3, and "x=" is not allowed. */
                if (j == 2 && s[i + 3] != '=') {
                    *bad_at = i + j;
                    return -1;
                }
                v[j] = 0;
                pad++;
                continue;
            }
            v[j] = b64_value(s[i + j]);
            if (v[j] < 0) {
                *bad_at = i + j;
                return -1;
            }
        }
        unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 |
                     (unsigned)v[3];
        /* Bits that padding drops must be zero, so each byte string has one encoding. */
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF))) {
            *bad_at = i + 3 - (size_t)pad;
            return -1;
        }
        dst[o++] = (unsigned char)(w >> 16);
        if (pad < 2) dst[o++] = (unsigned char)(w >> 8);
        if (pad < 1) dst[o++] = (unsigned char)w;
    }
    return (long long)o;
}
