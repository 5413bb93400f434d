/* tool.h - shared declarations of the mmapobj command-line tool: exit codes, the
 * command table, error reporting and small helpers used by every command. */
#ifndef MMAPOBJ_TOOL_H
#define MMAPOBJ_TOOL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmapobj.h"

/* Exit statuses (sysexits.h values where one fits; documented in docs/CLI.md). */
enum tool_exit {
    EXIT_OK_ = 0,
    EXIT_ABSENT = 1,    /* get: the key is not in the map */
    EXIT_CORRUPT = 2,   /* the file is damaged or not a (supported) mmapobj file */
    EXIT_USAGE = 64,    /* bad command line (EX_USAGE) */
    EXIT_DATAERR = 65,  /* load: malformed input line (EX_DATAERR) */
    EXIT_NOINPUT = 66,  /* cannot open an input file (EX_NOINPUT) */
    EXIT_SOFTWARE = 70, /* unexpected internal error (EX_SOFTWARE) */
    EXIT_CANTCREAT = 73,/* cannot create an output file (EX_CANTCREAT) */
    EXIT_IOERR = 74,    /* I/O error: read/write/fsync/rename failed, disk or size limit full */
    EXIT_TEMPFAIL = 75, /* another writer holds the file; try again later (EX_TEMPFAIL) */
    EXIT_INTERRUPTED = 130 /* stopped by SIGINT/SIGTERM/SIGHUP */
};

/* How a failed open is classified: a file we read from (66) or one we create (73). */
enum tool_role { ROLE_INPUT, ROLE_OUTPUT };

/* One command: its name, a one-line summary, its help text and its entry point. */
struct tool_cmd {
    const char *name;
    const char *summary;
    const char *help;
    int (*run)(int argc, char **argv);
};

extern const struct tool_cmd cmd_stat, cmd_get, cmd_keys, cmd_dump, cmd_load, cmd_verify,
    cmd_compact;

/* The command running now ("stat", ...), used as the prefix of messages. */
extern const char *tool_cmd_name;

/* Set by the SIGINT/SIGTERM/SIGHUP handler installed by tool_catch_signals(). */
extern volatile sig_atomic_t tool_interrupted;
void tool_catch_signals(void);

/* "mmapobj CMD: message\n" on stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a failed library call: the library's detail for `m` (or the thread's
 * last detail when m is NULL), falling back to "what: strerror(rc)". Returns the
 * exit status for rc in the given role. */
int tool_lib_fail(const mmapobj_map *m, int rc, const char *what, enum tool_role role);

/* The library's detail message without its "mmapobj: " prefix (our messages carry
 * their own) and, when path is not NULL, without the "'<path>': " that follows it. */
const char *tool_detail(const char *msg, const char *path);

/* Exit status for a library code. */
int tool_exit_for(int rc, enum tool_role role);

/* Prints "mmapobj CMD: msg\nTry 'mmapobj CMD --help'.\n" and returns EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the command's help to stdout; returns 0. */
int tool_print_help(const struct tool_cmd *cmd);

/* Handles the options every command has (-h/--help) and rejects unknown options.
 * Options the command knows are listed in `known` as getopt_long entries. Returns
 * the next option character, -1 at the end of options, or -2 when the caller
 * must return *status (help printed or usage error). */
struct option;
int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                const struct tool_cmd *cmd, int *status);

/* Parses a size with an optional K/M/G/T suffix (powers of 1024). 0 on success. */
int tool_parse_size(const char *s, uint64_t *out);

/* Flushes stdout; on a write error reports it and returns EXIT_IOERR, else 0. */
int tool_finish_stdout(void);

/* Monotonic clock in seconds. */
double tool_now(void);

#endif
