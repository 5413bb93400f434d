/* compact.c - mmapobj_compact: the live pairs of a file copied into a fresh, minimal one, put in
 * place (or at a new name) atomically, under the source's writer lock taken without writing to
 * it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "file.h"
#include "format.h"

#define PROGRESS_EVERY 4096u

struct compact {
    const char *src, *dst;
    mmapobj_progress_fn progress;
    void *ctx;
    mmapobj_compact_info *info;
    mo_pf_file *lock;  /* src, holding its writer lock (or only tested: readonly) */
    int readonly;
    struct mo_pf_stat st; /* of src, through lock */
    mmapobj_map *m;    /* reader on src */
    mmapobj_map *w;    /* writer on tmp */
    char *real;        /* src with links resolved: what a rename in place replaces */
    char *tmp;         /* the temporary file, once it may exist */
    uint64_t keys;     /* pairs copied */
};

static int os_code(int e)
{
    int c = mo_code_from_errno(e);
    return c == MMAPOBJ_E_LOCKED ? MMAPOBJ_E_IO : c;
}

static int os_fail(const char *path, int e, const char *what)
{
    char tmp[128];
    return mo_tls_err(path, os_code(e), "%s: %s", what, mo_pf_strerror(e, tmp, sizeof tmp));
}

/* A handle's failure as the thread's (the caller of mmapobj_compact has no handle). */
static int handle_fail(const mmapobj_map *m, int rc)
{
    mo_copy_err_to_tls(m);
    return rc;
}

static int locked_fail(const char *src)
{
    int32_t pid = 0;
    (void)mmapobj_writer_state(src, &pid);
    if (pid > 0)
        return mo_tls_err(src, MMAPOBJ_E_LOCKED, "open for writing by process %d; close it "
                          "there first", (int)pid);
    return mo_tls_err(src, MMAPOBJ_E_LOCKED, "open for writing by another process; close it "
                      "there first");
}

/* Takes src's writer lock on a handle of our own (for a copy to dst out of a file we may not
 * write: tests it instead). */
static int take_lock(struct compact *c)
{
    c->readonly = 0;
    int e = mo_pf_open(c->src, 1, &c->lock);
    if (e && c->dst && (e == EACCES || e == EROFS || e == EPERM)) {
        e = mo_pf_open(c->src, 0, &c->lock);
        c->readonly = 1;
    }
    if (e) return os_fail(c->src, e, "cannot open");
    e = mo_pf_stat(c->lock, &c->st);
    if (e) return os_fail(c->src, e, "cannot stat");
    if (!c->st.regular) return mo_tls_err(c->src, MMAPOBJ_E_NOTREG, "not a regular file");
    if (c->readonly) return mo_pf_writer_alive(c->lock) ? locked_fail(c->src) : MMAPOBJ_OK;
    e = mo_pf_lock_writer(c->lock, 0);
    if (e == EAGAIN) return locked_fail(c->src);
    if (e) return os_fail(c->src, e, "cannot lock");
    return MMAPOBJ_OK;
}

/* 1 when src's seq is odd: its last writer died rewriting reused space (under our writer lock
 * nobody else can be writing). A reader would wait on it, since a writer (we) holds the lock. */
static int seq_odd(struct compact *c)
{
    if (c->st.size < MO_HEADER_SIZE) return 0; /* mmapobj_open reports it */
    struct mo_header *h = malloc(sizeof *h);
    int odd = h && mo_pf_read(c->lock, h, sizeof *h, 0) == 0 && (h->seq & 1);
    free(h);
    return odd;
}

/* The last writer died mid-write: a writer open repairs the file (makes seq even). */
static int repair(struct compact *c)
{
    mo_pf_close(c->lock);
    c->lock = NULL;
    mmapobj_map *w = NULL;
    int rc = mmapobj_create(c->src, 0, 0, 0, &w);
    if (rc) return rc;
    rc = mmapobj_close(&w);
    if (rc) return rc;
    if (c->info) c->info->repaired = 1;
    return take_lock(c);
}

/* Does src still name the file we locked? */
static int same_file(struct compact *c)
{
    mo_pf_file *f = NULL;
    struct mo_pf_stat st;
    if (mo_pf_open(c->src, 0, &f) != 0) return 0;
    int same = mo_pf_stat(f, &st) == 0 && st.dev == c->st.dev && st.ino == c->st.ino;
    mo_pf_close(f);
    return same;
}

