/* cmd_compact.c - `mmapobj compact FILE [OUT]`: copies the live pairs into a fresh,
 * minimal file and (without OUT) atomically puts it in FILE's place. The work is the
 * library's mmapobj_compact: it holds FILE's writer lock without writing to FILE, so the
 * copy is a snapshot; readers that have FILE open keep the old contents. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "progress.h"
#include "tool.h"

static int run(int argc, char **argv);

const struct tool_cmd cmd_compact = {
    "compact", "rewrite the live pairs into a fresh, minimal file",
    "Usage: mmapobj compact [-q] FILE [OUT]\n"
    "\n"
    "Copies every pair of FILE into a new file whose hash table is sized for the\n"
    "number of keys and which holds no free space, then:\n"
    "  without OUT  replaces FILE atomically: the copy is written to a temporary\n"
    "               file in FILE's directory, flushed (fsync), renamed over FILE,\n"
    "               and the directory is fsynced. FILE's permission bits are kept;\n"
    "               if FILE is a symlink, the file it names is replaced.\n"
    "  with OUT     creates OUT the same way; OUT must not exist. FILE is unchanged.\n"
    "Refuses while another process has FILE open for writing, and keeps writers\n"
    "out while it works (it takes the writer lock without writing to FILE).\n"
    "Readers that have FILE open keep reading the old contents; they see the\n"
    "compacted file when they reopen it. FILE is verified first (as by 'mmapobj\n"
    "verify') and a damaged FILE is not compacted. On any failure FILE is left as\n"
    "it was and the temporary file is removed.\n"
    "\n"
    "Options:\n"
    "  -q, --quiet  no summary line\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 ok, 2 FILE damaged or unsupported, 64 usage, 66 cannot open\n"
    "FILE, 73 cannot create the new file (or OUT exists), 74 I/O error, 75 another\n"
    "writer holds FILE, 130 interrupted.\n",
    run,
};

/* The library asks every few thousand pairs whether to go on: not after ^C. */
static int keep_going(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)done;
    (void)total;
    return tool_interrupted != 0;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int quiet = 0, status = 0, ch;
    while ((ch = tool_getopt(argc, argv, "qh", longopts, &cmd_compact, &status)) != -1) {
        if (ch == -2)
            return status;
        if (ch == 'q')
            quiet = 1;
    }
    int npos = argc - optind;
    if (npos < 1 || npos > 2)
        return tool_usage_error(npos < 1 ? "missing FILE" : "too many arguments");
    const char *path = argv[optind];
    const char *out = npos == 2 ? argv[optind + 1] : NULL;
    struct stat ost;
    if (out && lstat(out, &ost) == 0) {
        tool_err("%s exists; compact writes a new file (remove it, or omit OUT to compact "
                 "%s in place)", out, path);
        return EXIT_CANTCREAT;
    }
    tool_catch_signals(); /* from here on ^C stops the copy, which cleans up */
    mmapobj_compact_info info;
    int rc = mmapobj_compact(path, out, keep_going, NULL, &info);
    if (info.repaired)
        tool_err("note: %s was left by a writer that died while writing; repaired it first",
                 path);
    if (rc == MMAPOBJ_E_CANCELED || (rc != MMAPOBJ_OK && tool_interrupted)) {
        tool_err("interrupted (signal %d); %s is unchanged", (int)tool_interrupted, path);
        return EXIT_INTERRUPTED;
    }
    if (rc == MMAPOBJ_E_INVAL && info.output) { /* OUT appeared meanwhile */
        tool_err("%s exists; not replacing it", out);
        return EXIT_CANTCREAT;
    }
    if (rc == MMAPOBJ_E_BUSY) { /* FILE was replaced while compact opened it */
        tool_lib_fail(NULL, rc, path, ROLE_INPUT);
        return EXIT_TEMPFAIL;
    }
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(NULL, rc, info.output ? (out ? out : path) : path,
                             info.output ? ROLE_OUTPUT : ROLE_INPUT);
    if (!quiet) {
        char a[32], b[32], k[32];
        if (out)
            printf("%s: %s keys copied into %s: %s bytes -> %s bytes\n", path,
                   fmt_count(k, info.keys), out, fmt_count(a, info.old_size),
                   fmt_count(b, info.new_size));
        else
            printf("%s: compacted %s keys: %s bytes -> %s bytes\n", path,
                   fmt_count(k, info.keys), fmt_count(a, info.old_size),
                   fmt_count(b, info.new_size));
    }
    return tool_finish_stdout();
}
