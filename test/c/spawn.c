/* spawn.c - the process harness of the C tests (see spawn.h): children are new copies of the test
 * program (posix_spawn / CreateProcessW), shared state lives in a file mapping. */
#include "spawn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <shellapi.h>
#else
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
extern char **environ;
#endif

#define SP_MAX_ARGS 32
/* Exit codes of a child that ends itself: its parent is gone / its time limit passed (the latter
 * only on Windows: POSIX children die of SIGALRM). */
#define SP_EXIT_ORPHAN 97
#define SP_EXIT_LIMIT 98

struct sp_kid {
    int used;
    int kill_sent;
    long pid;
#ifdef _WIN32
    HANDLE h;
#endif
};

static struct sp_kid kids[SP_MAX_KIDS];
static int in_child;
static char *prog; /* this program, as given to exec (POSIX: argv[0]) */
#ifdef _WIN32
static wchar_t prog_w[32768];
#endif

int sp_is_child(void)
{
    return in_child;
}

/* ---- failures ------------------------------------------------------------------------------- */

void sp_vfail(const char *fmt, va_list ap)
{
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    fflush(stdout);
    sp_kill_all();
    exit(1);
}

void sp_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_vfail(fmt, ap);
}

int sp_ok(const sp_status *st)
{
    return st->how == SP_EXITED && st->code == 0;
}

long sp_pid(int slot)
{
    return slot >= 0 && slot < SP_MAX_KIDS ? kids[slot].pid : -1;
}

static int free_slot(void)
{
    for (int i = 0; i < SP_MAX_KIDS; i++)
        if (!kids[i].used) return i;
    sp_fail("spawn: more than %d children at once", SP_MAX_KIDS);
}

static void check_slot(int slot, const char *what)
{
    if (slot < 0 || slot >= SP_MAX_KIDS || !kids[slot].used) sp_fail("spawn: %s of slot %d, which holds no child", what, slot);
}

const char *sp_status_str(const sp_status *st, char *buf, size_t n)
{
    switch (st->how) {
    case SP_EXITED:
        if (st->code == SP_EXIT_ORPHAN) snprintf(buf, n, "exit %ld (its parent was gone)", st->code);
#ifdef _WIN32
        else if (st->code == SP_EXIT_LIMIT) snprintf(buf, n, "exit %ld (its time limit passed)", st->code);
#endif
        else snprintf(buf, n, "exit %ld", st->code);
        break;
    case SP_KILLED: snprintf(buf, n, "killed by the test"); break;
#ifdef _WIN32
    case SP_CRASHED: snprintf(buf, n, "exception 0x%08lx", (unsigned long)st->code); break;
#else
    case SP_CRASHED: snprintf(buf, n, "signal %ld (%s)", st->code, strsignal((int)st->code)); break;
#endif
    default: snprintf(buf, n, "still running"); break;
    }
    return buf;
}

/* ---- the child side ------------------------------------------------------------------------- */

static long parse_long(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        fprintf(stderr, "spawn: bad %s '%s' on the child's command line\n", what, s);
        exit(2);
    }
    return v;
}

#ifdef _WIN32
static HANDLE parent_h;
static DWORD limit_ms;

/* Ends this child when its parent ends or its time limit passes, whichever comes first. */
static DWORD WINAPI watchdog(LPVOID arg)
{
    (void)arg;
    DWORD r = WaitForSingleObject(parent_h, limit_ms);
    fprintf(stderr, r == WAIT_OBJECT_0 ? "child %lu: parent ended, exiting\n" : "child %lu: time limit passed, exiting\n",
            (unsigned long)GetCurrentProcessId());
    fflush(stderr);
    TerminateProcess(GetCurrentProcess(), r == WAIT_OBJECT_0 ? SP_EXIT_ORPHAN : SP_EXIT_LIMIT);
    return 0;
}

static void guard_child(long ppid, long limit_s)
{
    parent_h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)ppid);
    if (!parent_h) exit(SP_EXIT_ORPHAN);
    limit_ms = limit_s > 0 ? (DWORD)limit_s * 1000u : INFINITE;
    HANDLE t = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);
    if (!t) {
        fprintf(stderr, "spawn: CreateThread failed (%lu)\n", (unsigned long)GetLastError());
        exit(2);
    }
    CloseHandle(t);
}
#else
#ifndef __linux__
static pid_t parent_pid;

static void *orphan_watch(void *arg)
{
    (void)arg;
    for (;;) {
        if (getppid() != parent_pid) _exit(SP_EXIT_ORPHAN);
        usleep(100000);
    }
    return NULL;
}
#endif

