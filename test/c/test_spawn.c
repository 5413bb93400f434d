/* test_spawn.c - the process harness of the tests (spawn.h) itself: children start as copies of
 * this program with their arguments intact (spaces, quotes, backslashes, UTF-8), see the parent's
 * shared region and write to it, report their exit codes, die of a crash or of sp_kill() with a
 * status that says so, are found by sp_wait_any(), and end by themselves when their time limit
 * passes. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spawn.h"

#ifdef _WIN32
#include <windows.h>
#endif

struct shared {
    _Atomic uint32_t ready;
    _Atomic uint32_t count;
    char seen[4][256];
};

static const char *tricky[] = {"plain", "with space", "quote\"inside", "back\\slash\\", "\\\"", "", "é ü 日本"};
#define NTRICKY (sizeof tricky / sizeof tricky[0])

/* "args" SHARED A...: checks its arguments against tricky[] and exits 0 if they match. */
static int role_args(int argc, char **argv)
{
    if (argc != 1 + (int)NTRICKY) return 10;
    for (size_t i = 0; i < NTRICKY; i++)
        if (strcmp(argv[1 + i], tricky[i]) != 0) {
            fprintf(stderr, "argument %zu: got [%s], want [%s]\n", i, argv[1 + i], tricky[i]);
            return 11;
        }
    struct shared *s = sp_shared_open(argv[0], sizeof *s);
    atomic_fetch_add(&s->count, 1);
    snprintf(s->seen[0], sizeof s->seen[0], "%s", argv[7]);
    sp_shared_close(s, sizeof *s);
    return 0;
}

/* "exit" CODE */
static int role_exit(int argc, char **argv)
{
    return argc == 1 ? atoi(argv[0]) : 2;
}

/* "spin" SHARED: says it is ready, then spins until killed. */
static int role_spin(int argc, char **argv)
{
    if (argc != 1) return 2;
    struct shared *s = sp_shared_open(argv[0], sizeof *s);
    atomic_store(&s->ready, 1);
    for (;;) sp_sleep_us(1000);
}

#ifdef _WIN32
static LONG WINAPI no_debugger(EXCEPTION_POINTERS *e)
{
    (void)e;
    return EXCEPTION_EXECUTE_HANDLER;
}
#endif

/* "crash": dies of a fault the harness must report as a crash, not an exit. */
static int role_crash(int argc, char **argv)
{
    (void)argc;
    (void)argv;
#ifdef _WIN32
    /* no debugger (Wine starts winedbg for an unhandled exception): the process just ends
     * with the exception's code */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    SetUnhandledExceptionFilter(no_debugger);
    RaiseException(0xE0000042u, EXCEPTION_NONCONTINUABLE, 0, NULL);
#else
    raise(SIGTERM);
#endif
    return 0;
}

int main(int argc, char **argv)
{
    static const sp_role roles[] = {{"args", role_args}, {"exit", role_exit}, {"spin", role_spin},
                                    {"crash", role_crash}, {NULL, NULL}};
    sp_main(argc, argv, roles);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *dir = test_dir("spawn");
    const char *spath = test_path(dir, "shared.bin");
    struct shared *s = sp_shared_create(spath, sizeof *s);
    char b[96];

    /* arguments arrive intact; the child writes to the shared region */
    int k = sp_spawn("args", 60, -1, spath, tricky[0], tricky[1], tricky[2], tricky[3], tricky[4], tricky[5],
                     tricky[6], (const char *)NULL);
    sp_status st = sp_wait(k, 60);
    if (!sp_ok(&st)) sp_fail("args child: %s", sp_status_str(&st, b, sizeof b));
    CHECK(atomic_load(&s->count) == 1);
    CHECK(strcmp(s->seen[0], tricky[6]) == 0);

    /* exit codes */
    st = sp_wait(sp_spawn("exit", 60, -1, "0", (const char *)NULL), 60);
    CHECK(sp_ok(&st));
    st = sp_wait(sp_spawn("exit", 60, -1, "7", (const char *)NULL), 60);
    CHECK(st.how == SP_EXITED && st.code == 7 && !sp_ok(&st));
    st = sp_wait(sp_spawn("nosuchrole", 60, -1, (const char *)NULL), 60);
    CHECK(st.how == SP_EXITED && st.code == 2);

    /* a crash is not an exit */
    st = sp_wait(sp_spawn("crash", 60, -1, (const char *)NULL), 60);
    printf("crash child: %s\n", sp_status_str(&st, b, sizeof b));
    CHECK(st.how == SP_CRASHED);

    /* kill, and sp_wait_any finds the one that ended */
    atomic_store(&s->ready, 0);
    int a = sp_spawn("spin", 60, 0, spath, (const char *)NULL);
    int c = sp_spawn("exit", 60, 1, "3", (const char *)NULL);
    int got = sp_wait_any(60, &st);
    CHECK(got == c && st.how == SP_EXITED && st.code == 3);
    CHECK(sp_wait_any(0.05, &st) == -1); /* the spinner is still running */
    double until = sp_now() + 60;
    while (!atomic_load(&s->ready)) {
        if (sp_now() > until) sp_fail("spin child did not start within 60 s");
        sp_sleep_us(1000);
    }
    sp_kill(a);
    st = sp_wait(a, 60);
    CHECK(st.how == SP_KILLED);
    CHECK(sp_wait_any(0, &st) == -1); /* no children left */

    /* a child ends by itself when its time limit passes */
    double t0 = sp_now();
    st = sp_wait(sp_spawn("spin", 1, -1, spath, (const char *)NULL), 60);
    printf("spin child with a 1 s limit: %s after %.1f s\n", sp_status_str(&st, b, sizeof b), sp_now() - t0);
#ifdef _WIN32
    CHECK(st.how == SP_EXITED && st.code == 98);
#else
    CHECK(st.how == SP_CRASHED && st.code == SIGALRM);
#endif

    sp_shared_close(s, sizeof *s);
    remove(spath);
    rmdir(dir);
    printf("test_spawn: OK\n");
    return 0;
}
