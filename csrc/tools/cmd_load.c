/* cmd_load.c - `mmapobj load FILE [INPUT]`: reads JSON Lines in the format of
 * `dump` and stores every pair, with a progress line on a terminal. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonin.h"
#include "progress.h"
#include "tool.h"

static int run(int argc, char **argv);

const struct tool_cmd cmd_load = {
    "load", "store pairs read as JSON Lines (the output of 'dump')",
    "Usage: mmapobj load [OPTIONS] FILE [INPUT]\n"
    "\n"
    "Reads pairs in the format 'mmapobj dump' writes, one JSON object per line,\n"
    "from INPUT (or standard input when INPUT is absent or '-'), and sets each in\n"
    "FILE, creating FILE if it does not exist. Existing keys are overwritten;\n"
    "keys not in the input are kept; a key given twice keeps its last value.\n"
    "Blank lines are skipped. Each line must be one object with exactly one of\n"
    "\"key\" / \"key_base64\" and exactly one of \"string\", \"string_base64\",\n"
    "\"number\" (a JSON number, or \"NaN\", \"Infinity\", \"-Infinity\") and \"bytes\".\n"
    "\n"
    "While stderr is a terminal a progress line shows the pairs stored, the rate,\n"
    "and the percentage and ETA when INPUT is a regular file. A summary line\n"
    "follows on stderr. The load is not a transaction: after an error (or ^C)\n"
    "the pairs before the failing line are stored, and the summary says how many.\n"
    "The map is flushed to disk (fsync) before the command returns.\n"
    "\n"
    "Options:\n"
    "  --buckets N       plan the hash table of a new FILE for N keys\n"
    "  --max-size SIZE   largest size FILE may grow to (K/M/G/T suffixes;\n"
    "                    default: 5G for a new file, the stored limit otherwise)\n"
    "  --no-progress     no progress line\n"
    "  -q, --quiet       no progress line and no summary\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 ok, 2 FILE damaged or unsupported, 64 usage, 65 malformed\n"
    "input (the message gives INPUT:LINE:COLUMN), 66 cannot open INPUT,\n"
    "73 cannot create FILE, 74 I/O error or FILE reached its size limit,\n"
    "75 another writer holds FILE, 130 interrupted.\n",
    run,
};

struct load_counts {
    uint64_t stored, added, replaced;
};

static void summary(const char *path, const char *input, const struct load_counts *n,
                    double secs, mmapobj_map *w)
{
    char a[32], b[32], c[32], r[32], t[32];
    int64_t total = w ? mmapobj_count(w) : -1;
    fprintf(stderr,
            "mmapobj load: %s: stored %s pairs from %s (%s new, %s replaced) in %.2f s "
            "(%s pairs/s)",
            path, fmt_count(a, n->stored), input, fmt_count(b, n->added),
            fmt_count(c, n->replaced), secs,
            fmt_count(r, secs > 0 ? (uint64_t)((double)n->stored / secs) : n->stored));
    if (total >= 0)
        fprintf(stderr, "; it holds %s keys", fmt_count(t, (uint64_t)total));
    fputc('\n', stderr);
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"buckets", required_argument, NULL, 'B'},
        {"max-size", required_argument, NULL, 'M'},
        {"no-progress", no_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t buckets = 0, max_size = 0;
    int quiet = 0, progress_wanted = 1, status = 0, c;
    while ((c = tool_getopt(argc, argv, "qh", longopts, &cmd_load, &status)) != -1) {
        if (c == -2)
            return status;
        switch (c) {
        case 'B':
            if (tool_parse_size(optarg, &buckets) < 0)
                return tool_usage_error("--buckets: '%s' is not a count", optarg);
            break;
        case 'M':
            if (tool_parse_size(optarg, &max_size) < 0 || max_size == 0)
                return tool_usage_error("--max-size: '%s' is not a size", optarg);
            break;
        case 'P':
            progress_wanted = 0;
            break;
        case 'q':
            quiet = 1;
            progress_wanted = 0;
            break;
        default:
            break;
        }
    }
    int npos = argc - optind;
    if (npos < 1 || npos > 2)
        return tool_usage_error(npos < 1 ? "missing FILE" : "too many arguments");
    const char *path = argv[optind];
    const char *input = npos == 2 ? argv[optind + 1] : "-";
    int from_stdin = strcmp(input, "-") == 0;
    const char *input_name = from_stdin ? "<stdin>" : input;

    int ex = EXIT_OK_;
    FILE *in = stdin;
    mmapobj_map *w = NULL;
    char *line = NULL;
    size_t linecap = 0;
    struct jrecord rec;
    memset(&rec, 0, sizeof rec);
    struct load_counts n = {0, 0, 0};
    struct progress pg;
    int started = 0;
    double t0 = tool_now();

    if (!from_stdin) {
        in = fopen(input, "r");
        if (!in) {
            tool_err("cannot open %s: %s", input, strerror(errno));
            return EXIT_NOINPUT;
        }
        struct stat st;
        if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
            tool_err("cannot read %s: it is a directory", input);
            fclose(in);
            return EXIT_NOINPUT;
        }
    }
    uint64_t total_bytes = 0;
    {
        struct stat st;
        if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
            off_t pos = lseek(fileno(in), 0, SEEK_CUR);
            if (pos >= 0 && st.st_size > pos)
                total_bytes = (uint64_t)(st.st_size - pos);
        }
    }

    /* A new file starts at the default size unless the limit is lower. */
    uint64_t initial = max_size && max_size < MMAPOBJ_DEFAULT_FILE_SIZE ? max_size : 0;
    int rc = mmapobj_create(path, initial, buckets, max_size, &w);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(NULL, rc, path, ROLE_OUTPUT);
        if (rc == MMAPOBJ_E_INVAL) /* only our options can be wrong here */
            ex = tool_usage_error("--max-size is too small for a new file (see --buckets)");
        goto out;
    }
    if (from_stdin && isatty(STDIN_FILENO)) {
        /* Someone is typing: a progress line would only get in the way. */
        progress_wanted = 0;
        if (!quiet)
            fprintf(stderr, "mmapobj load: reading pairs from the terminal; end with Ctrl-D\n");
    }

    tool_catch_signals();
    progress_begin(&pg, progress_wanted, total_bytes);
    started = 1;
    t0 = tool_now();
    uint64_t lineno = 0, bytes = 0;
    for (;;) {
        if (tool_interrupted)
            break;
        errno = 0;
        ssize_t len = getline(&line, &linecap, in);
        if (len < 0) {
            if (ferror(in) && !tool_interrupted) {
                progress_end(&pg);
                tool_err("reading %s: %s", input_name, strerror(errno ? errno : EIO));
                ex = EXIT_IOERR;
            }
            break;
        }
        lineno++;
        bytes += (uint64_t)len;
        size_t n_ = (size_t)len;
        if (n_ && line[n_ - 1] == '\n')
            line[--n_] = 0;
        size_t k = 0;
        while (k < n_ && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (k == n_)
            continue; /* blank line */
        char err[256];
        size_t col = 0;
        int prc = jsonl_parse(line, n_, &rec, err, sizeof err, &col);
        if (prc == -2) {
            progress_end(&pg);
            tool_err("out of memory at %s:%llu", input_name, (unsigned long long)lineno);
            ex = EXIT_SOFTWARE;
            break;
        }
        if (prc < 0) {
            progress_end(&pg);
            tool_err("%s:%llu:%zu: %s", input_name, (unsigned long long)lineno, col, err);
            ex = EXIT_DATAERR;
            break;
        }
        int had = mmapobj_has(w, rec.key.p, rec.key.len);
        if (had < 0) {
            progress_end(&pg);
            ex = tool_lib_fail(w, had, path, ROLE_OUTPUT);
            break;
        }
        if (rec.kind == MMAPOBJ_KIND_NUMBER)
            rc = mmapobj_set_number(w, rec.key.p, rec.key.len, rec.number);
        else
            rc = mmapobj_set(w, rec.key.p, rec.key.len, rec.kind, rec.val.p, rec.val.len);
        if (rc != MMAPOBJ_OK) {
            progress_end(&pg);
            tool_err("%s:%llu: cannot store the pair:", input_name, (unsigned long long)lineno);
            ex = tool_lib_fail(w, rc, path, ROLE_OUTPUT);
            break;
        }
        n.stored++;
        if (had)
            n.replaced++;
        else
            n.added++;
        if ((n.stored & 255) == 0)
            progress_update(&pg, n.stored, bytes);
    }
    progress_end(&pg);

out:
    if (w) {
        rc = mmapobj_flush(w);
        if (rc != MMAPOBJ_OK && ex == EXIT_OK_)
            ex = tool_lib_fail(w, rc, path, ROLE_OUTPUT);
        if (started && !quiet)
            summary(path, input_name, &n, tool_now() - t0, w);
        rc = mmapobj_close(&w);
        if (rc != MMAPOBJ_OK && ex == EXIT_OK_)
            ex = tool_lib_fail(NULL, rc, path, ROLE_OUTPUT);
    }
    if (tool_interrupted) {
        tool_err("interrupted (signal %d); the pairs stored so far are kept",
                 (int)tool_interrupted);
        if (ex == EXIT_OK_)
            ex = EXIT_INTERRUPTED;
    }
    if (in && in != stdin)
        fclose(in);
    free(line);
    jrecord_free(&rec);
    return ex;
}
