/* spawn.h - the process harness of the C tests, without fork(): a child process is a new copy of
 * the test program itself, started as
 *
 *     PROGRAM --child PARENT_PID LIMIT_S CPU ROLE ARG...
 *
 * with posix_spawn() on POSIX and CreateProcessW() on Windows. main() hands its arguments to
 * sp_main() first; in a child that runs the role's function and exits with its result.
 *
 * A child inherits nothing but its arguments, the environment and stdout/stderr: state that the
 * parent and its children share lives in a file mapping (sp_shared_create/sp_shared_open) in the
 * test's directory (MMAPOBJ_TEST_DIR), never in /tmp.
 *
 * Every child dies with its parent (PR_SET_PDEATHSIG on Linux, a watchdog thread elsewhere) and
 * after LIMIT_S seconds at the latest; every wait is bounded; sp_fail() kills every child before
 * the parent exits. */
#ifndef MMAPOBJ_TEST_SPAWN_H
#define MMAPOBJ_TEST_SPAWN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A role a child can play: fn gets the arguments after ROLE (argv[0] is the first of them) and
 * returns the child's exit code. */
typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} sp_role;

/* Call first in main(). In a child (argv[1] == "--child") it runs the named role of roles (a
 * table ended by {NULL, NULL}) and exits with its result; in the parent it records the program's
 * path and returns. */
void sp_main(int argc, char **argv, const sp_role *roles);

/* 1 in a child started by sp_spawn, else 0. */
int sp_is_child(void);

#define SP_MAX_KIDS 16

/* Starts a child playing role with the given arguments (a NULL-terminated list of strings).
 * limit_s: the child ends itself after that many seconds; cpu >= 0: the child pins itself to CPU
 * (cpu modulo the CPU count), best effort. Returns the child's slot (0..SP_MAX_KIDS-1); fails the
 * test when the child cannot be started. stdout and stderr are flushed first. */
int sp_spawn(const char *role, unsigned limit_s, int cpu, ...);

/* How a child ended. */
enum { SP_RUNNING = 0, SP_EXITED = 1, SP_KILLED = 2, SP_CRASHED = 3 };
typedef struct {
    int how;  /* SP_EXITED: code holds the exit code; SP_KILLED: ended by sp_kill(); SP_CRASHED:
               * code holds the signal (POSIX) or the exception code (Windows) */
    long code;
} sp_status;

/* 1 if st is a normal exit with code 0. */
int sp_ok(const sp_status *st);

/* Forcibly ends the child at once (SIGKILL / TerminateProcess): it runs no cleanup of its own,
 * like a crash or an OOM kill. Its status becomes SP_KILLED (unless it had already ended). */
void sp_kill(int slot);

/* Stops the child where it is (SIGSTOP, waited for until it has stopped / every thread
 * suspended, NtSuspendProcess) and lets it go on again (SIGCONT / NtResumeProcess). */
void sp_suspend(int slot);
void sp_resume(int slot);

/* Waits for the child in slot until deadline_s seconds from now and frees the slot. Fails the
 * test (killing every child) when it does not end in time. */
sp_status sp_wait(int slot, double deadline_s);

/* Waits up to timeout_s for any registered child to end; returns its slot (freed, with *st set)
 * or -1 when none ended in that time. */
int sp_wait_any(double timeout_s, sp_status *st);

/* The child's process id (for messages). */
long sp_pid(int slot);

/* Kills every child still registered and reaps it (used on any failure). */
void sp_kill_all(void);

/* Prints "FAIL: ..." to stderr, kills every child and exits 1. */
void sp_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void sp_vfail(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0), noreturn));

/* "exit 3", "killed", "signal 11 (Segmentation fault)", "exception 0xc0000005", ... */
const char *sp_status_str(const sp_status *st, char *buf, size_t n);

/* A region of size bytes shared with children: a file at path (created, or truncated, and
 * zero-filled) mapped shared. Children map the same file with sp_shared_open. Fails the test on
 * any error. */
void *sp_shared_create(const char *path, size_t size);
void *sp_shared_open(const char *path, size_t size);
/* Unmaps a region (the file stays; the test removes its directory). */
void sp_shared_close(void *p, size_t size);

/* Pins the calling process to one CPU (cpu modulo the CPU count), best effort. */
void sp_pin(int cpu);

/* Sleeps for us microseconds. */
void sp_sleep_us(uint64_t us);

/* Seconds on a monotonic clock. */
double sp_now(void);

/* A hang guard: after seconds (0 cancels), POSIX raises SIGALRM (alarm()); Windows calls the
 * function given to sp_set_alarm_hook (if any) and ends the process with exit code 14. */
void sp_alarm(unsigned seconds);
void sp_set_alarm_hook(void (*fn)(void));

#endif
