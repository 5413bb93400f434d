/* cmd_compact.c - `mmapobj compact FILE [OUT]`: copies the live pairs into a fresh,
 * minimal file and (without OUT) atomically puts it in FILE's place.
 *
 * While it works it holds FILE's writer lock (the exclusive OFD lock on byte 0
 * that every writer takes, docs/FORMAT.md "Concurrency") on a descriptor of its
 * own, so no writer can change FILE meanwhile and the copy is a true snapshot.
 * Taking the lock this way writes nothing into FILE: unlike opening FILE as a
 * writer it leaves the header (dirty flag, writer pid) and the file size alone.
 * Readers that have FILE open keep the old inode and go on reading the old
 * contents after the rename; new opens see the compacted file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

struct compact {
    const char *path;   /* FILE */
    const char *out;    /* OUT or NULL */
    char *real;         /* FILE with symlinks resolved: what the rename replaces */
    int lockfd;
    struct stat st;     /* of FILE */
    mmapobj_map *m;     /* reader on FILE */
    mmapobj_map *w;     /* writer on the temporary file */
    char *tmpdir;       /* <dir>/.mmapobj-compact-XXXXXX */
    char *tmpfile;      /* tmpdir/<name> */
    char *dir;          /* directory of the target */
    int tmpfile_made;
};

static char *dup_dirname(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *d = strdup(dirname(copy));
    free(copy);
    return d;
}

static char *dup_basename(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *b = strdup(basename(copy));
    free(copy);
    return b;
}

/* Takes FILE's writer lock on a descriptor of our own. */
static int take_writer_lock(struct compact *c)
{
    int readonly = 0;
    c->lockfd = open(c->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (c->lockfd < 0 && c->out && (errno == EACCES || errno == EROFS)) {
        /* Copying out of a file we may not write: test the lock instead of taking it. */
        c->lockfd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        readonly = 1;
    }
    if (c->lockfd < 0) {
        tool_err("cannot open %s: %s", c->path, strerror(errno));
        return EXIT_NOINPUT;
    }
    if (fstat(c->lockfd, &c->st) < 0) {
        tool_err("cannot stat %s: %s", c->path, strerror(errno));
        return EXIT_IOERR;
    }
    if (!S_ISREG(c->st.st_mode)) {
        tool_err("%s is not a regular file", c->path);
        return EXIT_NOINPUT;
    }
    struct flock fl = tool_writer_lock_request();
    int held;
    if (!readonly) {
        if (fcntl(c->lockfd, F_OFD_SETLK, &fl) == 0)
            return 0;
        if (errno != EAGAIN && errno != EACCES) {
            tool_err("cannot lock %s: %s", c->path, strerror(errno));
            return EXIT_IOERR;
        }
        held = 1;
    } else {
        if (fcntl(c->lockfd, F_OFD_GETLK, &fl) < 0) {
            tool_err("cannot test the lock of %s: %s", c->path, strerror(errno));
            return EXIT_IOERR;
        }
        held = fl.l_type != F_UNLCK;
    }
    if (!held)
        return 0;
    /* Name the writer if the file says who it is. */
    mmapobj_map *m = NULL;
    mmapobj_stats s;
    int pid = 0;
    int locked;
    if (mmapobj_open(c->path, &m) == MMAPOBJ_OK && mmapobj_stat(m, &s) == MMAPOBJ_OK)
        tool_writer_state(c->path, s.writer_pid, &locked, &pid);
    mmapobj_close(&m);
    if (pid > 0)
        tool_err("%s is open for writing by process %d; close it there first", c->path, pid);
    else
        tool_err("%s is open for writing by another process; close it there first", c->path);
    return EXIT_TEMPFAIL;
}

/* Reads the header's seq (offset 64, docs/FORMAT.md). Under the writer lock an odd
 * value can only be the leftover of a writer that died while rewriting reused space;
 * readers (ours included) would wait for it to turn even as long as someone holds
 * the writer lock, which we do. Returns 1 odd, 0 even, -1 unreadable. */
static int seq_is_odd(int fd)
{
    unsigned char b[8];
    if (pread(fd, b, sizeof b, 64) != (ssize_t)sizeof b)
        return -1;
    return b[0] & 1; /* little-endian u64: bit 0 lives in byte 0 */
}

/* The last writer died in mid-write: let the library's writer open repair the file
 * (it rebuilds the allocator state and makes seq even), then take the lock again. */
static int repair_dead_writer(struct compact *c)
{
    close(c->lockfd);
    c->lockfd = -1;
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(c->path, 0, 0, 0, &w);
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(NULL, rc, c->path, ROLE_INPUT);
    rc = mmapobj_close(&w);
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(NULL, rc, c->path, ROLE_INPUT);
    tool_err("note: %s was left by a writer that died while writing; repaired it first",
             c->path);
    return 0;
}

static int same_file(const char *path, const struct stat *st)
{
    struct stat now;
    return stat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino;
}

static int fsync_path(const char *path, int flags, const char *what)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        tool_err("cannot fsync %s %s: %s", what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EXIT_IOERR;
    }
    close(fd);
    return 0;
}