static void guard_child(long ppid, long limit_s)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)ppid) _exit(SP_EXIT_ORPHAN); /* the parent died before prctl */
#else
    parent_pid = (pid_t)ppid;
    if (getppid() != parent_pid) _exit(SP_EXIT_ORPHAN);
    pthread_t t;
    if (pthread_create(&t, NULL, orphan_watch, NULL) != 0) {
        fprintf(stderr, "spawn: pthread_create failed\n");
        exit(2);
    }
    pthread_detach(t);
#endif
    if (limit_s > 0) alarm((unsigned)limit_s);
}
#endif

#ifdef _WIN32
/* The C runtime's argv is in the ANSI code page: take the arguments from the UTF-16 command
 * line instead, as UTF-8 (the arguments of a child are test paths and strings). */
static char **utf8_argv(int *argc)
{
    int n = 0;
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!w) return NULL;
    char **a = calloc((size_t)n + 1, sizeof *a);
    for (int i = 0; a && i < n; i++) {
        int len = WideCharToMultiByte(CP_UTF8, 0, w[i], -1, NULL, 0, NULL, NULL);
        a[i] = len > 0 ? malloc((size_t)len) : NULL;
        if (!a[i]) return NULL;
        WideCharToMultiByte(CP_UTF8, 0, w[i], -1, a[i], len, NULL, NULL);
    }
    LocalFree(w);
    *argc = n;
    return a; /* kept for the life of the process */
}
#endif

void sp_main(int argc, char **argv, const sp_role *roles)
{
#ifdef _WIN32
    DWORD n = GetModuleFileNameW(NULL, prog_w, (DWORD)(sizeof prog_w / sizeof prog_w[0]));
    if (n == 0 || n >= sizeof prog_w / sizeof prog_w[0]) {
        fprintf(stderr, "spawn: GetModuleFileNameW failed (%lu)\n", (unsigned long)GetLastError());
        exit(2);
    }
    if (argc >= 2 && strcmp(argv[1], "--child") == 0) {
        argv = utf8_argv(&argc);
        if (!argv) {
            fprintf(stderr, "spawn: cannot read the command line as UTF-8\n");
            exit(2);
        }
    }
#endif
    prog = argv[0];
    if (argc < 2 || strcmp(argv[1], "--child") != 0) return;
    if (argc < 6) {
        fprintf(stderr, "spawn: usage: %s --child PARENT_PID LIMIT_S CPU ROLE ARG...\n", argv[0]);
        exit(2);
    }
    in_child = 1;
    long ppid = parse_long(argv[2], "parent pid");
    long limit = parse_long(argv[3], "time limit");
    long cpu = parse_long(argv[4], "cpu");
    guard_child(ppid, limit);
    if (cpu >= 0) sp_pin((int)cpu);
    for (const sp_role *r = roles; r->name; r++) {
        if (strcmp(r->name, argv[5]) != 0) continue;
        int rc = r->fn(argc - 6, argv + 6);
        fflush(stdout);
        fflush(stderr);
        exit(rc);
    }
    fprintf(stderr, "spawn: unknown child role '%s'\n", argv[5]);
    exit(2);
}

/* ---- the parent side ------------------------------------------------------------------------ */

#ifdef _WIN32
/* Appends arg to cmd quoted as CommandLineToArgvW / the C runtime parse it back. */
static size_t quote_arg(wchar_t *cmd, size_t at, size_t cap, const wchar_t *arg)
{
#define PUT(c) do { if (at + 1 >= cap) sp_fail("spawn: command line too long"); cmd[at++] = (c); } while (0)
    if (at) PUT(L' ');
    PUT(L'"');
    for (const wchar_t *p = arg;; p++) {
        size_t bs = 0;
        while (*p == L'\\') p++, bs++;
        if (*p == 0) { /* double the backslashes before the closing quote */
            for (size_t i = 0; i < bs * 2; i++) PUT(L'\\');
            break;
        }
        if (*p == L'"') { /* backslashes before a quote are doubled, the quote escaped */
            for (size_t i = 0; i < bs * 2 + 1; i++) PUT(L'\\');
        } else {
            for (size_t i = 0; i < bs; i++) PUT(L'\\');
        }
        PUT(*p);
    }
    PUT(L'"');
    cmd[at] = 0;
    return at;
#undef PUT
}

static wchar_t *utf16(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) sp_fail("spawn: '%s' is not UTF-8", s);
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) sp_fail("spawn: out of memory");
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}
#endif

