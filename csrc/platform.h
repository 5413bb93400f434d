/* platform.h - everything libmmapobj asks of the operating system, and nothing else: no other
 * file of csrc/ (outside csrc/tools) makes an OS call. One backend implements it; CMake picks
 * it:
 *   platform_linux.c  Linux (default there): OFD locks, O_TMPFILE + linkat, renameat2,
 *                     posix_fallocate, getrandom, futexes.
 *   platform_posix.c  (issue 10) macOS/BSD (CMake option MMAPOBJ_PORTABLE=ON, also on Linux):
 *                     fcntl locks shared through an in-process table keyed by (dev, ino),
 *                     getentropy, ftruncate + F_PREALLOCATE, named temporary + link/rename.
 *   platform_unix.c   compiled with either of the two above: what they do alike (stat/write/
 *                     resize, paths, mmap reservation and MAP_FIXED ranges, clocks, process
 *                     checks, valgrind detection, error text, pthread-key thread-exit hook).
 *   platform_win32.c  (later) HANDLEs, LockFileEx on bytes far past the data, MapViewOfFile3
 *                     into placeholders, BCryptGenRandom, UTF-8 paths converted to UTF-16.
 *
 * What every backend must provide, and the semantics the library relies on:
 * - Results: functions that can fail return 0 or a positive errno-style code with its POSIX name
 *   (ENOENT, EACCES, EAGAIN, ENOSPC, EEXIST, ...): a backend translates its own errors to those.
 *   The library turns them into MMAPOBJ_E_* codes (error.c) and their text (mo_pf_strerror).
 * - mo_pf_file is opaque: an open file plus whatever the backend keeps for it (an fd here, a
 *   HANDLE on Windows). Callers never look inside, and never assume it is a descriptor.
 * - Offsets and sizes are uint64_t everywhere (never off_t or long).
 * - Locks are named by role and belong to one handle: the writer lock (one holder per file), the
 *   reader-presence lock (shared by every open reader; a closing writer takes it exclusively,
 *   without waiting, to learn that no reader maps the file), and a probe that tells whether some
 *   handle anywhere holds the writer lock. Every lock dies with its process (SIGKILL included),
 *   is released by mo_pf_close of its handle, and closing one handle never drops a lock held
 *   through another handle of the same file in the same process (one process may hold a
 *   writer handle and several reader handles of one file at once).
 * - Mapping: a reservation of address space that commits nothing, into which ranges of a file
 *   are mapped shared at fixed addresses, replacing what was there; the base never moves.
 * - The thread-exit hook calls one function, with the value the exiting thread armed, when a
 *   thread that armed it ends (pthread_exit, return from its start routine, a terminated Node
 *   worker); never for a thread that disarmed it, and not for the process's last thread at
 *   exit(). */
#ifndef MMAPOBJ_PLATFORM_H
#define MMAPOBJ_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mo_pf_file mo_pf_file;

/* What the library needs to know of an open file. */
struct mo_pf_stat {
    uint64_t size;
    int regular; /* a regular file (not a directory, FIFO, device, ...) */
    uint64_t dev, ino; /* identity of the file (for the POSIX backend's lock table; tests) */
};

/* ---- files ------------------------------------------------------------------------------ */

/* Opens an existing file, read-only or read-write. Opening never blocks (a FIFO without a
 * peer opens; the caller rejects it by mo_pf_stat). Close-on-exec. ENOENT when it does not
 * exist. */
int mo_pf_open(const char *path, int writable, mo_pf_file **out);
/* Closes the file and releases every lock taken through this handle (NULL: no-op). */
void mo_pf_close(mo_pf_file *f);
int mo_pf_stat(mo_pf_file *f, struct mo_pf_stat *st);
/* Reads exactly n bytes at off (EIO when the file is shorter). */
int mo_pf_read(mo_pf_file *f, void *buf, size_t n, uint64_t off);
/* Writes exactly n bytes at off (extending the file if needed). */
int mo_pf_write(mo_pf_file *f, const void *buf, size_t n, uint64_t off);
/* Claims disk space for [off, off+len) and extends the file to cover it: a full disk is
 * ENOSPC here, never SIGBUS on a later store. */
int mo_pf_allocate(mo_pf_file *f, uint64_t off, uint64_t len);
/* Sets the file's size (shrinks or extends). */
int mo_pf_resize(mo_pf_file *f, uint64_t size);
/* Makes the file's data and size durable (fsync). */
int mo_pf_sync(mo_pf_file *f);

/* ---- atomic creation ---------------------------------------------------------------------- */

/* Makes a new empty read-write file in the directory of path, not yet visible under path: an
 * unnamed file where the filesystem can (then *tmpname = NULL), else a named temporary next to
 * path (*tmpname set: malloc'ed, the caller frees it and removes the file on failure with
 * mo_pf_remove). */
int mo_pf_create_temp(const char *path, mo_pf_file **out, char **tmpname);
/* Gives the complete file f (made by mo_pf_create_temp) the name path, without replacing
 * anything: EEXIST if path exists by now. The named temporary (if any) may remain; remove it.
 * With a tmpname, f may be NULL: then it names a closed, complete file. */
int mo_pf_publish(mo_pf_file *f, const char *tmpname, const char *path);
/* Atomically replaces dst with src (both names in one directory; a rename). */
int mo_pf_replace(const char *src, const char *dst);
/* Removes a name (errors are ignored: cleanup only). */
void mo_pf_remove(const char *path);
/* The path with symbolic links resolved (malloc'ed; the caller frees it), so that a rename
 * replaces the file a link names and keeps the link. NULL with *err set on failure. A backend
 * without links may return a copy of path. */
