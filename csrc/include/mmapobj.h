/*
 * mmapobj.h - the public C API of libmmapobj.
 *
 * libmmapobj maps a file into memory and serves it as a string-keyed hash map
 * to many processes at once: any number of writers (serialized by a lock in
 * the file) and any number of lock-free readers, in any processes and threads,
 * that see each set/delete as soon as it returns.
 * The file format is described byte by byte in docs/FORMAT.md.
 *
 * Conventions
 *  - Every name starts with mmapobj_ / MMAPOBJ_.
 *  - Fallible calls return int: MMAPOBJ_OK (0), a positive result where the
 *    function says so, or one of the negative codes of enum mmapobj_code.
 *    Codes are pinned and never renumbered. mmapobj_strerror() names a code;
 *    mmapobj_errmsg() gives the detail of the last failure (file path, key
 *    problem, OS error text).
 *  - Keys are arbitrary bytes given as (pointer, length); they need no NUL.
 *    The *_z variants take a NUL-terminated key (for FFI callers, whose
 *    cheapest string argument is a C string).
 *  - Values have a kind: string (bytes, UTF-8 by convention), number (IEEE-754
 *    double) or bytes.
 *  - Lengths in memory are size_t; offsets and counts on disk are uint64_t.
 *
 * Caveats
 *  - Writers: any number of writer handles (any process or thread, several in
 *    one thread too) write one file at once; each set and delete takes the
 *    file's write lock for its duration (no system call when it is free) and
 *    is atomic. mmapobj_lock/mmapobj_unlock hold it across a batch. A writer
 *    that dies (SIGKILL included) holding it blocks the others for about
 *    10 ms; the next one repairs the file. A writer opened with
 *    MMAPOBJ_CREATE_EXCLUSIVE has the file alone: every other writer gets
 *    MMAPOBJ_E_LOCKED, as does every writer while it is open.
 *  - Do not wait for another process's or thread's writer while holding the
 *    lock (mmapobj_lock) on the same file: that one waits for you.
 *  - A handle is not thread-safe: use it from one thread at a time. Different
 *    handles may be used from different threads concurrently.
 *  - A handle belongs to the thread that opened it (or adopted it, see
 *    mmapobj_adopt). When that thread ends (returns from its start routine,
 *    calls pthread_exit, or is a Node worker being terminated) with the
 *    handle still open, the library closes the handle and its iterators, so
 *    that its locks are released (a writer's file can be created again at
 *    once) and its memory is freed; pointers to them are invalid from then
 *    on. A handle passed to another thread that outlives the opener must be
 *    adopted by that thread. At process exit nothing is closed (the OS
 *    releases the locks).
 *  - Do not use a handle across fork(): the child shares the mapping and the
 *    lock. Open new handles in the child. Descriptors are O_CLOEXEC.
 *  - Readers see writers' changes through the shared page cache. This holds
 *    on one machine; it does not hold over NFS/SMB. Do not share files over a
 *    network filesystem.
 *  - A file truncated by a foreign program while mapped can still raise
 *    SIGBUS in a process that maps it; mmapobj itself never shrinks a file
 *    while a reader has it open.
 *  - Readers wait only while the writer rewrites space a reader may still
 *    reach (the sequence counter is odd), which takes microseconds. A reader
 *    call that has waited about one second on one such write of a writer
 *    that is alive (stopped by SIGSTOP or a debugger, or a very long
 *    rebuild) returns MMAPOBJ_E_BUSY instead of waiting longer; a writer
 *    found dead is never waited for.
 *  - Pointers handed out (mmapobj_value.data, keys from iterators, the
 *    string returned by mmapobj_get_z) point into memory owned by the handle,
 *    never into the shared mapping, and stay valid until the next call on the
 *    same handle (or iterator) or until it is closed.
 */
#ifndef MMAPOBJ_H
#define MMAPOBJ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(MMAPOBJ_BUILDING) && defined(MMAPOBJ_BUILDING_DLL)
#define MMAPOBJ_API __declspec(dllexport) /* mmapobj.dll exports exactly these */
#elif defined(MMAPOBJ_BUILDING) && defined(__GNUC__) && !defined(_WIN32)
#define MMAPOBJ_API __attribute__((visibility("default")))
#else
#define MMAPOBJ_API
#endif