int sp_spawn(const char *role, unsigned limit_s, int cpu, ...)
{
    const char *args[SP_MAX_ARGS];
    char ppid[32], limit[32], cpus[32];
    int n = 0;
#ifdef _WIN32
    snprintf(ppid, sizeof ppid, "%lu", (unsigned long)GetCurrentProcessId());
#else
    snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
#endif
    snprintf(limit, sizeof limit, "%u", limit_s);
    snprintf(cpus, sizeof cpus, "%d", cpu);
    args[n++] = prog;
    args[n++] = "--child";
    args[n++] = ppid;
    args[n++] = limit;
    args[n++] = cpus;
    args[n++] = role;
    va_list ap;
    va_start(ap, cpu);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
        if (n + 1 >= SP_MAX_ARGS) sp_fail("spawn: too many arguments for role %s", role);
        args[n++] = a;
    }
    va_end(ap);
    args[n] = NULL;
    if (!prog) sp_fail("spawn: sp_main() was not called");

    int slot = free_slot();
    fflush(stdout);
    fflush(stderr);
#ifdef _WIN32
    static wchar_t cmd[32768];
    size_t at = quote_arg(cmd, 0, sizeof cmd / sizeof cmd[0], prog_w);
    for (int i = 1; i < n; i++) {
        wchar_t *w = utf16(args[i]);
        at = quote_arg(cmd, at, sizeof cmd / sizeof cmd[0], w);
        free(w);
    }
    /* The child writes to our stdout/stderr: they must be inheritable. */
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE), err = GetStdHandle(STD_ERROR_HANDLE);
    if (out && out != INVALID_HANDLE_VALUE) SetHandleInformation(out, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    if (err && err != INVALID_HANDLE_VALUE) SetHandleInformation(err, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = NULL;
    si.hStdOutput = out;
    si.hStdError = err;
    if (!CreateProcessW(prog_w, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi))
        sp_fail("spawn: CreateProcessW(%s --child ... %s) failed: error %lu", prog, role, (unsigned long)GetLastError());
    CloseHandle(pi.hThread);
    kids[slot].h = pi.hProcess;
    kids[slot].pid = (long)pi.dwProcessId;
#else
    /* A cross build's tests run under an emulator (ctest's CMAKE_CROSSCOMPILING_EMULATOR, e.g.
     * qemu-aarch64): the kernel cannot start the target's program itself, so the child is
     * started through the same emulator, named in MMAPOBJ_TEST_EMULATOR (words split at spaces). */
    const char *full[SP_MAX_ARGS + 8];
    char emu[1024];
    int k = 0;
    const char *e = getenv("MMAPOBJ_TEST_EMULATOR");
    if (e && *e) {
        if (strlen(e) >= sizeof emu) sp_fail("spawn: MMAPOBJ_TEST_EMULATOR is too long");
        strcpy(emu, e);
        for (char *w = strtok(emu, " "); w; w = strtok(NULL, " ")) {
            if (k >= 8) sp_fail("spawn: too many words in MMAPOBJ_TEST_EMULATOR");
            full[k++] = w;
        }
    }
    for (int i = 0; i <= n; i++) full[k + i] = args[i];
    pid_t pid;
    int rc = posix_spawn(&pid, full[0], NULL, NULL, (char *const *)full, environ);
    if (rc != 0) sp_fail("spawn: posix_spawn(%s --child ... %s): %s", full[0], role, strerror(rc));
    kids[slot].pid = (long)pid;
#endif
    kids[slot].used = 1;
    kids[slot].kill_sent = 0;
    return slot;
}

void sp_kill(int slot)
{
    check_slot(slot, "kill");
#ifdef _WIN32
    TerminateProcess(kids[slot].h, 137); /* fails harmlessly if it has already ended */
#else
    kill((pid_t)kids[slot].pid, SIGKILL);
#endif
    kids[slot].kill_sent = 1;
}

#ifdef _WIN32
typedef LONG(NTAPI *nt_process_fn)(HANDLE);

static nt_process_fn ntdll_fn(const char *name)
{
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    nt_process_fn f = nt ? (nt_process_fn)(void (*)(void))GetProcAddress(nt, name) : NULL;
    if (!f) sp_fail("spawn: ntdll has no %s", name);
    return f;
}
#endif

void sp_suspend(int slot)
{
    check_slot(slot, "suspend");
#ifdef _WIN32
    LONG st = ntdll_fn("NtSuspendProcess")(kids[slot].h);
    if (st != 0) sp_fail("spawn: NtSuspendProcess: status 0x%08lx", (unsigned long)st);
#else
    if (kill((pid_t)kids[slot].pid, SIGSTOP) != 0) sp_fail("spawn: SIGSTOP: %s", strerror(errno));
    int ws = 0;
    pid_t r;
    do {
        r = waitpid((pid_t)kids[slot].pid, &ws, WUNTRACED);
    } while (r < 0 && errno == EINTR);
    if (r != (pid_t)kids[slot].pid || !WIFSTOPPED(ws)) sp_fail("spawn: child %ld did not stop", kids[slot].pid);
#endif
}

void sp_resume(int slot)
{
    check_slot(slot, "resume");
#ifdef _WIN32
    LONG st = ntdll_fn("NtResumeProcess")(kids[slot].h);
    if (st != 0) sp_fail("spawn: NtResumeProcess: status 0x%08lx", (unsigned long)st);
#else
    if (kill((pid_t)kids[slot].pid, SIGCONT) != 0) sp_fail("spawn: SIGCONT: %s", strerror(errno));
#endif
}

/* Has the child in slot ended? 1 (status in *st, slot freed) or 0. Waits up to ms. */
static int reap(int slot, unsigned ms, sp_status *st)
{
#ifdef _WIN32
    if (WaitForSingleObject(kids[slot].h, ms) != WAIT_OBJECT_0) return 0;
    DWORD code = 0;
    if (!GetExitCodeProcess(kids[slot].h, &code)) sp_fail("spawn: GetExitCodeProcess: error %lu", (unsigned long)GetLastError());
    if (kids[slot].kill_sent && code == 137) {
        st->how = SP_KILLED;
        st->code = 0;
    } else if (code >= 0xC0000000u) {
        st->how = SP_CRASHED;
        st->code = (long)code;
    } else {
        st->how = SP_EXITED;
        st->code = (long)code;
    }
    CloseHandle(kids[slot].h);
#else
    int ws = 0;
    pid_t r;
    for (;;) {
        r = waitpid((pid_t)kids[slot].pid, &ws, WNOHANG);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) sp_fail("spawn: waitpid(%ld): %s", kids[slot].pid, strerror(errno));
        if (r != 0 || ms == 0) break;
        unsigned step = ms < 2 ? ms : 2;
        sp_sleep_us((uint64_t)step * 1000);
        ms -= step;
    }
    if (r == 0) return 0;
    if (WIFEXITED(ws)) {
        st->how = SP_EXITED;
        st->code = WEXITSTATUS(ws);
    } else if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL && kids[slot].kill_sent) {
        st->how = SP_KILLED;
        st->code = 0;
    } else if (WIFSIGNALED(ws)) {
        st->how = SP_CRASHED;
        st->code = WTERMSIG(ws);
    } else {
        st->how = SP_CRASHED;
        st->code = -1;
    }
