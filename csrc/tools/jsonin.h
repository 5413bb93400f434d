/* jsonin.h - a small, strict parser for one line of the JSON Lines format that
 * `mmapobj dump` writes and `mmapobj load` reads (see docs/CLI.md). */
#ifndef MMAPOBJ_TOOL_JSONIN_H
#define MMAPOBJ_TOOL_JSONIN_H

#include <stddef.h>

/* A growable byte buffer. */
struct jbuf {
    unsigned char *p;
    size_t len;
    size_t cap;
};

/* One parsed record. Buffers are reused from line to line. */
struct jrecord {
    struct jbuf key;
    int kind;          /* enum mmapobj_kind */
    struct jbuf val;   /* string / bytes */
    double number;     /* number */
    struct jbuf tmp;   /* scratch (base64 text, member names) */
};

void jrecord_free(struct jrecord *r);

/* Parses line[0..n), which must be followed by a NUL at line[n], as exactly one
 * object {"key"|"key_base64": ..., "string"|"string_base64"|"number"|"bytes": ...}
 * with optional JSON whitespace around tokens. Returns 0 on success; -1 on a
 * syntax or content error with a message in err and the 1-based byte column in
 * *col; -2 when memory ran out. */
int jsonl_parse(const char *line, size_t n, struct jrecord *r, char *err, size_t errcap,
                size_t *col);

#endif
