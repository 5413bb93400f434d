/* base64.h - RFC 4648 base64 (standard alphabet, with padding) for the tool's
 * JSON output and input. */
#ifndef MMAPOBJ_TOOL_BASE64_H
#define MMAPOBJ_TOOL_BASE64_H

#include <stddef.h>
#include <stdio.h>

/* Length of the encoding of n bytes. */
size_t b64_encoded_len(size_t n);

/* Writes the encoding of data[0..n) to f. Returns 0, or -1 on a write error. */
int b64_write(FILE *f, const void *data, size_t n);

/* Decodes src[0..n) strictly (no whitespace, padding required, unused bits
 * zero) into dst, which must hold n / 4 * 3 bytes. Returns the decoded length,
 * or -1 with *bad_at set to the offset of the first bad character. */
long long b64_decode(const char *src, size_t n, unsigned char *dst, size_t *bad_at);

#endif