/* A name for the temporary file in the directory of target. */
static char *temp_name(const char *target)
{
    const char *slash = strrchr(target, '/');
#ifdef _WIN32
    const char *bs = strrchr(target, '\\');
    if (bs && (!slash || bs > slash)) slash = bs;
#endif
    size_t dlen = slash ? (size_t)(slash - target) + 1 : 0;
    char *t = malloc(dlen + 48);
    if (!t) return NULL;
    uint64_t r = 0;
    if (mo_pf_random(&r, sizeof r) != 0)
        r = mo_pf_monotonic_ns() ^ ((uint64_t)mo_pf_pid() << 40) ^ (uint64_t)(uintptr_t)t;
    memcpy(t, target, dlen);
    snprintf(t + dlen, 48, ".mmapobj-compact-%016llx", (unsigned long long)r);
    return t;
}

static int copy_pairs(struct compact *c, uint64_t total)
{
    mmapobj_iter *it = NULL;
    int rc = mmapobj_iter_open(c->m, &it);
    if (rc) return handle_fail(c->m, rc);
    uint64_t n = 0;
    for (;;) {
        if (c->progress && n % PROGRESS_EVERY == 0 && n && c->progress(c->ctx, n, total)) {
            rc = mo_tls_err(c->src, MMAPOBJ_E_CANCELED, "compaction stopped by the caller; "
                            "unchanged");
            break;
        }
        const void *key;
        size_t klen;
        mmapobj_value v;
        rc = mmapobj_iter_next(it, &key, &klen, &v);
        if (rc == 0) break;
        if (rc < 0) {
            rc = handle_fail(c->m, rc);
            break;
        }
        if (v.kind == MMAPOBJ_KIND_NUMBER)
            rc = mmapobj_set_number(c->w, key, klen, v.number);
        else
            rc = mmapobj_set(c->w, key, klen, v.kind, v.data, v.len);
        if (rc) {
            if (c->info) c->info->output = 1;
            rc = handle_fail(c->w, rc);
            break;
        }
        n++;
    }
    mmapobj_iter_close(&it);
    c->keys = n;
    if (c->info) c->info->keys = n;
    if (rc == MMAPOBJ_OK && c->progress && c->progress(c->ctx, n, total))
        rc = mo_tls_err(c->src, MMAPOBJ_E_CANCELED, "compaction stopped by the caller; unchanged");
    return rc;
}

/* Builds the copy at c->tmp; returns with it closed, durable and given src's mode bits. */
static int build(struct compact *c)
{
    mmapobj_stats s;
    int rc = mmapobj_stat(c->m, &s);
    if (rc) return handle_fail(c->m, rc);
    /* a copy of a damaged file would silently lose pairs: check src first */
    rc = mmapobj_verify(c->m);
    if (rc) {
        const char *d = mmapobj_errmsg(c->m);
        const char *p = strstr(d, "': ");
        return mo_tls_err(c->src, rc, "damaged, not compacting it: %s", p ? p + 3 : d);
    }
    /* sized for what it will hold: the header, the smallest table for s.count keys (as
     * mmapobj_create makes it), the live records (used bytes minus the old header and table),
     * and alignment */
    uint32_t lg_old = MO_MIN_LOG2;
    while (lg_old < MO_MAX_LOG2 && (UINT64_C(1) << lg_old) < s.bucket_count) lg_old++;
    uint64_t fixed_old = MO_HEADER_SIZE + mo_table_footprint(lg_old);
    uint64_t records = s.used_bytes > fixed_old ? s.used_bytes - fixed_old : 0;
    uint64_t size = MO_HEADER_SIZE + MO_TABLE_ALIGN + mo_table_footprint(mo_log2_for(s.count, 4, 5)) +
                    records + MO_TABLE_ALIGN;
    uint64_t max = s.max_file_size > size ? s.max_file_size : size;
    if (c->info) c->info->output = 1;
    rc = mo_create_new_file(c->tmp, size, s.count, max, &c->w);
    if (rc) {
        free(c->tmp); /* nothing was made under that name */
        c->tmp = NULL;
        return rc;
    }
    if (c->info) c->info->output = 0;
    rc = copy_pairs(c, s.count);
    if (rc) return rc;
    if (c->info) c->info->output = 1;
    /* nothing could write src meanwhile: a copy that does not check out is our bug */
    rc = mmapobj_verify(c->w);
    int64_t n = mmapobj_count(c->w);
    if (rc || n < 0 || (uint64_t)n != c->keys)
        return mo_tls_err(c->tmp, MMAPOBJ_E_IO, "internal error: the compacted copy does not "
                          "check out (%s)", rc ? mmapobj_errmsg(c->w) : "count");
    rc = mmapobj_flush(c->w);
    if (rc) return handle_fail(c->w, rc);
    rc = mmapobj_close(&c->w); /* shrinks it to its contents */
    if (rc) return rc;
    int e = mo_pf_copy_mode(c->lock, c->tmp);
    if (e) return os_fail(c->tmp, e, "cannot set the permission bits");
    mo_pf_file *f = NULL;
    struct mo_pf_stat st;
    e = mo_pf_open(c->tmp, 0, &f);
    if (!e) e = mo_pf_sync(f);
    if (!e) e = mo_pf_stat(f, &st);
    mo_pf_close(f);
    if (e) return os_fail(c->tmp, e, "cannot make the copy durable");
    if (c->info) {
        c->info->new_size = st.size;
        c->info->output = 0;
    }
    return MMAPOBJ_OK;
}

