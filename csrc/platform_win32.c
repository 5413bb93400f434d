/* platform_win32.c - the Windows backend of platform.h: HANDLEs opened with UTF-16 paths, locks
 * by role as LockFileEx ranges far past the data, file ranges mapped at fixed addresses inside a
 * reservation (placeholders, with a release-and-remap fallback), BCryptGenRandom, and a fiber-
 * local-storage callback for the thread-exit hook.
 *
 * Locks. Byte-range locks on Windows are mandatory for ReadFile/WriteFile: a range locked
 * exclusively by one handle cannot be read through another. So every lock byte lives at
 * LOCK_BASE (2^62) + n, far past any data; mapped views are not affected by locks at all. Locks
 * belong to the handle (two handles of one file in one process conflict, like Linux OFD locks)
 * and are released when the handle is closed or its process ends. There is no F_GETLK: whether
 * a writer lives is probed by trying a lock and releasing it at once. The probe takes a byte of
 * its own (ALIVE), which every writer holds besides the writer byte for as long as it holds the
 * writer lock, so a probe never makes a new writer fail with "locked": the writer waits for the
 * probe's few microseconds on ALIVE, after it has won the writer byte.
 *
 * Mappings. The library keeps one reservation of address space per handle and maps the file
 * into it at a fixed base as the file grows (mapping.c: the mapped part is always a prefix of the
 * reservation; each extension maps the next range next to it). Windows 10 1803+ does this with
 * placeholders: VirtualAlloc2(MEM_RESERVE_PLACEHOLDER) reserves, VirtualFree(MEM_PRESERVE_
 * PLACEHOLDER) splits the next range off the placeholder tail, MapViewOfFile3(MEM_REPLACE_
 * PLACEHOLDER) maps the file range into it (page granularity). Where those calls do not exist or
 * fail (Wine 8 answers ERROR_INVALID_PARAMETER; MMAPOBJ_WIN32_NO_PLACEHOLDERS=1 forces it), the
 * fallback keeps one view of the whole mapped prefix: to extend, it releases the reservation and
 * the old view, maps the longer prefix with MapViewOfFileEx at the same base and reserves the
 * tail again (at the next 64 KiB boundary, the allocation granularity). Another thread of the
 * process could take the freed addresses in that instant: the map then fails with ENOMEM and
 * the old view is put back.
 *
 * Several writers share a file by holding the writer byte and ALIVE shared (an exclusive writer
 * holds both exclusively); the gate byte (3) and one slot byte per writer handle (2^32 + i) are
 * plain exclusive locks. Without F_GETLK, "is slot i held" is a try-lock released at once (a new
 * writer that meets such a probe on a free slot just takes the next one). Waiting on the write
 * lock word cannot use WaitOnAddress (it does not work across processes): waiters poll.
 *
 * Files cannot shrink on Windows while any view of them exists. mmapobj_close shrinks the file
 * while its own view is still mapped (no reader has the file then: it holds their presence lock
 * exclusively), so a shrink that fails with ERROR_USER_MAPPED_FILE is remembered and done by
 * mo_pf_close, after the library has released its mapping; any later growth cancels it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <bcrypt.h>

#include "platform.h"

#ifndef MEM_RESERVE_PLACEHOLDER
#define MEM_RESERVE_PLACEHOLDER 0x00040000
#endif
#ifndef MEM_REPLACE_PLACEHOLDER
#define MEM_REPLACE_PLACEHOLDER 0x00004000
#endif
#ifndef MEM_PRESERVE_PLACEHOLDER
#define MEM_PRESERVE_PLACEHOLDER 0x00000002
#endif
#ifndef MEM_COALESCE_PLACEHOLDERS
#define MEM_COALESCE_PLACEHOLDERS 0x00000001
#endif
#ifndef ERROR_USER_MAPPED_FILE
#define ERROR_USER_MAPPED_FILE 1224L
#endif

#define LOCK_BASE (UINT64_C(1) << 62)
#define LOCK_WRITER 0  /* the writer lock */
#define LOCK_READERS 1 /* reader presence */
#define LOCK_ALIVE 2   /* held by the writer; tried by writer-alive probes */
#define LOCK_GATE 3    /* the open/close gate of writers that share a file */
#define LOCK_SLOT (UINT64_C(1) << 32) /* writer slot i: LOCK_SLOT + i */
#define NO_SHRINK UINT64_MAX

struct mo_pf_file {
    HANDLE h;
    int writable;
    int alive_held;      /* this handle holds LOCK_ALIVE (and the writer lock) */
    int shared_held;     /* this handle holds the writer lock and LOCK_ALIVE shared */
    uint32_t slot;       /* 1 + the writer slot this handle holds (0: none) */
    uint64_t shrink_to;  /* a shrink deferred to close (NO_SHRINK: none) */
};

/* ---- errors and paths ----------------------------------------------------------------------- */