/* Library version (CMake parses these three lines). */
#define MMAPOBJ_VERSION_MAJOR 1
#define MMAPOBJ_VERSION_MINOR 0
#define MMAPOBJ_VERSION_PATCH 0

/* ABI version: bumped on any incompatible change of this header. Loaders
 * (the Node package) compare mmapobj_abi_version() with the value they were
 * written for and refuse a mismatch. */
#define MMAPOBJ_ABI_VERSION 1

/* File format version written by this library (see docs/FORMAT.md). */
#define MMAPOBJ_FORMAT_MAJOR 1
#define MMAPOBJ_FORMAT_MINOR 0

/* Largest key and value this library accepts (format limits). */
#define MMAPOBJ_MAX_KEY_LEN ((size_t)0x3FFFFFFF)   /* 1 GiB - 1 */
#define MMAPOBJ_MAX_VALUE_LEN ((size_t)0xFFFFFFFF) /* 4 GiB - 1 */

/* Defaults used when a size argument of mmapobj_create() is 0. */
#define MMAPOBJ_DEFAULT_FILE_SIZE ((uint64_t)5 * 1024 * 1024)          /* 5 MiB */
#define MMAPOBJ_DEFAULT_BUCKETS ((uint64_t)1024)
#define MMAPOBJ_DEFAULT_MAX_FILE_SIZE ((uint64_t)5 * 1024 * 1024 * 1024) /* 5 GiB */

/* Result and error codes. 0 is success; negatives are grouped:
 * -1 not found, -1xx OS/file, -2xx format/corruption, -3xx usage/state,
 * -4xx capacity. */
enum mmapobj_code {
    MMAPOBJ_OK = 0,
    MMAPOBJ_NOTFOUND = -1,       /* the key is not in the map */

    MMAPOBJ_E_IO = -101,         /* an OS call failed (detail names it) */
    MMAPOBJ_E_NOENT = -102,      /* the file does not exist (Open) or its directory does not */
    MMAPOBJ_E_ACCESS = -103,     /* permission denied */
    MMAPOBJ_E_NOTREG = -104,     /* the path is not a regular file */
    MMAPOBJ_E_LOCKED = -105,     /* another writer holds the file */
    MMAPOBJ_E_NOSPC = -106,      /* no space left on the device, or file size limit */
    MMAPOBJ_E_NOMEM = -107,      /* out of memory or address space */

    MMAPOBJ_E_BADMAGIC = -201,   /* not an mmapobj file */
    MMAPOBJ_E_MAJOR = -202,      /* format major version not supported */
    MMAPOBJ_E_MINOR = -203,      /* format minor version newer than this library */
    MMAPOBJ_E_TOOSMALL = -204,   /* file shorter than its header says (truncated or empty), or
                                  * being created in place (not a map yet) */
    MMAPOBJ_E_CORRUPT = -205,    /* a checksum or structural check failed */
    MMAPOBJ_E_LAYOUT = -206,     /* byte order / layout stamp does not match this machine */

    MMAPOBJ_E_INVAL = -301,      /* bad argument */
    MMAPOBJ_E_READONLY = -302,   /* write through a read-only handle */
    MMAPOBJ_E_CLOSED = -303,     /* handle is NULL or closed */
    MMAPOBJ_E_BUFSMALL = -304,   /* caller's buffer too small; see the function */
    MMAPOBJ_E_BUSY = -305,       /* a writer has been in the middle of a write for longer than
                                    the wait limit (about 1 s): a reader's call gave up waiting;
                                    the handle stays usable, try again later */
    MMAPOBJ_E_CANCELED = -306,   /* the caller's progress callback asked to stop; nothing
                                    changed */

    MMAPOBJ_E_FULL = -401,       /* the write needs more than max_file_size */
    MMAPOBJ_E_TOOBIG = -402,     /* key or value longer than the format allows */
    MMAPOBJ_E_RESERVE = -403     /* file outgrew this reader's address reservation: reopen */
};

/* Value kinds. Stored in the file; numbers pinned. */
enum mmapobj_kind {
    MMAPOBJ_KIND_NONE = 0,   /* no value (miss) */
    MMAPOBJ_KIND_STRING = 1,
    MMAPOBJ_KIND_NUMBER = 2,
    MMAPOBJ_KIND_BYTES = 3
};