/* Moves the finished copy into place. */
static int install(struct compact *c)
{
    if (c->info) c->info->output = 1;
    const char *target = c->dst ? c->dst : c->real;
    int e;
    if (c->dst) {
        e = mo_pf_publish(NULL, c->tmp, c->dst); /* never replaces a dst that appeared */
        if (e == EEXIST) return mo_tls_err(c->dst, MMAPOBJ_E_INVAL, "exists; not replacing it");
        if (e) return os_fail(c->dst, e, "cannot create");
        mo_pf_remove(c->tmp); /* the name linked (or already moved) */
    } else {
        e = mo_pf_replace(c->tmp, c->real);
        if (e) return os_fail(c->real, e, "cannot rename the copy over it");
    }
    free(c->tmp);
    c->tmp = NULL;
    e = mo_pf_sync_dir(target);
    if (e) return os_fail(target, e, "cannot sync its directory");
    if (c->info) c->info->output = 0;
    return MMAPOBJ_OK;
}

MMAPOBJ_API int mmapobj_compact(const char *src, const char *dst, mmapobj_progress_fn progress,
                                void *ctx, mmapobj_compact_info *info)
{
    if (info) memset(info, 0, sizeof *info);
    if (!src || !*src) return mo_tls_err(src, MMAPOBJ_E_INVAL, "NULL or empty source path");
    if (dst && !*dst) return mo_tls_err(dst, MMAPOBJ_E_INVAL, "empty destination path");
    struct compact cc;
    memset(&cc, 0, sizeof cc);
    struct compact *c = &cc;
    c->src = src;
    c->dst = dst;
    c->progress = progress;
    c->ctx = ctx;
    c->info = info;
    int rc = take_lock(c);
    if (rc == MMAPOBJ_OK && !c->readonly && seq_odd(c)) {
        rc = repair(c);
        if (rc == MMAPOBJ_OK && seq_odd(c))
            rc = mo_tls_err(src, MMAPOBJ_E_CORRUPT, "a writer left it mid-write and repairing "
                            "it did not help");
    }
    if (rc) goto out;
    if (info) info->old_size = c->st.size;
    rc = mmapobj_open(src, &c->m);
    if (rc) goto out;
    if (!same_file(c)) {
        rc = mo_tls_err(src, MMAPOBJ_E_BUSY, "replaced while compacting opened it; try again");
        goto out;
    }
    int e = 0;
    c->real = mo_pf_resolve(src, &e);
    if (!c->real) {
        rc = os_fail(src, e, "cannot resolve");
        goto out;
    }
    c->tmp = temp_name(c->dst ? c->dst : c->real);
    if (!c->tmp) {
        rc = mo_tls_err(src, MMAPOBJ_E_NOMEM, "out of memory");
        goto out;
    }
    rc = build(c);
    if (rc == MMAPOBJ_OK) rc = install(c);
out:
    if (c->w) mmapobj_close(&c->w);
    if (c->tmp) mo_pf_remove(c->tmp);
    mmapobj_close(&c->m);
    mo_pf_close(c->lock); /* releases the writer lock, after the rename */
    free(c->tmp);
    free(c->real);
    return rc;
}