#endif
    kids[slot].used = 0;
    kids[slot].pid = 0;
    return 1;
}

static double now_s(void)
{
#ifdef _WIN32
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
#endif
}

sp_status sp_wait(int slot, double deadline_s)
{
    check_slot(slot, "wait");
    sp_status st = {SP_RUNNING, 0};
    double end = now_s() + deadline_s;
    long pid = kids[slot].pid;
    for (;;) {
        if (reap(slot, 20, &st)) return st;
        if (now_s() > end) sp_fail("child %ld did not finish within %.0f s", pid, deadline_s);
    }
}

int sp_wait_any(double timeout_s, sp_status *st)
{
    double end = now_s() + timeout_s;
    for (;;) {
        int any = 0;
#ifdef _WIN32
        HANDLE hs[SP_MAX_KIDS];
        int slots[SP_MAX_KIDS];
        for (int i = 0; i < SP_MAX_KIDS; i++)
            if (kids[i].used) {
                hs[any] = kids[i].h;
                slots[any++] = i;
            }
        if (!any) return -1;
        double left = end - now_s();
        DWORD ms = left <= 0 ? 0 : (DWORD)(left * 1000);
        DWORD r = WaitForMultipleObjects((DWORD)any, hs, FALSE, ms);
        if (r >= WAIT_OBJECT_0 && r < WAIT_OBJECT_0 + (DWORD)any) {
            if (reap(slots[r - WAIT_OBJECT_0], 0, st)) return slots[r - WAIT_OBJECT_0];
            continue;
        }
        return -1;
#else
        for (int i = 0; i < SP_MAX_KIDS; i++) {
            if (!kids[i].used) continue;
            any = 1;
            if (reap(i, 0, st)) return i;
        }
        if (!any || now_s() >= end) return -1;
        sp_sleep_us(1000);
#endif
    }
}

