/* make_corpus.c - writes the seed corpus of fuzz_open: small valid mmapobj files of several
 * shapes (empty, one key of each kind, many small keys with deletes and overwrites so the free
 * lists are used, a grown table, a file left by a writer that did not close). Usage:
 * make_corpus DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmapobj.h"

static int fail(const char *what, int rc, const mmapobj_map *m)
{
    fprintf(stderr, "make_corpus: %s: %s: %s\n", what, mmapobj_code_name(rc), mmapobj_errmsg(m));
    exit(1);
}

#define OK(m, call)                                  \
    do {                                             \
        int rc_ = (call);                            \
        if (rc_ != MMAPOBJ_OK) fail(#call, rc_, m);  \
    } while (0)

static mmapobj_map *fresh(const char *dir, const char *name, uint64_t buckets)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
    mmapobj_map *w = NULL;
    OK(NULL, mmapobj_create(p, 0, buckets, 0, &w));
    return w;
}

static void done(mmapobj_map **w)
{
    OK(*w, mmapobj_verify(*w));
    OK(*w, mmapobj_close(w));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    mkdir(dir, 0755);
    char key[64], val[512];

    mmapobj_map *w = fresh(dir, "empty.mmo", 0);
    done(&w);

    w = fresh(dir, "kinds.mmo", 8);
    OK(w, mmapobj_set_string(w, "a", 1, "b", 1));
    OK(w, mmapobj_set_number(w, "n", 1, 3.25));
    OK(w, mmapobj_set_bytes(w, "by\0tes", 6, "\0\1\2\3", 4));
    OK(w, mmapobj_set_string(w, "", 0, "", 0));
    done(&w);

    w = fresh(dir, "churn.mmo", 8);
    for (int i = 0; i < 120; i++) {
        int kl = snprintf(key, sizeof key, "key:%d", i);
        int vl = snprintf(val, sizeof val, "value %d %.*s", i, i % 40, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        OK(w, mmapobj_set_string(w, key, (size_t)kl, val, (size_t)vl));
    }
    for (int i = 0; i < 120; i += 3) {
        int kl = snprintf(key, sizeof key, "key:%d", i);
        OK(w, mmapobj_delete(w, key, (size_t)kl));
    }
    for (int i = 1; i < 120; i += 4) {
        int kl = snprintf(key, sizeof key, "key:%d", i);
        OK(w, mmapobj_set_number(w, key, (size_t)kl, i * 0.5));
    }
    done(&w);

    w = fresh(dir, "big-value.mmo", 8);
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 6; i++) {
        int kl = snprintf(key, sizeof key, "big%d", i);
        OK(w, mmapobj_set_bytes(w, key, (size_t)kl, val, sizeof val - (size_t)i * 70));
    }
    OK(w, mmapobj_delete(w, "big2", 4));
    done(&w);

    /* A writer that dies without closing leaves the DIRTY flag and an unshrunk file. */
    char p[1024];
    snprintf(p, sizeof p, "%s/dirty.mmo", dir);
    unlink(p);
    pid_t pid = fork();
    if (pid == 0) {
        mmapobj_map *c = NULL;
        if (mmapobj_create(p, 16384, 8, 0, &c) != MMAPOBJ_OK) _exit(1);
        for (int i = 0; i < 30; i++) {
            int kl = snprintf(key, sizeof key, "d%d", i);
            if (mmapobj_set_string(c, key, (size_t)kl, "dirty", 5) != MMAPOBJ_OK) _exit(1);
        }
        mmapobj_delete(c, "d7", 2);
        _exit(0); /* no close */
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "make_corpus: dirty child failed\n");
        return 1;
    }
    printf("make_corpus: wrote 5 seed files to %s\n", dir);
    return 0;
}