static int errno_from(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH: case ERROR_BAD_PATHNAME: case ERROR_INVALID_NAME:
        return ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_WRITE_PROTECT:
    case ERROR_PRIVILEGE_NOT_HELD: case ERROR_NETWORK_ACCESS_DENIED:
        return EACCES;
    case ERROR_LOCK_VIOLATION: case ERROR_IO_PENDING: case ERROR_LOCKED:
        return EAGAIN;
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: case ERROR_FILE_TOO_LARGE:
        return ENOSPC;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: case ERROR_COMMITMENT_LIMIT:
    case ERROR_INVALID_ADDRESS:
        return ENOMEM;
    case ERROR_FILE_EXISTS: case ERROR_ALREADY_EXISTS:
        return EEXIST;
    case ERROR_DIRECTORY:
        return EISDIR;
    case ERROR_INVALID_PARAMETER: case ERROR_NO_UNICODE_TRANSLATION:
        return EINVAL;
    case ERROR_USER_MAPPED_FILE: case ERROR_BUSY:
        return EBUSY;
    default:
        return EIO;
    }
}

static int last_errno(void)
{
    return errno_from(GetLastError());
}

/* A malloc'ed UTF-16 copy of a UTF-8 path (NULL: *err set). */
static wchar_t *wide(const char *s, int *err)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        *err = EINVAL;
        return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        *err = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

static int wrap(HANDLE h, int writable, mo_pf_file **out)
{
    mo_pf_file *f = calloc(1, sizeof *f);
    if (!f) {
        CloseHandle(h);
        return ENOMEM;
    }
    f->h = h;
    f->writable = writable;
    f->shrink_to = NO_SHRINK;
    *out = f;
    return 0;
}

static const DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

/* ---- files -------------------------------------------------------------------------------- */

int mo_pf_open(const char *path, int writable, mo_pf_file **out)
{
    *out = NULL;
    int e = 0;
    wchar_t *w = wide(path, &e);
    if (!w) return e;
    HANDLE h = CreateFileW(w, GENERIC_READ | (writable ? GENERIC_WRITE : 0), share_all, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        /* a directory does not open as a file: say so, rather than "access denied" */
        DWORD attr = err == ERROR_ACCESS_DENIED ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
        free(w);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) return EISDIR;
        return errno_from(err);
    }
    free(w);
    return wrap(h, writable, out);
}

static void shrink_now(mo_pf_file *f)
{
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)f->shrink_to;
    (void)SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof eof);
    f->shrink_to = NO_SHRINK;
}

void mo_pf_close(mo_pf_file *f)
{
    if (!f) return;
    /* the library has released its mapping by now: a deferred shrink can happen (before the
     * handle's locks go, so no reader maps the file meanwhile) */
    if (f->shrink_to != NO_SHRINK) shrink_now(f);
    CloseHandle(f->h);
    free(f);
}

int mo_pf_stat(mo_pf_file *f, struct mo_pf_stat *st)
{
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD type = GetFileType(f->h);
    memset(st, 0, sizeof *st);
    if (type != FILE_TYPE_DISK) {
        st->regular = 0; /* NUL, a console, a pipe */
        return 0;
    }
    if (!GetFileInformationByHandle(f->h, &bi)) return last_errno();
    st->size = ((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow;
    st->regular = (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? 0 : 1;
    st->dev = bi.dwVolumeSerialNumber;
    st->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
    return 0;
}

static int file_size(mo_pf_file *f, uint64_t *size)
{
    LARGE_INTEGER li;
    if (!GetFileSizeEx(f->h, &li)) return last_errno();
    *size = (uint64_t)li.QuadPart;
    return 0;
}

int mo_pf_read(mo_pf_file *f, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)off;
        ov.OffsetHigh = (DWORD)(off >> 32);
        DWORD chunk = n > 0x40000000u ? 0x40000000u : (DWORD)n, got = 0;
        if (!ReadFile(f->h, p, chunk, &got, &ov)) {
            DWORD e = GetLastError();
            return e == ERROR_HANDLE_EOF ? EIO : errno_from(e);
        }
        if (got == 0) return EIO; /* the file is shorter */
        p += got;
        n -= got;
        off += got;
    }
    return 0;
}

int mo_pf_write(mo_pf_file *f, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.Offset = (DWORD)off;
        ov.OffsetHigh = (DWORD)(off >> 32);
        DWORD chunk = n > 0x40000000u ? 0x40000000u : (DWORD)n, put = 0;
        if (!WriteFile(f->h, p, chunk, &put, &ov)) return last_errno();
        if (put == 0) return EIO;
        p += put;
        n -= put;
        off += put;
    }
    return 0;
}