/* One opaque handle per open file. */
typedef struct mmapobj_map mmapobj_map;
/* A cursor over the entries of a map. */
typedef struct mmapobj_iter mmapobj_iter;

/* A value read from the map. data/len describe string and bytes values
 * (data is not NUL-terminated for bytes; for strings a NUL follows data[len]).
 * number holds a number value. Memory belongs to the handle (see Caveats). */
typedef struct mmapobj_value {
    int32_t kind;          /* enum mmapobj_kind */
    int32_t reserved;
    double number;         /* kind == NUMBER */
    const void *data;      /* kind == STRING or BYTES */
    size_t len;
} mmapobj_value;

/* Statistics of an open map (mmapobj_stat). */
typedef struct mmapobj_stats {
    uint64_t file_size;        /* bytes of file in use by the map right now */
    uint64_t max_file_size;    /* the file never grows past this */
    uint64_t used_bytes;       /* header + table + live records */
    uint64_t free_bytes;       /* bytes reusable without growing: free blocks + unused tail */
    uint64_t count;            /* live keys */
    uint64_t bucket_count;     /* slots of the hash table */
    uint64_t max_bucket_count; /* most slots a table can have within max_file_size */
    double load_factor;        /* count / bucket_count */
    double max_load_factor;    /* the table grows when (count + tombstones) / buckets exceeds this */
    uint32_t format_major;
    uint32_t format_minor;
    int32_t writable;          /* 1 for a writer handle */
    int32_t writer_pid;        /* pid holding the writer lock, 0 if none (best effort) */
    uint64_t count_string, count_number, count_bytes; /* live keys per value kind, from the writer's
                                                         counters in the header (a reader sees the
                                                         writer's latest values) */
} mmapobj_stats;

/* The status block of a handle: the outcome of the last mmapobj_get_z()
 * and friends, in memory the caller can keep a view on (an FFI caller maps
 * it once and reads it without a call). Lives as long as the handle. */
typedef struct mmapobj_status {
    int32_t kind;      /* enum mmapobj_kind of the last lookup, NONE on miss/error */
    int32_t code;      /* MMAPOBJ_OK, MMAPOBJ_NOTFOUND or a negative error code */
    double number;     /* the value when kind == NUMBER */
    uint64_t len;      /* byte length of a string/bytes value (in the handle's scratch) */
} mmapobj_status;

/* ---- versions and errors ------------------------------------------------ */

/* MMAPOBJ_ABI_VERSION of the library actually loaded. Thread-safe. */
MMAPOBJ_API int mmapobj_abi_version(void);

/* "1.0.0". Static string. Thread-safe. */
MMAPOBJ_API const char *mmapobj_version_string(void);

/* Static description of a code ("no such key", "file is locked by another
 * writer", ...). Never NULL: unknown codes give "unknown error". */
MMAPOBJ_API const char *mmapobj_strerror(int code);

/* Symbolic name of a code: "MMAPOBJ_E_FULL". Never NULL ("MMAPOBJ_UNKNOWN").
 * Lets bindings map codes without copying numbers. */
MMAPOBJ_API const char *mmapobj_code_name(int code);

/* Detail of the last failure. With a handle: that handle's last failure
 * (names its path, and the key problem or OS error). With NULL: the calling
 * thread's last failure of a call that had no handle yet (create/open).
 * Never NULL; "" when there was none. Valid until the next failing call on
 * the same handle / thread. */
MMAPOBJ_API const char *mmapobj_errmsg(const mmapobj_map *m);

/* ---- open and close ----------------------------------------------------- */