char *mo_pf_resolve(const char *path, int *err);
/* Gives the file at path the permission bits of the open file model (no-op where files have
 * none). */
int mo_pf_copy_mode(mo_pf_file *model, const char *path);
/* Makes the directory entry changes of path's directory durable (fsync of the directory; 0
 * where renames are durable by themselves). */
int mo_pf_sync_dir(const char *path);

/* ---- locks (by role; see the top of this file) --------------------------------------------- */

/* Takes the writer lock: 0; EAGAIN if another handle holds it; another code on failure. With
 * wait, blocks until it is free instead of EAGAIN. */
int mo_pf_lock_writer(mo_pf_file *f, int wait);
/* Takes a shared reader-presence lock; waits only while a closing writer holds it exclusively. */
int mo_pf_lock_reader(mo_pf_file *f);
/* Tries to take the reader-presence lock exclusively, without waiting: 0 when no other handle
 * holds it (no reader has the file open), EAGAIN when one does. */
int mo_pf_lock_no_readers(mo_pf_file *f);
/* 1 if some other handle (in any process) holds the writer lock of this file, 0 if none; 1
 * when it cannot be told. */
int mo_pf_writer_alive(mo_pf_file *f);

/* Several writers (wlock.c, file.c). The writer lock above is held exclusively by a writer that
 * has the file alone (exclusive mode, a library of format 1.0) and shared by writers that share
 * it. mo_pf_lock_writer(f, 0) also converts this handle's shared hold to exclusive when no other
 * handle holds the lock (the "am I the only writer" test); mo_pf_lock_writer_shared converts an
 * exclusive hold to shared without a moment of release. */
/* Takes the writer lock shared: 0; EAGAIN if another handle holds it exclusively. */
int mo_pf_lock_writer_shared(mo_pf_file *f);
/* The gate that writers sharing a file hold while they open or close it (so that "first" and
 * "last" writer are decided one at a time): waits; 0 or a code. */
int mo_pf_lock_gate(mo_pf_file *f);
void mo_pf_unlock_gate(mo_pf_file *f);
/* Writer slot i (0 <= i < MO_PF_SLOTS), held exclusively by one writer handle for its life, so
 * that the write lock word in the file can name its holder and anyone can ask whether the
 * holder is alive: 0, or EAGAIN when another handle holds it. */
#define MO_PF_SLOTS 0x7FFFFFFEu
int mo_pf_lock_slot(mo_pf_file *f, uint32_t i);
/* 1 if another handle (in any process) holds slot i, 0 if none (this handle's own slot reads as
 * 0); 1 when it cannot be told. */
int mo_pf_slot_alive(mo_pf_file *f, uint32_t i);
/* Waits while the 32-bit word at addr (in a shared file mapping) holds expected, until a
 * mo_pf_wake32 on it, a change, a signal or timeout_ns (a backend without such a call may just
 * sleep, briefly). Never longer than timeout_ns. */
void mo_pf_wait32(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);
/* Wakes every thread (any process) waiting in mo_pf_wait32 on addr. */
void mo_pf_wake32(uint32_t *addr);
/* One process-wide mutex (the registry of writer handles, wlock.c). */
void mo_pf_global_lock(void);
void mo_pf_global_unlock(void);

/* ---- address space ------------------------------------------------------------------------ */

/* Size of a page (the granularity of mappings). */
uint64_t mo_pf_page_size(void);
/* Reserves size bytes of address space (page multiple) without committing memory. */
int mo_pf_reserve(uint64_t size, void **base);
/* Maps [off, off+len) of f shared at addr (page multiples, inside a reservation), replacing
 * what was there; writable maps it read-write. On failure the range may hold neither the old
 * mapping nor the reservation: see mo_pf_unmap_range. */
int mo_pf_map(void *addr, mo_pf_file *f, uint64_t off, uint64_t len, int writable);
/* Turns [addr, addr+len) of a reservation back into reserved, unmapped address space. */
int mo_pf_unmap_range(void *addr, uint64_t len);
/* Releases a whole reservation and every mapping in it. */
void mo_pf_release(void *base, uint64_t size);
/* Writes the mapped range back to the file and waits (msync MS_SYNC). */
int mo_pf_flush_range(void *addr, uint64_t len);

/* ---- process, time, randomness ---------------------------------------------------------- */

/* size bytes of OS randomness without blocking: 0, or an errno when none is available. */
int mo_pf_random(void *buf, size_t size);
uint32_t mo_pf_pid(void);
/* 1 if a process with this id exists (a best-effort hint: ids are reused), else 0. */
int mo_pf_process_alive(uint32_t pid);
uint64_t mo_pf_realtime_ns(void);  /* wall clock, ns since 1970 */
uint64_t mo_pf_monotonic_ns(void); /* for waits and fallbacks */
void mo_pf_yield(void);            /* gives the CPU to another thread */
/* 1 when the process runs under valgrind (its address-space manager wants whole remaps). */
int mo_pf_under_valgrind(void);
/* Text of an errno-style code, written into buf (cap bytes); returns buf or a static text. */
const char *mo_pf_strerror(int errnum, char *buf, size_t cap);

/* ---- thread exit ------------------------------------------------------------------------ */

/* Sets the one function called at the exit of a thread that has armed the hook (idempotent;
 * the first call wins). 0 or an errno. */
int mo_pf_thread_hook_init(void (*fn)(void *));
/* Arms the hook for the calling thread with value v (NULL disarms). 0 or an errno. */
int mo_pf_thread_hook_arm(void *v);

#endif