int mo_pf_allocate(mo_pf_file *f, uint64_t off, uint64_t len)
{
    uint64_t cur, end = off + len;
    int e = file_size(f, &cur);
    if (e) return e;
    f->shrink_to = NO_SHRINK; /* growth cancels a deferred shrink */
    if (end <= cur) return 0;
    /* claim the disk space first: a full disk is ERROR_DISK_FULL here (NTFS also allocates the
     * clusters when the end of a non-sparse file moves; Wine answers ERROR_CALL_NOT_IMPLEMENTED
     * and extends the file sparsely) */
    FILE_ALLOCATION_INFO ai;
    ai.AllocationSize.QuadPart = (LONGLONG)end;
    if (!SetFileInformationByHandle(f->h, FileAllocationInfo, &ai, sizeof ai) &&
        GetLastError() != ERROR_CALL_NOT_IMPLEMENTED)
        return last_errno();
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)end;
    if (!SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof eof)) return last_errno();
    return 0;
}

int mo_pf_resize(mo_pf_file *f, uint64_t size)
{
    uint64_t cur;
    int e = file_size(f, &cur);
    if (e) return e;
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = (LONGLONG)size;
    if (SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof, sizeof eof)) {
        f->shrink_to = NO_SHRINK;
        return 0;
    }
    DWORD err = GetLastError();
    if (err == ERROR_USER_MAPPED_FILE && size < cur) {
        /* our own view is still there: shrink at close (see the top of this file) */
        f->shrink_to = size;
        return 0;
    }
    return errno_from(err);
}

int mo_pf_sync(mo_pf_file *f)
{
    if (f->writable) return FlushFileBuffers(f->h) ? 0 : last_errno();
    /* FlushFileBuffers needs write access (fsync does not): through a second handle */
    HANDLE w = ReOpenFile(f->h, GENERIC_READ | GENERIC_WRITE, share_all, 0);
    if (w == INVALID_HANDLE_VALUE) return last_errno();
    int e = FlushFileBuffers(w) ? 0 : last_errno();
    CloseHandle(w);
    return e;
}

/* ---- atomic creation ------------------------------------------------------------------------ */

int mo_pf_create_temp(const char *path, mo_pf_file **out, char **tmpname)
{
    *out = NULL;
    *tmpname = NULL;
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return ENOMEM;
    int e = EIO;
    for (int i = 0; i < 100; i++) {
        uint64_t r = 0;
        if (mo_pf_random(&r, sizeof r) != 0) r = mo_pf_monotonic_ns() ^ ((uint64_t)mo_pf_pid() << 40);
        snprintf(tmp, n + 32, "%s.tmp-%016llx", path, (unsigned long long)r);
        wchar_t *w = wide(tmp, &e);
        if (!w) break;
        /* shared for delete: the name can be moved into place while it is open */
        HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, share_all, NULL, CREATE_NEW,
                               FILE_ATTRIBUTE_NORMAL, NULL);
        free(w);
        if (h != INVALID_HANDLE_VALUE) {
            e = wrap(h, 1, out);
            if (e) {
                mo_pf_remove(tmp);
                break;
            }
            *tmpname = tmp;
            return 0;
        }
        e = last_errno();
        if (e != EEXIST) break;
    }
    free(tmp);
    return e;
}

int mo_pf_publish(mo_pf_file *f, const char *tmpname, const char *path)
{
    (void)f;
    if (!tmpname) return EINVAL; /* this backend always makes a named temporary */
    int e = 0;
    wchar_t *src = wide(tmpname, &e), *dst = src ? wide(path, &e) : NULL;
    if (!dst) {
        free(src);
        return e;
    }
    /* a rename that never replaces: ERROR_ALREADY_EXISTS when path exists by now */
    e = MoveFileExW(src, dst, MOVEFILE_WRITE_THROUGH) ? 0 : last_errno();
    free(src);
    free(dst);
    return e;
}

