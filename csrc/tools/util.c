/* util.c - error reporting, exit-code mapping, option and size parsing, signal
 * handling: the helpers shared by every command of the mmapobj tool. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char *tool_cmd_name = NULL;
volatile sig_atomic_t tool_interrupted = 0;

static void on_signal(int sig)
{
    tool_interrupted = sig;
}

void tool_catch_signals(void)
{
    /* No SA_RESTART: a blocking read on a pipe returns EINTR so the loop can stop. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void vmsg(const char *fmt, va_list ap)
{
    fflush(stdout);
    if (tool_cmd_name)
        fprintf(stderr, "mmapobj %s: ", tool_cmd_name);
    else
        fputs("mmapobj: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

int tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    if (tool_cmd_name)
        fprintf(stderr, "Try 'mmapobj %s --help'.\n", tool_cmd_name);
    else
        fputs("Try 'mmapobj --help'.\n", stderr);
    return EXIT_USAGE;
}

int tool_exit_for(int rc, enum tool_role role)
{
    switch (rc) {
    case MMAPOBJ_OK:
        return EXIT_OK_;
    case MMAPOBJ_NOTFOUND:
        return EXIT_ABSENT;
    case MMAPOBJ_E_NOENT:
    case MMAPOBJ_E_ACCESS:
    case MMAPOBJ_E_NOTREG:
        return role == ROLE_INPUT ? EXIT_NOINPUT : EXIT_CANTCREAT;
    case MMAPOBJ_E_LOCKED:
    case MMAPOBJ_E_BUSY:
        return EXIT_TEMPFAIL;
    case MMAPOBJ_E_IO:
    case MMAPOBJ_E_NOSPC:
    case MMAPOBJ_E_FULL:
    case MMAPOBJ_E_RESERVE:
        return EXIT_IOERR;
    case MMAPOBJ_E_BADMAGIC:
    case MMAPOBJ_E_MAJOR:
    case MMAPOBJ_E_MINOR:
    case MMAPOBJ_E_TOOSMALL:
    case MMAPOBJ_E_CORRUPT:
    case MMAPOBJ_E_LAYOUT:
        return EXIT_CORRUPT;
    case MMAPOBJ_E_TOOBIG:
        return EXIT_DATAERR;
    default:
        return EXIT_SOFTWARE;
    }
}

const char *tool_detail(const char *msg, const char *path)
{
    if (!msg)
        return "";
    if (strncmp(msg, "mmapobj: ", 9) == 0)
        msg += 9;
    if (path) {
        size_t n = strlen(path);
        if (msg[0] == '\'' && strncmp(msg + 1, path, n) == 0 && strncmp(msg + 1 + n, "': ", 3) == 0)
            msg += n + 4;
    }
    return msg;
}

int tool_lib_fail(const mmapobj_map *m, int rc, const char *what, enum tool_role role)
{
    const char *detail = tool_detail(mmapobj_errmsg(m), NULL);
    if (detail && *detail)
        tool_err("%s", detail);
    else
        tool_err("%s: %s", what, mmapobj_strerror(rc));
    return tool_exit_for(rc, role);
}

int tool_print_help(const struct tool_cmd *cmd)
{
    fputs(cmd->help, stdout);
    return tool_finish_stdout();
}

int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                const struct tool_cmd *cmd, int *status)
{
    /* A leading ':' makes getopt_long return ':' for a missing argument. */
    char opts[64];
    snprintf(opts, sizeof opts, ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (c == 'h') {
        *status = tool_print_help(cmd);
        return -2;
    }
    if (c == ':') {
        *status = tool_usage_error("option '%s' needs an argument", argv[optind - 1]);
        return -2;
    }
    if (c == '?') {
        const char *arg = argv[optind - 1];
        if (optopt && arg[0] == '-' && arg[1] != '-')
            *status = tool_usage_error("unknown option '-%c'", optopt);
        else
            *status = tool_usage_error("unknown option '%s'", arg);
        return -2;
    }
    return c;
}

int tool_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return -1;
        }
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
        if (*end)
            return -1;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int tool_finish_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = errno;
        tool_err("writing standard output: %s", strerror(e ? e : EIO));
        return EXIT_IOERR;
    }
    return 0;
}

double tool_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
