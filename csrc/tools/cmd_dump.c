/* cmd_dump.c - `mmapobj keys FILE` and `mmapobj dump FILE`: every key / every
 * pair as JSON Lines, streamed through an iterator in constant memory. */
#include <getopt.h>
#include <stdio.h>

#include "jsonout.h"
#include "tool.h"

static int run_keys(int argc, char **argv);
static int run_dump(int argc, char **argv);

const struct tool_cmd cmd_keys = {
    "keys", "list every key as JSON Lines",
    "Usage: mmapobj keys FILE\n"
    "\n"
    "Writes one line {\"key\":\"...\"} per key, in table order (no order is\n"
    "promised). A key that is not well-formed UTF-8 is written as\n"
    "{\"key_base64\":\"...\"}. Streams in constant memory; a writer may go on\n"
    "writing meanwhile (keys present for the whole run are listed exactly once).\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 ok, 2 damaged or unsupported file, 64 usage, 66 cannot open,\n"
    "74 write error.\n",
    run_keys,
};

const struct tool_cmd cmd_dump = {
    "dump", "write every pair as JSON Lines (input of 'load')",
    "Usage: mmapobj dump FILE\n"
    "\n"
    "Writes one JSON object per line and per pair, in table order:\n"
    "  {\"key\":\"k\",\"string\":\"text\"}\n"
    "  {\"key\":\"k\",\"number\":0.1}     (shortest round-trip form; -0 is -0;\n"
    "                                   NaN/Infinity/-Infinity as JSON strings)\n"
    "  {\"key\":\"k\",\"bytes\":\"AAEC\"}     (base64, RFC 4648, padded)\n"
    "Keys and strings that are not well-formed UTF-8 are written as\n"
    "\"key_base64\" / \"string_base64\" (base64 of the exact bytes) instead.\n"
    "NUL and other control characters in JSON strings are \\u escaped.\n"
    "'mmapobj load' reads this format back. Streams in constant memory; a writer\n"
    "may go on writing meanwhile (pairs present for the whole run are written\n"
    "exactly once).\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 ok, 2 damaged or unsupported file, 64 usage, 66 cannot open,\n"
    "74 write error.\n",
    run_dump,
};

static int run_common(int argc, char **argv, const struct tool_cmd *cmd, int with_values)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int status = 0, c;
    while ((c = tool_getopt(argc, argv, "h", longopts, cmd, &status)) != -1)
        if (c == -2)
            return status;
    if (argc - optind != 1)
        return tool_usage_error(argc - optind < 1 ? "missing FILE" : "too many arguments");
    const char *path = argv[optind];

    mmapobj_map *m = NULL;
    mmapobj_iter *it = NULL;
    int ex = EXIT_OK_;
    int rc = mmapobj_open(path, &m);
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(NULL, rc, path, ROLE_INPUT);
    rc = mmapobj_iter_open(m, &it);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(m, rc, path, ROLE_INPUT);
        goto out;
    }
    for (;;) {
        const void *key;
        size_t klen;
        mmapobj_value v;
        rc = mmapobj_iter_next(it, &key, &klen, with_values ? &v : NULL);
        if (rc == 0)
            break;
        if (rc < 0) {
            ex = tool_lib_fail(m, rc, path, ROLE_INPUT);
            goto out;
        }
        int w = json_write_record(stdout, key, klen, with_values ? &v : NULL);
        if (w == -2) {
            tool_err("%s: value of unknown kind %d", path, (int)v.kind);
            ex = EXIT_CORRUPT;
            goto out;
        }
        if (w < 0)
            break; /* reported by tool_finish_stdout */
    }
    ex = tool_finish_stdout();
out:
    mmapobj_iter_close(&it);
    mmapobj_close(&m);
    return ex;
}

static int run_keys(int argc, char **argv)
{
    return run_common(argc, argv, &cmd_keys, 0);
}

static int run_dump(int argc, char **argv)
{
    return run_common(argc, argv, &cmd_dump, 1);
}