int mo_pf_replace(const char *src, const char *dst)
{
    int e = 0;
    wchar_t *ws = wide(src, &e), *wd = ws ? wide(dst, &e) : NULL;
    if (!wd) {
        free(ws);
        return e;
    }
    e = 0;
    if (!MoveFileExW(ws, wd, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        e = last_errno();
        /* ReplaceFileW copes with a destination that others have open (shared for delete) */
        if (ReplaceFileW(wd, ws, NULL, REPLACEFILE_IGNORE_MERGE_ERRORS, NULL, NULL)) e = 0;
    }
    free(ws);
    free(wd);
    return e;
}

void mo_pf_remove(const char *path)
{
    if (!path) return;
    int e = 0;
    wchar_t *w = wide(path, &e);
    if (!w) return;
    DeleteFileW(w);
    free(w);
}

/* Links are rare here and MoveFileExW replaces a link itself: the path as it is. */
char *mo_pf_resolve(const char *path, int *err)
{
    char *r = _strdup(path);
    if (!r) *err = ENOMEM;
    return r;
}

/* No POSIX permission bits: the new file gets the directory's inherited ACL. */
int mo_pf_copy_mode(mo_pf_file *model, const char *path)
{
    (void)model;
    (void)path;
    return 0;
}

/* Renames are made with MOVEFILE_WRITE_THROUGH: nothing more to flush. */
int mo_pf_sync_dir(const char *path)
{
    (void)path;
    return 0;
}

/* ---- locks --------------------------------------------------------------------------------- */

/* The OVERLAPPED that names lock byte n (LOCK_BASE + n) to LockFileEx and UnlockFileEx. */
static OVERLAPPED lock_at(uint64_t n)
{
    uint64_t off = LOCK_BASE + n;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    return ov;
}

static int lock_byte(mo_pf_file *f, uint64_t n, int exclusive, int wait)
{
    OVERLAPPED ov = lock_at(n);
    DWORD flags = (exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0) | (wait ? 0 : LOCKFILE_FAIL_IMMEDIATELY);
    if (LockFileEx(f->h, flags, 0, 1, 0, &ov)) return 0;
    return last_errno(); /* ERROR_LOCK_VIOLATION -> EAGAIN */
}

static void unlock_byte(mo_pf_file *f, uint64_t n)
{
    OVERLAPPED ov = lock_at(n);
    UnlockFileEx(f->h, 0, 1, 0, &ov);
}

/* The writer byte (waiting if wait), then ALIVE, both exclusive or both shared; neither on
 * failure. Once the writer byte is held, ALIVE can only be held for an instant by a probe. */
static int lock_writer_and_alive(mo_pf_file *f, int exclusive, int wait)
{
    int e = lock_byte(f, LOCK_WRITER, exclusive, wait);
    if (e) return e;
    e = lock_byte(f, LOCK_ALIVE, exclusive, 1);
    if (e) unlock_byte(f, LOCK_WRITER);
    return e;
}

int mo_pf_lock_writer(mo_pf_file *f, int wait)
{
    if (f->alive_held) return 0; /* this handle is the writer already */
    if (f->shared_held) {
        /* shared to exclusive: no atomic upgrade on Windows; give the shared hold up, then try
         * (used by a closing writer to learn that it is the last one: it leaves either way) */
        unlock_byte(f, LOCK_ALIVE);
        unlock_byte(f, LOCK_WRITER);
        f->shared_held = 0;
    }
    int e = lock_writer_and_alive(f, 1, wait);
    if (e) return e;
    f->alive_held = 1;
    return 0;
}

int mo_pf_lock_writer_shared(mo_pf_file *f)
{
    if (f->shared_held) return 0;
    if (f->alive_held) {
        /* exclusive to shared: lock shared on top, then unlock once (the exclusive hold goes) */
        int e = lock_byte(f, LOCK_WRITER, 0, 0);
        if (e) return e;
        unlock_byte(f, LOCK_WRITER);
        e = lock_byte(f, LOCK_ALIVE, 0, 1);
        if (e) return e;
        unlock_byte(f, LOCK_ALIVE);
        f->alive_held = 0;
        f->shared_held = 1;
        return 0;
    }
    int e = lock_writer_and_alive(f, 0, 0);
    if (e) return e;
    f->shared_held = 1;
    return 0;
}

int mo_pf_lock_gate(mo_pf_file *f)
{
    return lock_byte(f, LOCK_GATE, 1, 1);
}

void mo_pf_unlock_gate(mo_pf_file *f)
{
    unlock_byte(f, LOCK_GATE);
}

int mo_pf_lock_slot(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS) return EINVAL;
    int e = lock_byte(f, LOCK_SLOT + i, 1, 0);
    if (e == 0 && !f->slot) f->slot = i + 1;
    return e;
}

int mo_pf_slot_alive(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS || f->slot == i + 1) return 0; /* this handle's own slot */
    /* no F_GETLK: try it; a slot that can be taken has no holder */
    int e = lock_byte(f, LOCK_SLOT + i, 1, 0);
    if (e == 0) {
        unlock_byte(f, LOCK_SLOT + i);
        return 0;
    }
    return 1;
}

void mo_pf_wait32(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    /* WaitOnAddress does not work across processes: poll, briefly */
    (void)addr;
    (void)expected;
    if (timeout_ns >= 1000000u)
        Sleep(1);
    else
        SwitchToThread();
}

void mo_pf_wake32(uint32_t *addr)
{
    (void)addr; /* the waiters poll */
}

static SRWLOCK global_lock = SRWLOCK_INIT;

void mo_pf_global_lock(void)
{
    AcquireSRWLockExclusive(&global_lock);
}

void mo_pf_global_unlock(void)
{
    ReleaseSRWLockExclusive(&global_lock);
}

int mo_pf_lock_reader(mo_pf_file *f)
{
    return lock_byte(f, LOCK_READERS, 0, 1);
}

int mo_pf_lock_no_readers(mo_pf_file *f)
{
    return lock_byte(f, LOCK_READERS, 1, 0);
}