/* Copies FILE's pairs into c->w; returns an exit status. */
static int copy_pairs(struct compact *c, uint64_t *copied)
{
    mmapobj_iter *it = NULL;
    int rc = mmapobj_iter_open(c->m, &it);
    if (rc != MMAPOBJ_OK)
        return tool_lib_fail(c->m, rc, c->path, ROLE_INPUT);
    int ex = EXIT_OK_;
    for (;;) {
        if (tool_interrupted) {
            ex = EXIT_INTERRUPTED;
            break;
        }
        const void *key;
        size_t klen;
        mmapobj_value v;
        rc = mmapobj_iter_next(it, &key, &klen, &v);
        if (rc == 0)
            break;
        if (rc < 0) {
            ex = tool_lib_fail(c->m, rc, c->path, ROLE_INPUT);
            break;
        }
        if (v.kind == MMAPOBJ_KIND_NUMBER)
            rc = mmapobj_set_number(c->w, key, klen, v.number);
        else
            rc = mmapobj_set(c->w, key, klen, v.kind, v.data, v.len);
        if (rc != MMAPOBJ_OK) {
            ex = tool_lib_fail(c->w, rc, c->tmpfile, ROLE_OUTPUT);
            break;
        }
        (*copied)++;
    }
    mmapobj_iter_close(&it);
    return ex;
}

/* The smallest table the library makes for n keys: power of two >= 8, n <= 0.8 B. */
static uint64_t buckets_for(uint64_t n)
{
    uint64_t b = 8;
    while ((double)n > 0.8 * (double)b && b < ((uint64_t)1 << 40))
        b *= 2;
    return b;
}

static int make_temp(struct compact *c)
{
    const char *target = c->out ? c->out : c->real;
    char *base = dup_basename(target);
    c->dir = dup_dirname(target);
    size_t dlen = c->dir ? strlen(c->dir) : 0;
    c->tmpdir = c->dir ? malloc(dlen + 32) : NULL;
    if (!base || !c->tmpdir) {
        free(base);
        tool_err("out of memory");
        return EXIT_SOFTWARE;
    }
    snprintf(c->tmpdir, dlen + 32, "%s/.mmapobj-compact-XXXXXX", c->dir);
    if (!mkdtemp(c->tmpdir)) {
        tool_err("cannot create a temporary directory in %s: %s", c->dir, strerror(errno));
        free(c->tmpdir);
        c->tmpdir = NULL;
        free(base);
        return errno == ENOSPC || errno == EIO ? EXIT_IOERR : EXIT_CANTCREAT;
    }
    size_t tlen = strlen(c->tmpdir) + 1 + strlen(base) + 1;
    c->tmpfile = malloc(tlen);
    if (!c->tmpfile) {
        free(base);
        tool_err("out of memory");
        return EXIT_SOFTWARE;
    }
    snprintf(c->tmpfile, tlen, "%s/%s", c->tmpdir, base);
    free(base);
    return 0;
}

