/* progress.h - a one-line progress display on a terminal (stderr) for long
 * commands: item count, rate, and percentage + ETA when the total is known. */
#ifndef MMAPOBJ_TOOL_PROGRESS_H
#define MMAPOBJ_TOOL_PROGRESS_H

#include <stdint.h>

struct progress {
    int enabled;        /* drawing at all (stderr is a terminal and not quiet) */
    double start;       /* tool_now() at begin */
    double last_draw;
    uint64_t total_bytes; /* 0 when unknown */
    int drawn;          /* something is on the line and must be cleared */
};

/* Starts a display; enabled only when `want` and stderr is a terminal. */
void progress_begin(struct progress *pg, int want, uint64_t total_bytes);

/* Redraws at most ~8 times a second; cheap to call often. */
void progress_update(struct progress *pg, uint64_t items, uint64_t bytes_done);

/* Erases the line (so a summary can follow). */
void progress_end(struct progress *pg);

/* Formats n with thousands separators into buf (>= 32 bytes). */
const char *fmt_count(char *buf, uint64_t n);

#endif