int mo_pf_writer_alive(mo_pf_file *f)
{
    if (f->alive_held) return 0; /* only this handle: no other writer */
    /* (a writer that shares the file holds ALIVE shared: the exclusive try below fails on it,
     * also when it is this handle; this handle asks only while it does not write) */
    int e = lock_byte(f, LOCK_ALIVE, 1, 0);
    if (e == 0) {
        unlock_byte(f, LOCK_ALIVE);
        return 0;
    }
    return 1; /* held by a writer, or cannot tell */
}

/* ---- address space -------------------------------------------------------------------------- */

typedef PVOID(WINAPI *virtual_alloc2_fn)(HANDLE, PVOID, SIZE_T, ULONG, ULONG, void *, ULONG);
typedef PVOID(WINAPI *map_view3_fn)(HANDLE, HANDLE, PVOID, ULONG64, SIZE_T, ULONG, ULONG, void *, ULONG);
typedef BOOL(WINAPI *unmap_view2_fn)(HANDLE, PVOID, ULONG);

static virtual_alloc2_fn p_virtual_alloc2;
static map_view3_fn p_map_view3;
static unmap_view2_fn p_unmap_view2;
static volatile LONG placeholders_off; /* set once they failed, or by the environment */
static INIT_ONCE api_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK load_api(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    char env[8];
    DWORD n = GetEnvironmentVariableA("MMAPOBJ_WIN32_NO_PLACEHOLDERS", env, sizeof env);
    if (n > 0 && n < sizeof env && strcmp(env, "0") != 0) placeholders_off = 1;
    /* loaded at run time: the DLL must load on systems (and Wines) without them */
    HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
    if (!kb) kb = LoadLibraryW(L"kernelbase.dll");
    if (kb) {
        p_virtual_alloc2 = (virtual_alloc2_fn)(void (*)(void))GetProcAddress(kb, "VirtualAlloc2");
        p_map_view3 = (map_view3_fn)(void (*)(void))GetProcAddress(kb, "MapViewOfFile3");
        p_unmap_view2 = (unmap_view2_fn)(void (*)(void))GetProcAddress(kb, "UnmapViewOfFile2");
    }
    if (!p_virtual_alloc2 || !p_map_view3 || !p_unmap_view2) placeholders_off = 1;
    return TRUE;
}

static void api_init(void)
{
    InitOnceExecuteOnce(&api_once, load_api, NULL, NULL);
}

/* One reservation made by mo_pf_reserve (see the top of this file). */
struct res {
    uint8_t *base;
    uint64_t size;
    int placeholder;  /* placeholder mode; else the release-and-remap fallback */
    /* fallback mode: */
    uint64_t mapped;  /* bytes of address space the prefix view at base stands for (0: none) */
    uint64_t view;    /* bytes of the section that view maps */
    HANDLE section;   /* the section that view maps (to put it back) */
    int writable;
    uint8_t *tail;    /* the reservation after the view (NULL: none) */
};

static SRWLOCK res_lock = SRWLOCK_INIT;
static struct res *res_tab;
static size_t res_n, res_cap;

static struct res *res_find(const void *addr)
{
    const uint8_t *a = addr;
    for (size_t i = 0; i < res_n; i++)
        if (a >= res_tab[i].base && (uint64_t)(a - res_tab[i].base) < res_tab[i].size) return &res_tab[i];
    return NULL;
}

static uint64_t granularity(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwAllocationGranularity ? si.dwAllocationGranularity : 65536;
}

uint64_t mo_pf_page_size(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize ? si.dwPageSize : 4096;
}

int mo_pf_reserve(uint64_t size, void **base)
{
    *base = NULL;
    if (size == 0 || size > (uint64_t)SIZE_MAX) return ENOMEM;
    api_init();
    void *b = NULL;
    int placeholder = 0;
    if (!placeholders_off) {
        b = p_virtual_alloc2(GetCurrentProcess(), NULL, (SIZE_T)size, MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
                             PAGE_NOACCESS, NULL, 0);
        if (b) placeholder = 1;
        else InterlockedExchange(&placeholders_off, 1); /* e.g. Wine 8: ERROR_INVALID_PARAMETER */
    }
    if (!b) b = VirtualAlloc(NULL, (SIZE_T)size, MEM_RESERVE, PAGE_NOACCESS);
    if (!b) return last_errno();
    AcquireSRWLockExclusive(&res_lock);
    if (res_n == res_cap) {
        size_t cap = res_cap ? res_cap * 2 : 16;
        struct res *t = realloc(res_tab, cap * sizeof *t);
        if (!t) {
            ReleaseSRWLockExclusive(&res_lock);
            if (placeholder) VirtualFree(b, 0, MEM_RELEASE);
            else VirtualFree(b, 0, MEM_RELEASE);
            return ENOMEM;
        }
        res_tab = t;
        res_cap = cap;
    }
    struct res *r = &res_tab[res_n++];
    memset(r, 0, sizeof *r);
    r->base = b;
    r->size = size;
    r->placeholder = placeholder;
    r->tail = b;
    ReleaseSRWLockExclusive(&res_lock);
    *base = b;
    return 0;
}