/* Opens `path` for writing, creating it if missing (mode 0644 & ~umask).
 * An existing mmapobj file keeps its data. 0 for any size selects its
 * default. initial_size: bytes the file starts with (at least what the
 * header and table need). initial_buckets: keys to plan for (the table is
 * sized so that this many keys fit without growing). max_size: the file
 * never grows past this (at most 4 TiB, larger values are capped); for an
 * existing file 0 keeps the stored value, another value replaces it. An
 * existing empty file (0 bytes) is initialised as a new map in place (so
 * is a file whose creation in place did not finish: a writer killed while
 * creating leaves a file the next create starts again). A new file is
 * built unnamed in the same directory (O_TMPFILE, else a temporary name)
 * and linked into place complete; a dangling symbolic link at path is left
 * alone (E_NOENT), its target is not created. On success *out is a new
 * writer handle; other writers may have the file open at the same time
 * (see mmapobj_create_ex for exclusivity).
 * Errors: E_INVAL (NULL or empty path, NULL out, max_size smaller than
 *   needed or smaller than an existing file, initial_size larger than
 *   max_size (or than the default max_size when max_size is 0),
 *   initial_buckets > 2^38),
 *   E_NOENT, E_ACCESS, E_NOTREG, E_LOCKED, E_NOSPC, E_NOMEM, E_IO,
 *   and for an existing file every error of mmapobj_open.
 * If the file was left by a writer that died, or its writer state does not
 * check out (docs/FORMAT.md, "Trust rule": state checksum, alloc_end, free
 * lists), the counts, alloc_end and free space are rebuilt from the table
 * before this returns (a walk of every record: ~0.4 s at 1M keys; a cleanly
 * closed file whose state checks out is not walked). Thread-safe. */
MMAPOBJ_API int mmapobj_create(const char *path, uint64_t initial_size,
                               uint64_t initial_buckets, uint64_t max_size,
                               mmapobj_map **out);

/* Flags of mmapobj_create_ex. */
#define MMAPOBJ_CREATE_EXCLUSIVE 1u /* this handle has the file alone: no other writer */

/* mmapobj_create with flags (mmapobj_create is flags 0). Without
 * MMAPOBJ_CREATE_EXCLUSIVE the file is shared with every other writer that
 * does not ask for exclusivity; E_LOCKED (naming the file) only when an
 * exclusive writer (or a writer of library 1.0) has it. With it, E_LOCKED
 * when any other writer has the file open, and every writer that comes later
 * gets E_LOCKED until this handle is closed. A writer that joins others may
 * keep or lower max_size (0 keeps it) but not raise it (E_INVAL): their
 * address reservations could not follow. Errors: those of mmapobj_create,
 * E_INVAL for an unknown flag. Thread-safe. */
MMAPOBJ_API int mmapobj_create_ex(const char *path, uint64_t initial_size,
                                  uint64_t initial_buckets, uint64_t max_size,
                                  uint32_t flags, mmapobj_map **out);

/* Opens an existing file read-only. Never blocks on a writer, except for the
 * instant in which a closing writer shrinks the file. Holds a shared reader
 * lock until close, so that no writer shrinks the file under it.
 * Errors: E_INVAL, E_NOENT, E_ACCESS, E_NOTREG, E_BADMAGIC, E_MAJOR,
 *   E_MINOR, E_TOOSMALL, E_CORRUPT, E_LAYOUT, E_NOMEM, E_IO. Thread-safe. */
MMAPOBJ_API int mmapobj_open(const char *path, mmapobj_map **out);

/* Makes the calling thread the owner of m: m is closed when this thread ends
 * with it still open, no longer when the thread that opened it ends (see
 * Caveats). For a handle handed to a thread that outlives its opener; call
 * it while the handle is in use by no other thread. Errors: E_CLOSED,
 * E_NOMEM (the handle then has no owner thread and is never closed by a
 * thread's exit). Thread-safe with respect to other handles. */
MMAPOBJ_API int mmapobj_adopt(mmapobj_map *m);

/* Closes *m and sets *m to NULL; a NULL *m (or m) is a no-op returning
 * MMAPOBJ_OK, so close is idempotent. A writer's close gives back the write
 * lock if it holds it and syncs nothing (use mmapobj_flush); the last writer
 * to close marks the file clean and shrinks it to the bytes in use when no
 * reader has it open. Returns E_IO if shrinking failed; the handle is closed
 * either way. Closing from another thread than the handle's owner is fine,
 * but not while the owner thread may be ending: its exit would close the
 * handle too (see Caveats); adopt it first. */
MMAPOBJ_API int mmapobj_close(mmapobj_map **m);