/* Removes the entries of our own temporary directory (no subdirectories are made). */
static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* Moves the finished temporary file into place. */
static int install(struct compact *c)
{
    if (!c->out) {
        if (rename(c->tmpfile, c->real) < 0) {
            tool_err("cannot rename %s to %s: %s", c->tmpfile, c->real, strerror(errno));
            return EXIT_IOERR;
        }
    } else {
        /* Never replace an OUT that appeared meanwhile. */
        if (renameat2(AT_FDCWD, c->tmpfile, AT_FDCWD, c->out, RENAME_NOREPLACE) < 0) {
            if (errno == EEXIST) {
                tool_err("%s exists; not replacing it", c->out);
                return EXIT_CANTCREAT;
            }
            if (errno != EINVAL && errno != ENOSYS) {
                tool_err("cannot rename %s to %s: %s", c->tmpfile, c->out, strerror(errno));
                return EXIT_IOERR;
            }
            /* The filesystem lacks RENAME_NOREPLACE: link() fails on an existing OUT too. */
            if (link(c->tmpfile, c->out) < 0) {
                tool_err("cannot create %s: %s", c->out, strerror(errno));
                return errno == EEXIST ? EXIT_CANTCREAT : EXIT_IOERR;
            }
            unlink(c->tmpfile);
        }
    }
    c->tmpfile_made = 0;
    return fsync_path(c->dir, O_RDONLY | O_DIRECTORY, "directory");
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

    struct compact cc;
    memset(&cc, 0, sizeof cc);
    struct compact *c = &cc;
    c->path = argv[optind];
    c->out = npos == 2 ? argv[optind + 1] : NULL;
    c->lockfd = -1;
    int ex = EXIT_OK_;
    uint64_t copied = 0;
    struct stat ost;

    if (c->out && lstat(c->out, &ost) == 0) {
        tool_err("%s exists; compact writes a new file (remove it, or omit OUT to compact "
                 "%s in place)", c->out, c->path);
        return EXIT_CANTCREAT;
    }
    tool_catch_signals(); /* from here on ^C cleans up; the copy loop checks for it */
    ex = take_writer_lock(c);
    if (ex)
        goto out;
    int odd = seq_is_odd(c->lockfd);
    if (odd == 1) {
        ex = repair_dead_writer(c);
        if (!ex)
            ex = take_writer_lock(c);
        if (ex)
            goto out;
        odd = seq_is_odd(c->lockfd);
    }
    if (odd == 1) { /* (a short header is reported by mmapobj_open below) */
        tool_err("%s: a writer left it mid-write and repairing it did not help", c->path);
        ex = EXIT_CORRUPT;
        goto out;
    }
    int rc = mmapobj_open(c->path, &c->m);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(NULL, rc, c->path, ROLE_INPUT);
        goto out;
    }
    /* A symlinked FILE: replace the file it names and keep the link. */
    c->real = realpath(c->path, NULL);
    if (!c->real) {
        tool_err("cannot resolve %s: %s", c->path, strerror(errno));
        ex = EXIT_IOERR;
        goto out;
    }
    if (!same_file(c->path, &c->st)) {
        tool_err("%s was replaced while compact opened it; try again", c->path);
        ex = EXIT_TEMPFAIL;
        goto out;
    }
    mmapobj_stats s;
    rc = mmapobj_stat(c->m, &s);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(c->m, rc, c->path, ROLE_INPUT);
        goto out;
    }
    /* Replacing FILE with a copy that silently lost damaged pairs would be worse than
     * not compacting: check FILE first (nothing writes it while we hold the lock). */
    rc = mmapobj_verify(c->m);
    if (rc != MMAPOBJ_OK) {
        const char *detail = tool_detail(mmapobj_errmsg(c->m), c->path);
        tool_err("%s is damaged, not compacting it: %s", c->path,
                 *detail ? detail : mmapobj_strerror(rc));
        ex = tool_exit_for(rc, ROLE_INPUT);
        goto out;
    }
    if (tool_interrupted) {
        ex = EXIT_INTERRUPTED;
        goto out;
    }
    ex = make_temp(c);
    if (ex)
        goto out;

    /* Size the new file for what it will hold: header, a table for s.count keys and
     * the live records (used_bytes minus the old header and table). */
    uint64_t old_table = 16 + 8 * s.bucket_count;
    uint64_t records = s.used_bytes > 8192 + old_table ? s.used_bytes - 8192 - old_table : 0;
    uint64_t size = 8192 + 64 + 16 + 8 * buckets_for(s.count) + records + 64;
    uint64_t max = s.max_file_size > size ? s.max_file_size : size;
    rc = mmapobj_create(c->tmpfile, size, s.count, max, &c->w);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(NULL, rc, c->tmpfile, ROLE_OUTPUT);
        goto out;
    }
    c->tmpfile_made = 1;
    ex = copy_pairs(c, &copied);
    if (ex)
        goto out;
    /* Nothing could write FILE meanwhile; a copy that does not check out is our bug. */
    rc = mmapobj_verify(c->w);
    if (rc != MMAPOBJ_OK) {
        tool_err("internal error: the compacted copy fails verification: %s",
                 tool_detail(mmapobj_errmsg(c->w), NULL));
        ex = EXIT_SOFTWARE;
        goto out;
    }
    int64_t newcount = mmapobj_count(c->w);
    if (newcount < 0 || (uint64_t)newcount != copied) {
        tool_err("internal error: copied %llu pairs but the copy holds %lld keys",
                 (unsigned long long)copied, (long long)newcount);
        ex = EXIT_SOFTWARE;
        goto out;
    }
    rc = mmapobj_flush(c->w);
    if (rc == MMAPOBJ_OK)
        rc = mmapobj_close(&c->w);
    if (rc != MMAPOBJ_OK) {
        ex = tool_lib_fail(c->w, rc, c->tmpfile, ROLE_OUTPUT);
        goto out;
    }
    if (tool_interrupted) {
        ex = EXIT_INTERRUPTED;
        goto out;
    }
    /* The writer's close shrank the file; make that and the permissions durable. */
    {
        int fd = open(c->tmpfile, O_RDONLY | O_CLOEXEC);
        struct stat nst;
        if (fd < 0 || fchmod(fd, c->st.st_mode & 07777) < 0 || fsync(fd) < 0 ||
            fstat(fd, &nst) < 0) {
            tool_err("cannot finish %s: %s", c->tmpfile, strerror(errno));
            if (fd >= 0)
                close(fd);
            ex = EXIT_IOERR;
            goto out;
        }
        close(fd);
        ex = install(c);
        if (ex)
            goto out;
        if (!quiet) {
            char a[32], b[32], k[32];
            if (c->out)
                printf("%s: %s keys copied into %s: %s bytes -> %s bytes\n", c->path,
                       fmt_count(k, copied), c->out, fmt_count(a, (uint64_t)c->st.st_size),
                       fmt_count(b, (uint64_t)nst.st_size));
            else
                printf("%s: compacted %s keys: %s bytes -> %s bytes\n", c->path,
                       fmt_count(k, copied), fmt_count(a, (uint64_t)c->st.st_size),
                       fmt_count(b, (uint64_t)nst.st_size));
        }
    }

out:
    if (ex == EXIT_INTERRUPTED)
        tool_err("interrupted (signal %d); %s is unchanged", (int)tool_interrupted, c->path);
    mmapobj_close(&c->w);
    if (c->tmpfile_made && c->tmpfile)
        unlink(c->tmpfile);
    if (c->tmpdir && ex != EXIT_OK_)
        empty_dir(c->tmpdir); /* whatever a failed create left (its own temporary names) */
    if (c->tmpdir && rmdir(c->tmpdir) < 0 && ex == EXIT_OK_)
        tool_err("warning: cannot remove %s: %s", c->tmpdir, strerror(errno));
    mmapobj_close(&c->m);
    if (c->lockfd >= 0)
        close(c->lockfd); /* releases the writer lock, after the rename */
    free(c->tmpdir);
    free(c->tmpfile);
    free(c->dir);
    free(c->real);
    if (ex == EXIT_OK_)
        ex = tool_finish_stdout();
    return ex;
}
