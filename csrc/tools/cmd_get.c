/* cmd_get.c - `mmapobj get FILE KEY`: prints one value. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jsonout.h"
#include "tool.h"

static int run(int argc, char **argv);

const struct tool_cmd cmd_get = {
    "get", "print the value of one key",
    "Usage: mmapobj get [--raw | --json] [--key-base64] FILE KEY\n"
    "\n"
    "Prints the value stored under KEY, followed by a newline:\n"
    "  string  the bytes as they are\n"
    "  number  in the shortest form that reads back to the same double\n"
    "          (NaN, Infinity, -Infinity for values JSON has no form for)\n"
    "  bytes   base64 (RFC 4648, with padding)\n"
    "\n"
    "Options:\n"
    "  -r, --raw         write a string or bytes value exactly, with no newline and\n"
    "                    no base64 (numbers print as without --raw, minus the newline)\n"
    "  -j, --json        print the pair as one line in the format of 'mmapobj dump'\n"
    "  -b, --key-base64  KEY is given in base64 (for keys with NUL or other bytes\n"
    "                    a command line cannot carry)\n"
    "  -h, --help        show this help\n"
    "Put -- before a KEY that starts with '-': mmapobj get FILE -- -key\n"
    "\n"
    "Exit status: 0 found, 1 KEY is absent, 2 damaged or unsupported file,\n"
    "64 usage, 66 cannot open, 74 write error.\n",
    run,
};

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"raw", no_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"key-base64", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int raw = 0, json = 0, key_b64 = 0, status = 0, c;
    while ((c = tool_getopt(argc, argv, "rjbh", longopts, &cmd_get, &status)) != -1) {
        if (c == -2)
            return status;
        if (c == 'r')
            raw = 1;
        else if (c == 'j')
            json = 1;
        else if (c == 'b')
            key_b64 = 1;
    }
    if (raw && json)
        return tool_usage_error("--raw and --json exclude each other");
    if (argc - optind != 2)
        return tool_usage_error(argc - optind < 2 ? "expected FILE and KEY" : "too many arguments");
    const char *path = argv[optind];
    const char *key = argv[optind + 1];
    size_t klen = strlen(key);
    unsigned char *decoded = NULL;
    if (key_b64) {
        decoded = malloc(klen / 4 * 3 + 1);
        if (!decoded) {
            tool_err("out of memory");
            return EXIT_SOFTWARE;
        }
        size_t bad;
        long long n = b64_decode(key, klen, decoded, &bad);
        if (n < 0) {
            free(decoded);
            return tool_usage_error("KEY is not valid base64 (at character %zu)", bad + 1);
        }
        key = (const char *)decoded;
        klen = (size_t)n;
    }

    int ex = EXIT_OK_;
    mmapobj_map *m = NULL;
    int rc = mmapobj_open(path, &m);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(NULL, rc, path, ROLE_INPUT);
        goto out;
    }
    mmapobj_value v;
    rc = mmapobj_get(m, key, klen, &v);
    if (rc == MMAPOBJ_NOTFOUND) {
        ex = EXIT_ABSENT; /* silent, like grep -q: the status says it */
        goto out;
    }
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(m, rc, path, ROLE_INPUT);
        goto out;
    }
    int wrc = 0;
    if (json) {
        wrc = json_write_record(stdout, key, klen, &v);
    } else if (v.kind == MMAPOBJ_KIND_NUMBER) {
        char nb[32];
        wrc = fputs(fmt_double(nb, v.number), stdout) < 0 ? -1 : 0;
        if (!raw && wrc == 0)
            wrc = putchar('\n') == EOF ? -1 : 0;
    } else if (v.kind == MMAPOBJ_KIND_STRING || raw) {
        if (v.len && fwrite(v.data, 1, v.len, stdout) != v.len)
            wrc = -1;
        if (!raw && wrc == 0)
            wrc = putchar('\n') == EOF ? -1 : 0;
    } else if (v.kind == MMAPOBJ_KIND_BYTES) {
        wrc = b64_write(stdout, v.data, v.len);
        if (wrc == 0)
            wrc = putchar('\n') == EOF ? -1 : 0;
    } else {
        wrc = -2;
    }
    if (wrc == -2) {
        tool_err("%s: value of unknown kind %d", path, (int)v.kind);
        ex = EXIT_CORRUPT;
        goto out;
    }
    ex = tool_finish_stdout();
out:
    mmapobj_close(&m);
    free(decoded);
    return ex;
}