/* Writes the map to stable storage (msync + fsync). Needed only for
 * durability against power loss or kernel crash; other processes see every
 * change at once. Errors: E_CLOSED, E_IO. On a reader it is a no-op. */
MMAPOBJ_API int mmapobj_flush(mmapobj_map *m);

/* The path the handle was opened with (owned by the handle). */
MMAPOBJ_API const char *mmapobj_path(const mmapobj_map *m);

/* 1 if the handle is a writer, 0 if a reader, E_CLOSED for NULL. */
MMAPOBJ_API int mmapobj_is_writable(const mmapobj_map *m);

/* ---- lookups ------------------------------------------------------------ */

/* Looks key up. On a hit fills *out and returns MMAPOBJ_OK; out->data is a
 * copy in the handle's scratch memory (valid until the next call on m).
 * Returns MMAPOBJ_NOTFOUND on a miss (out->kind = NONE).
 * Errors: E_CLOSED, E_INVAL (NULL key with klen > 0, NULL out), E_TOOBIG,
 *   E_CORRUPT (the file is damaged where the lookup went), E_NOMEM
 *   (scratch for a large value), E_RESERVE, E_BUSY (a reader: the writer
 *   stayed in the middle of a write for about 1 s; see Caveats). */
MMAPOBJ_API int mmapobj_get(mmapobj_map *m, const void *key, size_t klen,
                            mmapobj_value *out);

/* 1 if key is present, 0 if not, or a negative error as mmapobj_get. */
MMAPOBJ_API int mmapobj_has(mmapobj_map *m, const void *key, size_t klen);

/* FFI fast path: one call per lookup, key NUL-terminated. Returns a
 * NUL-terminated copy of the value when the key holds a string that contains
 * no NUL byte; otherwise NULL, and the status block (mmapobj_status_block)
 * says why: kind NONE + code NOTFOUND on a miss, kind NUMBER with the number,
 * kind STRING (with NUL inside) or BYTES with len (fetch the bytes with
 * mmapobj_copy_last), or kind NONE + a negative code on error (the errors
 * of mmapobj_get, E_BUSY included). The status
 * block is updated by every call of this function, also on success. */
MMAPOBJ_API const char *mmapobj_get_z(mmapobj_map *m, const char *key);

/* Same as mmapobj_get_z for a (pointer, length) key. */
MMAPOBJ_API const char *mmapobj_get_cstr(mmapobj_map *m, const void *key, size_t klen);

/* The handle's status block; stable address for the handle's lifetime. */
MMAPOBJ_API const mmapobj_status *mmapobj_status_block(const mmapobj_map *m);

/* Copies the string/bytes value of the last successful lookup on m (any of
 * the get functions) into buf, which must hold cap >= status len bytes.
 * Returns the number of bytes copied, E_BUFSMALL if cap is too small,
 * E_INVAL if the last lookup produced no string/bytes value. */
MMAPOBJ_API int64_t mmapobj_copy_last(mmapobj_map *m, void *buf, size_t cap);

/* mmapobj_has for a NUL-terminated key. */
MMAPOBJ_API int mmapobj_has_z(mmapobj_map *m, const char *key);

/* ---- writes (writer handles only) --------------------------------------- */

/* Takes the file's write lock and holds it until the matching
 * mmapobj_unlock, so that a batch of gets, sets and deletes through this
 * handle (or another writer handle of the same file in the same thread) is
 * not interleaved with other writers': a read-modify-write is atomic against
 * them. Readers still see each set as it happens. Calls nest (the lock is
 * given back at the outermost unlock). Waits while another writer holds it; a
 * holder that died is detected within about 10 ms, and its half-done
 * operation is repaired here. Errors: E_CLOSED, E_READONLY, and those of a
 * repair (E_CORRUPT, E_FULL, E_NOMEM, E_IO) with nothing held. */
MMAPOBJ_API int mmapobj_lock(mmapobj_map *m);

/* Gives back one level taken by mmapobj_lock. Errors: E_CLOSED,
 * E_READONLY, E_INVAL (this handle does not hold the lock). */
MMAPOBJ_API int mmapobj_unlock(mmapobj_map *m);