void sp_kill_all(void)
{
    for (int i = 0; i < SP_MAX_KIDS; i++) {
        if (!kids[i].used) continue;
        sp_kill(i);
        sp_status st;
        if (!reap(i, 10000, &st)) kids[i].used = 0; /* give up on it; nothing more to do */
    }
}

/* ---- shared region -------------------------------------------------------------------------- */

static void *shared_map(const char *path, size_t size, int create)
{
#ifdef _WIN32
    wchar_t *w = utf16(path);
    HANDLE f = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, create ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    free(w);
    if (f == INVALID_HANDLE_VALUE) sp_fail("shared region %s: CreateFileW: error %lu", path, (unsigned long)GetLastError());
    HANDLE fm = CreateFileMappingW(f, NULL, PAGE_READWRITE, (DWORD)((uint64_t)size >> 32), (DWORD)size, NULL);
    if (!fm) sp_fail("shared region %s: CreateFileMappingW: error %lu", path, (unsigned long)GetLastError());
    void *p = MapViewOfFile(fm, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (!p) sp_fail("shared region %s: MapViewOfFile: error %lu", path, (unsigned long)GetLastError());
    CloseHandle(fm);
    CloseHandle(f);
    if (create) memset(p, 0, size);
    return p;
#else
    int fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC : O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) sp_fail("shared region %s: open: %s", path, strerror(errno));
    if (create && ftruncate(fd, (off_t)size) != 0) sp_fail("shared region %s: ftruncate: %s", path, strerror(errno));
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) sp_fail("shared region %s: mmap: %s", path, strerror(errno));
    close(fd);
    return p;
#endif
}

void *sp_shared_create(const char *path, size_t size)
{
    return shared_map(path, size, 1);
}

void *sp_shared_open(const char *path, size_t size)
{
    return shared_map(path, size, 0);
}

void sp_shared_close(void *p, size_t size)
{
#ifdef _WIN32
    (void)size;
    UnmapViewOfFile(p);
#else
    munmap(p, size);
#endif
}

/* ---- small portable helpers ----------------------------------------------------------------- */

void sp_pin(int cpu)
{
#ifdef _WIN32
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    DWORD n = si.dwNumberOfProcessors;
    if (n < 1 || cpu < 0) return;
    SetProcessAffinityMask(GetCurrentProcess(), (DWORD_PTR)1 << ((DWORD)cpu % n));
#elif defined(__linux__)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1 || cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % (int)n, &set);
    (void)sched_setaffinity(0, sizeof set, &set); /* best effort */
#else
    (void)cpu; /* no portable way: best effort means none */
#endif
}

void sp_sleep_us(uint64_t us)
{
#ifdef _WIN32
    if (us >= 1000) {
        Sleep((DWORD)(us / 1000));
        return;
    }
    double end = now_s() + (double)us * 1e-6; /* Sleep() has 1 ms granularity at best */
    while (now_s() < end) SwitchToThread();
#else
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
#endif
}

double sp_now(void)
{
    return now_s();
}

/* ---- hang guard ----------------------------------------------------------------------------- */

#ifdef _WIN32
static volatile LONG64 alarm_at_ms; /* GetTickCount64 deadline, 0: none */
static void (*alarm_hook)(void);
static INIT_ONCE alarm_once = INIT_ONCE_STATIC_INIT;

static DWORD WINAPI alarm_thread(LPVOID arg)
{
    (void)arg;
    for (;;) {
        Sleep(100);
        LONG64 at = InterlockedCompareExchange64(&alarm_at_ms, 0, 0);
        if (at && (LONG64)GetTickCount64() >= at) {
            if (alarm_hook) alarm_hook();
            fprintf(stderr, "FAIL: time limit (sp_alarm) passed\n");
            fflush(stderr);
            TerminateProcess(GetCurrentProcess(), 14);
        }
    }
    return 0;
}

static BOOL CALLBACK alarm_start(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    HANDLE t = CreateThread(NULL, 0, alarm_thread, NULL, 0, NULL);
    if (t) CloseHandle(t);
    return t != NULL;
}
#endif

void sp_alarm(unsigned seconds)
{
#ifdef _WIN32
    if (seconds) InitOnceExecuteOnce(&alarm_once, alarm_start, NULL, NULL);
    InterlockedExchange64(&alarm_at_ms, seconds ? (LONG64)GetTickCount64() + (LONG64)seconds * 1000 : 0);
#else
    alarm(seconds);
#endif
}

void sp_set_alarm_hook(void (*fn)(void))
{
#ifdef _WIN32
    alarm_hook = fn;
#else
    (void)fn;
#endif
}
