/* progress.c - draws "  1,234,567 pairs  412,345/s  [#####     ]  48%  ETA 0:07" on
 * stderr with carriage returns, only when stderr is a terminal. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "tool.h"

const char *fmt_count(char *buf, uint64_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void progress_begin(struct progress *pg, int want, uint64_t total_bytes)
{
    memset(pg, 0, sizeof *pg);
    pg->enabled = want && isatty(STDERR_FILENO);
    pg->start = tool_now();
    pg->last_draw = pg->start - 1; /* the first update draws at once */
    pg->total_bytes = total_bytes;
}

static void fmt_duration(char *buf, size_t cap, double secs)
{
    if (secs < 0 || secs > 360000)
        snprintf(buf, cap, "--:--");
    else if (secs >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", (int)secs / 3600, (int)secs / 60 % 60, (int)secs % 60);
    else
        snprintf(buf, cap, "%d:%02d", (int)secs / 60, (int)secs % 60);
}

void progress_update(struct progress *pg, uint64_t items, uint64_t bytes_done)
{
    if (!pg->enabled)
        return;
    double now = tool_now();
    if (now - pg->last_draw < 0.125)
        return;
    pg->last_draw = now;
    double elapsed = now - pg->start;
    char cnt[32], rate[32], line[512];
    fmt_count(cnt, items);
    fmt_count(rate, elapsed > 0 ? (uint64_t)((double)items / elapsed) : 0);
    int width = term_width();
    int o = snprintf(line, sizeof line, "  %s pairs  %s/s", cnt, rate);
    if (pg->total_bytes) {
        double frac = (double)bytes_done / (double)pg->total_bytes;
        if (frac > 1)
            frac = 1;
        char eta[32];
        fmt_duration(eta, sizeof eta, frac > 0 ? elapsed * (1 - frac) / frac : -1);
        char tail[64];
        int tlen = snprintf(tail, sizeof tail, "  %3d%%  ETA %s", (int)(frac * 100), eta);
        int bar = width - 1 - o - tlen - 4;
        if (bar > 50)
            bar = 50;
        if (bar >= 5) {
            int fill = (int)(frac * bar);
            o += snprintf(line + o, sizeof line - (size_t)o, "  [");
            for (int k = 0; k < bar; k++)
                line[o++] = k < fill ? '#' : ' ';
            line[o++] = ']';
            line[o] = 0;
        }
        o += snprintf(line + o, sizeof line - (size_t)o, "%s", tail);
    } else {
        char mb[32];
        snprintf(mb, sizeof mb, "  %.1f MiB read", (double)bytes_done / 1048576.0);
        o += snprintf(line + o, sizeof line - (size_t)o, "%s", mb);
    }
    if (o > width - 1)
        line[width - 1] = 0;
    /* \r, the line, then erase whatever an older, longer line left. */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    pg->drawn = 1;
}

void progress_end(struct progress *pg)
{
    if (pg->enabled && pg->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    pg->drawn = 0;
}