/* A section of f covering [0, end), at most the file's size (a read-only section cannot be
 * larger than the file, and a writable one would grow it). *len_out: its size. */
static HANDLE make_section(mo_pf_file *f, uint64_t end, int writable, uint64_t *len_out, int *err)
{
    uint64_t fsize;
    *err = file_size(f, &fsize);
    if (*err) return NULL;
    if (end == 0 || (end > fsize && end - fsize >= mo_pf_page_size())) {
        *err = EINVAL; /* more than the last partial page lies past the end of the file */
        return NULL;
    }
    uint64_t len = end < fsize ? end : fsize;
    HANDLE s = CreateFileMappingW(f->h, NULL, writable ? PAGE_READWRITE : PAGE_READONLY, (DWORD)(len >> 32),
                                  (DWORD)len, NULL);
    if (!s) *err = last_errno();
    *len_out = len;
    return s;
}

/* map_placeholder's answer when this reservation must go over to the fallback */
#define NEED_FALLBACK (-1)

/* Placeholder mode: maps [off, off+len) of f at addr, which lies in the placeholder tail of r.
 * A view into a placeholder must be exactly as large as the placeholder (whole pages) and may
 * not reach past the end of its section (Wine 10 refuses it; the section cannot be made larger
 * without growing the file, which a writer that refuses a file must not do), so a file whose
 * size is not a multiple of the page cannot end in such a view: that reservation goes over to
 * the fallback, whose one view may end inside its last page. */
static int map_placeholder(struct res *r, uint8_t *addr, mo_pf_file *f, uint64_t off, uint64_t len, int writable)
{
    uint64_t tail = (uint64_t)(r->base + r->size - addr);
    if (len > tail) return EINVAL;
    uint64_t have;
    int e;
    HANDLE s = make_section(f, off + len, writable, &have, &e);
    if (!s) return e;
    if (have < off + len) {
        CloseHandle(s);
        return NEED_FALLBACK;
    }
    /* a failed attempt may have left the tail split in two: make it one placeholder again
     * (fails harmlessly when it already is one), then split [addr, addr+len) off it */
    VirtualFree(addr, (SIZE_T)tail, MEM_RELEASE | MEM_COALESCE_PLACEHOLDERS);
    if (len < tail && !VirtualFree(addr, (SIZE_T)len, MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)) {
        e = last_errno();
        CloseHandle(s);
        return e;
    }
    void *v = p_map_view3(s, GetCurrentProcess(), addr, off, (SIZE_T)len, MEM_REPLACE_PLACEHOLDER,
                          writable ? PAGE_READWRITE : PAGE_READONLY, NULL, 0);
    DWORD err = v ? 0 : GetLastError();
    CloseHandle(s); /* the view keeps the section */
    if (v && v != addr) { /* cannot happen; never keep a view elsewhere */
        p_unmap_view2(GetCurrentProcess(), v, 0);
        return ENOMEM;
    }
    if (err == ERROR_INVALID_PARAMETER && !r->mapped) {
        /* a Windows (or Wine) with VirtualAlloc2 but without views into placeholders: the
         * fallback from now on */
        InterlockedExchange(&placeholders_off, 1);
        return NEED_FALLBACK;
    }
    if (!err) r->mapped = (uint64_t)(addr - r->base) + len;
    return err ? errno_from(err) : 0;
}

/* Unmaps every view of placeholder reservation r and frees its placeholders: its addresses are
 * free after. */
static void free_placeholders(struct res *r)
{
    uint8_t *p = r->base, *end = r->base + r->size;
    while (p < end) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery(p, &mbi, sizeof mbi) || mbi.RegionSize == 0) break;
        if (mbi.Type == MEM_MAPPED) UnmapViewOfFile(mbi.AllocationBase);
        else if (mbi.State == MEM_RESERVE) VirtualFree(mbi.AllocationBase, 0, MEM_RELEASE);
        p = (uint8_t *)mbi.BaseAddress + mbi.RegionSize;
    }
}

/* Turns placeholder reservation r (views and placeholders) into a plain reservation of the same
 * addresses, nothing mapped: the fallback's starting state. */
static int to_fallback(struct res *r)
{
    free_placeholders(r);
    r->placeholder = 0;
    r->mapped = 0;
    r->view = 0;
    r->section = NULL;
    void *b = VirtualAlloc(r->base, (SIZE_T)r->size, MEM_RESERVE, PAGE_NOACCESS);
    r->tail = b == r->base ? b : NULL;
    if (b && b != r->base) VirtualFree(b, 0, MEM_RELEASE);
    return r->tail ? 0 : ENOMEM;
}

