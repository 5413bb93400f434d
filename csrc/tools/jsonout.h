/* jsonout.h - JSON output of the tool: UTF-8 validation, string escaping, shortest
 * round-trip numbers, and the JSON Lines records of `keys` and `dump`. */
#ifndef MMAPOBJ_TOOL_JSONOUT_H
#define MMAPOBJ_TOOL_JSONOUT_H

#include <stddef.h>
#include <stdio.h>

#include "mmapobj.h"

/* 1 if s[0..n) is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), else 0. NUL bytes are well-formed. */
int utf8_valid(const void *s, size_t n);

/* Length of the longest well-formed prefix of s[0..n) that ends on a character boundary. */
size_t utf8_valid_prefix(const void *s, size_t n);

/* Writes s[0..n) (well-formed UTF-8) as a JSON string with quotes: '"', '\\' and
 * control characters escaped, everything else raw. 0, or -1 on a write error. */
int json_write_string(FILE *f, const void *s, size_t n);

/* Formats d in the shortest form that strtod reads back to the same bits
 * ("0.1", "-0", "1e+300", "5e-324"). NaN, +inf and -inf give "NaN", "Infinity"
 * and "-Infinity". buf must hold 32 bytes. Returns buf. */
const char *fmt_double(char buf[32], double d);

/* Writes one JSON Lines record and '\n':
 *   {"key":K}                              when val is NULL (keys), else
 *   {"key":K,"string":S} / {"key":K,"number":N} / {"key":K,"bytes":B64}
 * A key or string that is not well-formed UTF-8 is written as "key_base64" /
 * "string_base64" with the bytes in base64. Numbers that JSON cannot express
 * are written as the strings "NaN", "Infinity", "-Infinity".
 * Returns 0, -1 on a write error, -2 for a value of unknown kind. */
int json_write_record(FILE *f, const void *key, size_t klen, const mmapobj_value *val);

#endif
