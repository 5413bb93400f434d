/* test_valgrind.c - valgrind is detected at run time, whatever headers the build had: the build
 * of the library (with valgrind.h where installed) and a build of the platform backend without it
 * (test_valgrind_noheader, -DMMAPOBJ_NO_VALGRIND_H) both answer 0 in a plain run and 1 under
 * valgrind (ctest of MMAPOBJ_VALGRIND=ON sets MMAPOBJ_TEST_VALGRIND=1), and 1 for a program
 * started with valgrind's preload in LD_PRELOAD. The answer decides whether a growing mapping is
 * extended in place or remapped whole (mapping.c). */
#include <sys/wait.h>

#include "check.h"
#include "platform.h"

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--expect") == 0) {
        CHECK(mo_pf_under_valgrind() == atoi(argv[2]));
        CHECK(mo_pf_under_valgrind() == atoi(argv[2])); /* cached: same answer */
        return 0;
    }
    int want = getenv("MMAPOBJ_TEST_VALGRIND") != NULL;
    CHECK(mo_pf_under_valgrind() == want);
    /* a program valgrind starts has its preload in LD_PRELOAD (a path that does not exist here:
     * the loader says so on stderr and goes on) */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        setenv("LD_PRELOAD", "/nonexistent/valgrind/vgpreload_core-amd64-linux.so", 1);
        /* a cross build's test runs under an emulator (qemu-aarch64 ...), which must start the
         * copy too: MMAPOBJ_TEST_EMULATOR (test/c/CMakeLists.txt), words split at spaces */
        char *args[16];
        int n = 0;
        const char *e = getenv("MMAPOBJ_TEST_EMULATOR");
        static char emu[1024];
        if (e && *e && strlen(e) < sizeof emu) {
            strcpy(emu, e);
            for (char *w = strtok(emu, " "); w && n < 10; w = strtok(NULL, " ")) args[n++] = w;
        }
        args[n++] = argv[0]; /* ctest gives a full path */
        args[n++] = "--expect";
        args[n++] = "1";
        args[n] = NULL;
        execv(args[0], args);
        _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("%s: ok (under valgrind: %d)\n", argv[0], want);
    return 0;
}