/* Sets key to a value of the given kind, replacing any old value. When this
 * returns MMAPOBJ_OK, every reader sees the new value. On any error nothing
 * changed and the handle stays usable. Takes the write lock for the
 * operation unless the handle holds it (mmapobj_lock).
 * Errors: E_CLOSED, E_READONLY, E_INVAL (NULL pointers with length > 0, bad
 *   kind), E_TOOBIG (key > MMAPOBJ_MAX_KEY_LEN or value >
 *   MMAPOBJ_MAX_VALUE_LEN), E_FULL (the file would exceed max_file_size),
 *   E_NOSPC (the disk is full), E_NOMEM, E_IO. */
MMAPOBJ_API int mmapobj_set(mmapobj_map *m, const void *key, size_t klen,
                            int32_t kind, const void *data, size_t len);
MMAPOBJ_API int mmapobj_set_string(mmapobj_map *m, const void *key, size_t klen,
                                   const void *str, size_t len);
MMAPOBJ_API int mmapobj_set_number(mmapobj_map *m, const void *key, size_t klen,
                                   double value);
MMAPOBJ_API int mmapobj_set_bytes(mmapobj_map *m, const void *key, size_t klen,
                                  const void *data, size_t len);

/* FFI variants with NUL-terminated key (and NUL-terminated string value). */
MMAPOBJ_API int mmapobj_set_string_z(mmapobj_map *m, const char *key, const char *str);
MMAPOBJ_API int mmapobj_set_number_z(mmapobj_map *m, const char *key, double value);

/* Removes key. MMAPOBJ_OK if it was there, MMAPOBJ_NOTFOUND if not.
 * Errors: E_CLOSED, E_READONLY, E_INVAL, E_TOOBIG, E_IO. */
MMAPOBJ_API int mmapobj_delete(mmapobj_map *m, const void *key, size_t klen);
MMAPOBJ_API int mmapobj_delete_z(mmapobj_map *m, const char *key);

/* ---- counts and statistics ---------------------------------------------- */

/* Number of live keys (a reader sees the writer's latest count). Negative
 * error (E_CLOSED) as int64. */
MMAPOBJ_API int64_t mmapobj_count(mmapobj_map *m);

/* Fills *out. Errors: E_CLOSED, E_INVAL. */
MMAPOBJ_API int mmapobj_stat(mmapobj_map *m, mmapobj_stats *out);

/* Walks the whole file and checks every structure: header, table, every
 * record, free lists, counts and space accounting. MMAPOBJ_OK if consistent;
 * E_CORRUPT with mmapobj_errmsg() describing the first inconsistency (offset
 * and what is wrong) otherwise. On a reader, concurrent writes can make a
 * walk fail spuriously; it retries a few times before reporting. A reader
 * may also get E_BUSY (see Caveats). Errors besides E_CORRUPT: E_CLOSED,
 * E_NOMEM, E_IO, E_RESERVE, E_BUSY. */
MMAPOBJ_API int mmapobj_verify(mmapobj_map *m);

/* ---- whole files ----------------------------------------------------------- */

/* Whether a writer holds the file at path: 1 if some handle (any process, this
 * one included) holds its writer lock, 0 if none; when it cannot be told, 1.
 * *pid (if pid is not NULL): when held, the process id the writer recorded in
 * the file if that process still exists, else 0 (a holder that records none,
 * such as a running mmapobj_compact, or a stale id); 0 when not held. Opens
 * path read-only for the call: takes no lock, writes nothing, never waits.
 * Errors: E_INVAL (NULL path), E_NOENT, E_ACCESS, E_NOTREG, E_IO, with the
 * detail in mmapobj_errmsg(NULL). Thread-safe. */
MMAPOBJ_API int mmapobj_writer_state(const char *path, int32_t *pid);

/* What mmapobj_compact did. */
typedef struct mmapobj_compact_info {
    uint64_t keys;       /* pairs copied */
    uint64_t old_size;   /* bytes of src before */
    uint64_t new_size;   /* bytes of the compacted file */
    int32_t repaired;    /* 1: src had been left by a writer that died mid-write
                            and was repaired (opened as a writer) first */
    int32_t output;      /* on failure, 1 when the error concerns the new file
                            (dst, or the temporary file), 0 when it concerns src */
} mmapobj_compact_info;