/* Fallback mode: undoes what r holds (view and tail reservation). */
static void fb_clear(struct res *r)
{
    if (r->mapped) UnmapViewOfFile(r->base);
    if (r->tail) VirtualFree(r->tail, 0, MEM_RELEASE);
    r->tail = NULL;
}

/* Fallback mode: reserves r's tail after a view of `mapped` bytes (best effort). */
static void fb_reserve_tail(struct res *r)
{
    uint64_t g = granularity();
    uint64_t from = (r->mapped + g - 1) / g * g;
    r->tail = NULL;
    if (from >= r->size) return;
    void *t = VirtualAlloc(r->base + from, (SIZE_T)(r->size - from), MEM_RESERVE, PAGE_NOACCESS);
    if (t == r->base + from) r->tail = t;
    else if (t) VirtualFree(t, 0, MEM_RELEASE);
}

/* Fallback mode: makes r one view of section s, `view` bytes (mapped: the address space it
 * stands for), at r->base, and the tail reserved. 0, or an errno with the old state back. */
static int fb_set(struct res *r, HANDLE s, uint64_t view, uint64_t mapped, int writable)
{
    DWORD access = writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
    HANDLE old_s = r->section;
    uint64_t old_mapped = r->mapped, old_view = r->view;
    fb_clear(r);
    void *v = view ? MapViewOfFileEx(s, access, 0, 0, (SIZE_T)view, r->base) : r->base;
    if (v == r->base) {
        if (old_s && old_s != s) CloseHandle(old_s);
        r->section = view ? s : NULL;
        if (!view && s) CloseHandle(s);
        r->mapped = view ? mapped : 0;
        r->view = view;
        r->writable = writable;
        fb_reserve_tail(r);
        return 0;
    }
    int e = v ? ENOMEM : last_errno();
    if (v) UnmapViewOfFile(v);
    if (e == EINVAL || e == EIO) e = ENOMEM; /* the addresses were taken meanwhile */
    /* put the old view back */
    r->mapped = 0;
    if (old_mapped && old_s &&
        MapViewOfFileEx(old_s, r->writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ, 0, 0,
                        (SIZE_T)old_view, r->base) == r->base)
        r->mapped = old_mapped;
    else if (old_s) {
        CloseHandle(old_s);
        r->section = NULL;
    }
    fb_reserve_tail(r);
    if (s && s != old_s) CloseHandle(s);
    return e;
}

static int map_fallback(struct res *r, uint8_t *addr, mo_pf_file *f, uint64_t off, uint64_t len, int writable)
{
    if ((uint64_t)(addr - r->base) != off) return EINVAL; /* the file is mapped 1:1 from base */
    uint64_t end = off + len;
    if (end < r->mapped) end = r->mapped;
    if (end > r->size) return EINVAL;
    uint64_t have;
    int e;
    HANDLE s = make_section(f, end, writable, &have, &e);
    if (!s) return e;
    return fb_set(r, s, have, end, writable);
}

int mo_pf_map(void *addr, mo_pf_file *f, uint64_t off, uint64_t len, int writable)
{
    if (len == 0 || len > (uint64_t)SIZE_MAX) return EINVAL;
    AcquireSRWLockExclusive(&res_lock);
    struct res *r = res_find(addr);
    int e;
    if (!r) e = EINVAL;
    else if (r->placeholder) {
        e = map_placeholder(r, addr, f, off, len, writable);
        if (e == NEED_FALLBACK) {
            e = to_fallback(r);
            if (!e) e = map_fallback(r, addr, f, off, len, writable);
        }
    } else {
        e = map_fallback(r, addr, f, off, len, writable);
    }
    ReleaseSRWLockExclusive(&res_lock);
    return e;
}

int mo_pf_unmap_range(void *addr, uint64_t len)
{
    AcquireSRWLockExclusive(&res_lock);
    struct res *r = res_find(addr);
    int e = 0;
    if (!r) e = EINVAL;
    else if (r->placeholder) {
        /* every view in the range goes back to being a placeholder */
        uint8_t *p = addr, *end = (uint8_t *)addr + len;
        while (p < end) {
            MEMORY_BASIC_INFORMATION mbi;
            if (!VirtualQuery(p, &mbi, sizeof mbi) || mbi.RegionSize == 0) break;
            if (mbi.Type == MEM_MAPPED && (uint8_t *)mbi.AllocationBase >= (uint8_t *)addr)
                p_unmap_view2(GetCurrentProcess(), mbi.AllocationBase, MEM_PRESERVE_PLACEHOLDER);
            p = (uint8_t *)mbi.BaseAddress + mbi.RegionSize;
        }
        uint64_t at = (uint64_t)((uint8_t *)addr - r->base);
        if (at < r->mapped) r->mapped = at;
    } else {
        uint64_t at = (uint64_t)((uint8_t *)addr - r->base);
        if (at < r->mapped) {
            /* keep the prefix before addr: a shorter view of the same section */
            HANDLE s = NULL;
            if (at && !DuplicateHandle(GetCurrentProcess(), r->section, GetCurrentProcess(), &s, 0, FALSE,
                                       DUPLICATE_SAME_ACCESS))
                e = last_errno();
            else
                e = fb_set(r, s, at, at, r->writable);
        }
    }
    ReleaseSRWLockExclusive(&res_lock);
    return e;
}

