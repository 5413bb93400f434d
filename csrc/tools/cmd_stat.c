/* cmd_stat.c - `mmapobj stat [--json] FILE`: format version, sizes, counts,
 * table geometry and writer lock state of a map file. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "jsonout.h"
#include "progress.h"
#include "tool.h"

static int run(int argc, char **argv);

const struct tool_cmd cmd_stat = {
    "stat", "show sizes, counts, table geometry and writer lock state",
    "Usage: mmapobj stat [--json] FILE\n"
    "\n"
    "Shows the file format version, the file size and its limit, used and free\n"
    "bytes, the number of keys in total and per value kind, the bucket count and\n"
    "load factor of the hash table, and whether a writer holds the file (and its\n"
    "pid). Opens FILE read-only, without blocking or disturbing a writer.\n"
    "\n"
    "Options:\n"
    "  --json      print one JSON object instead of text\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 ok, 2 damaged or unsupported file, 64 usage, 66 cannot open.\n",
    run,
};

static void print_text(const char *path, const mmapobj_stats *s)
{
    char a[32], b[32];
    printf("file:            %s\n", path);
    printf("format:          %u.%u\n", (unsigned)s->format_major, (unsigned)s->format_minor);
    printf("file size:       %s bytes\n", fmt_count(a, s->file_size));
    printf("max file size:   %s bytes\n", fmt_count(a, s->max_file_size));
    printf("used bytes:      %s\n", fmt_count(a, s->used_bytes));
    printf("free bytes:      %s\n", fmt_count(a, s->free_bytes));
    printf("keys:            %s\n", fmt_count(a, s->count));
    printf("  strings:       %s\n", fmt_count(a, s->count_string));
    printf("  numbers:       %s\n", fmt_count(a, s->count_number));
    printf("  bytes:         %s\n", fmt_count(a, s->count_bytes));
    printf("buckets:         %s (max %s)\n", fmt_count(a, s->bucket_count),
           fmt_count(b, s->max_bucket_count));
    printf("load factor:     %.4f (grows above %.2f)\n", s->load_factor, s->max_load_factor);
    int32_t pid = 0;
    int locked = mmapobj_writer_state(path, &pid);
    if (locked < 0) /* cannot be told now: what the reader handle saw */
        locked = s->writer_pid != 0;
    if (locked && pid)
        printf("writer:          held by pid %d\n", pid);
    else if (locked)
        printf("writer:          held (pid unknown)\n");
    else
        printf("writer:          none\n");
}

static void print_json(const char *path, const mmapobj_stats *s)
{
    char d1[32], d2[32];
    size_t plen = strlen(path);
    if (utf8_valid(path, plen)) {
        fputs("{\"file\":", stdout);
        json_write_string(stdout, path, plen);
    } else {
        fputs("{\"file_base64\":\"", stdout);
        b64_write(stdout, path, plen);
        fputc('"', stdout);
    }
    printf(",\"format_major\":%u,\"format_minor\":%u", (unsigned)s->format_major,
           (unsigned)s->format_minor);
    printf(",\"file_size\":%llu,\"max_file_size\":%llu,\"used_bytes\":%llu,\"free_bytes\":%llu",
           (unsigned long long)s->file_size, (unsigned long long)s->max_file_size,
           (unsigned long long)s->used_bytes, (unsigned long long)s->free_bytes);
    printf(",\"count\":%llu,\"count_string\":%llu,\"count_number\":%llu,\"count_bytes\":%llu",
           (unsigned long long)s->count, (unsigned long long)s->count_string,
           (unsigned long long)s->count_number, (unsigned long long)s->count_bytes);
    printf(",\"bucket_count\":%llu,\"max_bucket_count\":%llu,\"load_factor\":%s,"
           "\"max_load_factor\":%s",
           (unsigned long long)s->bucket_count, (unsigned long long)s->max_bucket_count,
           fmt_double(d1, s->load_factor), fmt_double(d2, s->max_load_factor));
    int32_t pid = 0;
    int locked = mmapobj_writer_state(path, &pid);
    if (locked < 0)
        locked = s->writer_pid != 0;
    printf(",\"writer_locked\":%s,\"writer_pid\":", locked ? "true" : "false");
    if (pid)
        printf("%d}\n", (int)pid);
    else
        fputs("null}\n", stdout);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, status = 0, c;
    while ((c = tool_getopt(argc, argv, "h", longopts, &cmd_stat, &status)) != -1) {
        if (c == -2)
            return status;
        if (c == 'j')
            json = 1;
    }
    if (argc - optind != 1)
        return tool_usage_error(argc - optind < 1 ? "missing FILE" : "too many arguments");
    const char *path = argv[optind];

    mmapobj_map *m = NULL;
    int rc = mmapobj_open(path, &m);
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(NULL, rc, path, ROLE_INPUT);
    mmapobj_stats s;
    rc = mmapobj_stat(m, &s);
    if (rc != MMAPOBJ_OK) {
        int ex = tool_lib_fail(m, rc, path, ROLE_INPUT);
        mmapobj_close(&m);
        return ex;
    }
    mmapobj_close(&m);
    if (json)
        print_json(path, &s);
    else
        print_text(path, &s);
    return tool_finish_stdout();
}
