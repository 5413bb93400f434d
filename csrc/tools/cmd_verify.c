/* cmd_verify.c - `mmapobj verify FILE...`: the library's full consistency walk. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "tool.h"

static int run(int argc, char **argv);

const struct tool_cmd cmd_verify = {
    "verify", "check every structure of a file",
    "Usage: mmapobj verify [-q] FILE...\n"
    "\n"
    "Opens each FILE read-only and walks the whole file: header, hash table,\n"
    "every record, the free lists, the counts and the space accounting. Prints\n"
    "\"FILE: ok (...)\" on stdout for a sound file; for a damaged one prints\n"
    "\"FILE: CORRUPT: <what is wrong, at which offset>\" on stderr.\n"
    "A writer may keep writing during the walk (the walk retries a few times).\n"
    "\n"
    "Options:\n"
    "  -q, --quiet  print nothing for sound files\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 every FILE is sound; 2 a FILE is damaged, is not an mmapobj\n"
    "file, or has a format version this tool cannot read; 64 usage; 66 a FILE\n"
    "cannot be opened (the highest applicable status wins).\n",
    run,
};

/* Verifies one file; returns its exit status. */
static int verify_one(const char *path, int quiet)
{
    mmapobj_map *m = NULL;
    int rc = mmapobj_open(path, &m);
    if (rc != MMAPOBJ_OK) {
        int ex = tool_exit_for(rc, ROLE_INPUT);
        const char *detail = tool_detail(mmapobj_errmsg(NULL), path);
        if (ex == EXIT_CORRUPT)
            tool_err("%s: CORRUPT: %s", path, *detail ? detail : mmapobj_strerror(rc));
        else
            tool_err("%s: %s", path, *detail ? detail : mmapobj_strerror(rc));
        return ex;
    }
    rc = mmapobj_verify(m);
    int ex = EXIT_OK_;
    if (rc == MMAPOBJ_OK) {
        if (!quiet) {
            mmapobj_stats s;
            char a[32], b[32];
            if (mmapobj_stat(m, &s) == MMAPOBJ_OK)
                printf("%s: ok (%s keys, %s bytes)\n", path, fmt_count(a, s.count),
                       fmt_count(b, s.file_size));
            else
                printf("%s: ok\n", path);
        }
    } else {
        ex = tool_exit_for(rc, ROLE_INPUT);
        const char *detail = tool_detail(mmapobj_errmsg(m), path);
        if (strncmp(detail, "verify: ", 8) == 0)
            detail += 8;
        if (ex == EXIT_CORRUPT)
            tool_err("%s: CORRUPT: %s", path, *detail ? detail : mmapobj_strerror(rc));
        else
            tool_err("%s: %s", path, *detail ? detail : mmapobj_strerror(rc));
    }
    mmapobj_close(&m);
    return ex;
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int quiet = 0, status = 0, c;
    while ((c = tool_getopt(argc, argv, "qh", longopts, &cmd_verify, &status)) != -1) {
        if (c == -2)
            return status;
        if (c == 'q')
            quiet = 1;
    }
    if (argc - optind < 1)
        return tool_usage_error("missing FILE");
    int worst = EXIT_OK_;
    for (int i = optind; i < argc; i++) {
        int ex = verify_one(argv[i], quiet);
        if (ex > worst)
            worst = ex;
    }
    int fin = tool_finish_stdout();
    return fin > worst ? fin : worst;
}