void mo_pf_release(void *base, uint64_t size)
{
    (void)size;
    if (!base) return;
    AcquireSRWLockExclusive(&res_lock);
    struct res *r = res_find(base);
    if (r && r->placeholder) {
        free_placeholders(r);
    } else if (r) {
        fb_clear(r);
        if (r->section) CloseHandle(r->section);
    }
    if (r) *r = res_tab[--res_n];
    ReleaseSRWLockExclusive(&res_lock);
}

int mo_pf_flush_range(void *addr, uint64_t len)
{
    /* FlushViewOfFile works within one view: flush each view the range covers */
    uint8_t *p = addr, *end = (uint8_t *)addr + len;
    while (p < end) {
        MEMORY_BASIC_INFORMATION mbi;
        if (!VirtualQuery(p, &mbi, sizeof mbi) || mbi.RegionSize == 0) return EINVAL;
        uint8_t *rend = (uint8_t *)mbi.BaseAddress + mbi.RegionSize;
        if (rend > end) rend = end;
        if (mbi.Type == MEM_MAPPED && !FlushViewOfFile(p, (SIZE_T)(rend - p))) return last_errno();
        p = rend;
    }
    return 0;
}

/* ---- process, time, randomness ------------------------------------------------------------- */

int mo_pf_random(void *buf, size_t size)
{
    uint8_t *p = buf;
    while (size > 0) {
        ULONG n = size > 0x10000000u ? 0x10000000u : (ULONG)size;
        if (BCryptGenRandom(NULL, p, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return EIO;
        p += n;
        size -= n;
    }
    return 0;
}

uint32_t mo_pf_pid(void)
{
    return (uint32_t)GetCurrentProcessId();
}

int mo_pf_process_alive(uint32_t pid)
{
    if (pid == 0) return 0;
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!h) return GetLastError() == ERROR_ACCESS_DENIED; /* exists, not ours to look at */
    int alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    CloseHandle(h);
    return alive;
}

uint64_t mo_pf_realtime_ns(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
    return (t - UINT64_C(116444736000000000)) * 100u;
}

uint64_t mo_pf_monotonic_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&c);
    uint64_t q = (uint64_t)c.QuadPart, fr = (uint64_t)freq.QuadPart;
    return q / fr * 1000000000u + q % fr * 1000000000u / fr;
}

void mo_pf_yield(void)
{
    SwitchToThread();
}

int mo_pf_under_valgrind(void)
{
    return 0;
}

const char *mo_pf_strerror(int errnum, char *buf, size_t cap)
{
    if (cap == 0) return "";
    if (strerror_s(buf, cap, errnum) != 0) snprintf(buf, cap, "error %d", errnum);
    return buf;
}

/* ---- thread exit ---------------------------------------------------------------------------- */

static DWORD hook_index = FLS_OUT_OF_INDEXES;
static void (*hook_fn)(void *);
static int hook_err;
static INIT_ONCE hook_once = INIT_ONCE_STATIC_INIT;
typedef BOOLEAN(NTAPI *shutdown_fn)(void);
static shutdown_fn p_shutdown_in_progress;

/* Called with the thread's value when a thread (or fiber) that armed the hook ends; not at the
 * process's exit. */
static void WINAPI hook_run(void *v)
{
    if (!v || !hook_fn) return;
    if (p_shutdown_in_progress && p_shutdown_in_progress()) return;
    hook_fn(v);
}

static BOOL CALLBACK hook_create(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    if (nt) p_shutdown_in_progress = (shutdown_fn)(void (*)(void))GetProcAddress(nt, "RtlDllShutdownInProgress");
    hook_index = FlsAlloc(hook_run);
    if (hook_index == FLS_OUT_OF_INDEXES) hook_err = last_errno();
    return TRUE;
}

int mo_pf_thread_hook_init(void (*fn)(void *))
{
    InitOnceExecuteOnce(&hook_once, hook_create, NULL, NULL);
    if (hook_index == FLS_OUT_OF_INDEXES) return hook_err ? hook_err : EAGAIN;
    if (!hook_fn) hook_fn = fn;
    return 0;
}

int mo_pf_thread_hook_arm(void *v)
{
    if (hook_index == FLS_OUT_OF_INDEXES) return EAGAIN;
    return FlsSetValue(hook_index, v) ? 0 : last_errno();
}
