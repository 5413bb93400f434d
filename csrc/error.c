/* error.c - the code -> text tables, per-handle error detail and the thread-local last error
 * of calls that have no handle yet (create/open). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "platform.h"

static _Thread_local char tls_errmsg[MO_ERRMSG_CAP];

struct code_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct code_entry codes[] = {
    {MMAPOBJ_OK, "MMAPOBJ_OK", "success"},
    {MMAPOBJ_NOTFOUND, "MMAPOBJ_NOTFOUND", "no such key"},
    {MMAPOBJ_E_IO, "MMAPOBJ_E_IO", "I/O error"},
    {MMAPOBJ_E_NOENT, "MMAPOBJ_E_NOENT", "no such file or directory"},
    {MMAPOBJ_E_ACCESS, "MMAPOBJ_E_ACCESS", "permission denied"},
    {MMAPOBJ_E_NOTREG, "MMAPOBJ_E_NOTREG", "not a regular file"},
    {MMAPOBJ_E_LOCKED, "MMAPOBJ_E_LOCKED", "file is locked by another writer"},
    {MMAPOBJ_E_NOSPC, "MMAPOBJ_E_NOSPC", "no space left on device"},
    {MMAPOBJ_E_NOMEM, "MMAPOBJ_E_NOMEM", "out of memory or address space"},
    {MMAPOBJ_E_BADMAGIC, "MMAPOBJ_E_BADMAGIC", "not an mmapobj file (bad magic)"},
    {MMAPOBJ_E_MAJOR, "MMAPOBJ_E_MAJOR", "unsupported format major version"},
    {MMAPOBJ_E_MINOR, "MMAPOBJ_E_MINOR", "format minor version newer than this library"},
    {MMAPOBJ_E_TOOSMALL, "MMAPOBJ_E_TOOSMALL", "file is truncated (shorter than its header says)"},
    {MMAPOBJ_E_CORRUPT, "MMAPOBJ_E_CORRUPT", "file is corrupt"},
    {MMAPOBJ_E_LAYOUT, "MMAPOBJ_E_LAYOUT", "file layout does not match this machine"},
    {MMAPOBJ_E_INVAL, "MMAPOBJ_E_INVAL", "invalid argument"},
    {MMAPOBJ_E_READONLY, "MMAPOBJ_E_READONLY", "map is read-only"},
    {MMAPOBJ_E_CLOSED, "MMAPOBJ_E_CLOSED", "map is closed"},
    {MMAPOBJ_E_BUFSMALL, "MMAPOBJ_E_BUFSMALL", "buffer too small"},
    {MMAPOBJ_E_BUSY, "MMAPOBJ_E_BUSY",
     "a writer has been in the middle of a write for longer than the wait limit"},
    {MMAPOBJ_E_CANCELED, "MMAPOBJ_E_CANCELED", "stopped by the caller"},
    {MMAPOBJ_E_FULL, "MMAPOBJ_E_FULL", "file would grow past its maximum size"},
    {MMAPOBJ_E_TOOBIG, "MMAPOBJ_E_TOOBIG", "key or value too long"},
    {MMAPOBJ_E_RESERVE, "MMAPOBJ_E_RESERVE", "file outgrew this handle's address reservation; reopen"},
};

static const struct code_entry *find_code(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code) return &codes[i];
    return NULL;
}

MMAPOBJ_API const char *mmapobj_strerror(int code)
{
    const struct code_entry *e = find_code(code);
    return e ? e->text : "unknown error";
}

MMAPOBJ_API const char *mmapobj_code_name(int code)
{
    const struct code_entry *e = find_code(code);
    return e ? e->name : "MMAPOBJ_UNKNOWN";
}

MMAPOBJ_API const char *mmapobj_errmsg(const mmapobj_map *m)
{
    if (m == NULL) return tls_errmsg;
    if (!mo_is_map(m)) return "mmapobj: handle is closed or invalid";
    return m->errmsg;
}

int mo_code_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT: case ENOTDIR: return MMAPOBJ_E_NOENT;
    case EACCES: case EPERM: case EROFS: return MMAPOBJ_E_ACCESS;
    case EISDIR: case ENXIO: case ENODEV: return MMAPOBJ_E_NOTREG;
    case ENOSPC: case EFBIG: return MMAPOBJ_E_NOSPC;
#ifdef EDQUOT /* not in the Windows C runtime */
    case EDQUOT: return MMAPOBJ_E_NOSPC;
#endif
    case ENOMEM: return MMAPOBJ_E_NOMEM;
    case EAGAIN: return MMAPOBJ_E_LOCKED;
    default: return MMAPOBJ_E_IO;
    }
}

/* Formats "mmapobj: '<path>': <detail>" into buf. */
static void format_msg(char *buf, const char *path, int errnum, const char *fmt, va_list ap)
{
    int n = snprintf(buf, MO_ERRMSG_CAP, "mmapobj: '%s': ", path ? path : "");
    if (n < 0 || n >= MO_ERRMSG_CAP) return;
    int k = vsnprintf(buf + n, (size_t)(MO_ERRMSG_CAP - n), fmt, ap);
    if (k < 0) return;
    n += k;
    if (errnum && n < MO_ERRMSG_CAP) {
        char tmp[128];
        const char *s = mo_pf_strerror(errnum, tmp, sizeof tmp);
        snprintf(buf + n, (size_t)(MO_ERRMSG_CAP - n), ": %s", s);
    }
}

int mo_err(mmapobj_map *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_msg(m->errmsg, m->path, 0, fmt, ap);
    va_end(ap);
    return code;
}

int mo_err_os(mmapobj_map *m, int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_msg(m->errmsg, m->path, errnum, fmt, ap);
    va_end(ap);
    return code;
}

int mo_tls_err(const char *path, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_msg(tls_errmsg, path, 0, fmt, ap);
    va_end(ap);
    return code;
}

void mo_copy_err_to_tls(const mmapobj_map *m)
{
    memcpy(tls_errmsg, m->errmsg, MO_ERRMSG_CAP);
}