/* Called by mmapobj_compact every few thousand pairs and once at the end with
 * the pairs copied and the pairs there are; a nonzero return stops the
 * compaction (MMAPOBJ_E_CANCELED, src unchanged). */
typedef int (*mmapobj_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Copies every pair of src into a new file whose table is the smallest the
 * library makes for their number and which holds no free space.
 * dst NULL: replaces src with it (if src is a symbolic link, the file it
 * names), keeping its permission bits. dst given: creates dst, which must
 * not exist, and leaves src unchanged. Either way the copy is built in a
 * temporary file `.mmapobj-compact-<random>` in the target's directory,
 * verified, flushed and renamed into place (then the directory is synced):
 * the target appears complete or not at all, and on any failure nothing
 * changes and the temporary file is removed.
 * For the whole call src's writer lock is held, without writing to src (no
 * writer can change it meanwhile: the copy is a snapshot); readers that have
 * src open keep reading the old contents and see the new file when they
 * reopen. With dst given and src not writable by the caller, the lock is only
 * tested. src is verified first (mmapobj_verify): a damaged src is not
 * compacted. A src whose last writer died mid-write is repaired first (see
 * info->repaired). progress may be NULL; info may be NULL.
 * Errors: E_INVAL (NULL src; dst exists), E_LOCKED (a writer has src open;
 *   the detail names its pid when known), E_BUSY (src was replaced while
 *   opening it: try again), E_CANCELED, every error of mmapobj_open and
 *   mmapobj_verify for src (E_CORRUPT ...), and E_NOENT, E_ACCESS, E_NOSPC,
 *   E_FULL, E_NOMEM, E_IO (info->output tells which file). Detail in
 *   mmapobj_errmsg(NULL). Thread-safe (different src files). */
MMAPOBJ_API int mmapobj_compact(const char *src, const char *dst, mmapobj_progress_fn progress,
                                void *ctx, mmapobj_compact_info *info);

/* ---- iteration ------------------------------------------------------------ */

/* Opens a cursor over m. Every key present for the whole iteration is
 * produced exactly once; keys set or deleted during it may or may not be.
 * Survives the writer growing the table (it continues in the new table and
 * skips keys already produced, recognised by their 64-bit key hash: should
 * two keys share a hash, a chance of about 2^-64 per pair, the second one is
 * not produced after such a switch). For this the iterator keeps the hash
 * of every key it produced: 8 bytes per key of memory (plus growth slack).
 * The iterator should be closed before m;
 * an iterator whose map was closed returns E_CLOSED and can still be closed. 
 * Errors: E_CLOSED, E_INVAL, E_NOMEM. */
MMAPOBJ_API int mmapobj_iter_open(mmapobj_map *m, mmapobj_iter **out);

/* Produces the next entry: *key and *klen point to a copy of the key, *val (if
 * not NULL) to a copy of its value, both owned by the iterator and valid
 * until the next call on it. Returns 1 when an entry was produced, 0 at the
 * end, or a negative error (E_CLOSED, E_CORRUPT, E_NOMEM, E_RESERVE, and on
 * a reader E_BUSY: the writer stayed in the middle of a write for about 1 s;
 * the iterator stays usable and continues where it was). */
MMAPOBJ_API int mmapobj_iter_next(mmapobj_iter *it, const void **key, size_t *klen,
                                  mmapobj_value *val);

/* Bulk form for FFI callers: writes as many entries as fit into buf and
 * returns how many (0 at the end). Each entry is, little-endian and packed:
 *   u32 klen, key bytes,
 *   and if with_values: u8 kind, then for NUMBER 8 bytes of double,
 *                       for STRING/BYTES u32 len + bytes.
 * If the next entry alone does not fit, returns E_BUFSMALL and stores the
 * size it needs in *need (when need is not NULL); call again with a bigger
 * buffer. Other errors as mmapobj_iter_next. */
MMAPOBJ_API int mmapobj_iter_batch(mmapobj_iter *it, void *buf, size_t cap,
                                   int32_t with_values, uint64_t *need);

/* Closes *it, sets it to NULL; NULL is a no-op. */
MMAPOBJ_API void mmapobj_iter_close(mmapobj_iter **it);

#ifdef __cplusplus
}
#endif

#endif /* MMAPOBJ_H */
