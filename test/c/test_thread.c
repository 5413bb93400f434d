/* test_thread.c - handles of an exiting thread are closed: a thread that opens a writer (and a
 * reader and an iterator) and ends without closing them releases the writer lock, so the main
 * thread creates the same file at once; handles closed before the thread ends, closed by
 * another thread, or adopted by another thread are left alone. ASan and valgrind check that
 * nothing leaks and nothing is closed twice. */
#include "check.h"
#include "tthread.h"

static const char *g_path;

/* Opens a writer, a reader and an iterator on g_path and ends with all of them open. */
static void *leave_open(void *arg)
{
    (void)arg;
    mmapobj_map *w, *r;
    mmapobj_iter *it;
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &w));
    CHECK_OK(w, mmapobj_set_string(w, "from", 4, "thread", 6));
    CHECK_OK(NULL, mmapobj_open(g_path, &r));
    CHECK_OK(r, mmapobj_iter_open(r, &it));
    const void *key;
    size_t klen;
    CHECK(mmapobj_iter_next(it, &key, &klen, NULL) == 1);
    return NULL;
}

static void test_exit_closes(const char *dir)
{
    g_path = test_path(dir, "exit.mmo");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, leave_open, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    mmapobj_map *w;
    /* (alone: E_LOCKED if the thread's writer lived on) */
    CHECK_OK(NULL, mmapobj_create_ex(g_path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w));
    mmapobj_value v;
    CHECK_OK(w, mmapobj_get(w, "from", 4, &v));
    CHECK(v.len == 6 && memcmp(v.data, "thread", 6) == 0);
    CHECK_OK(w, mmapobj_verify(w)); /* closed cleanly: its free lists were written */
    CHECK_OK(w, mmapobj_close(&w));
    unlink(g_path);
}

/* Closes one of two handles itself, leaves the other open. */
static void *close_one(void *arg)
{
    (void)arg;
    mmapobj_map *a, *b;
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &a));
    CHECK_OK(NULL, mmapobj_open(g_path, &b));
    CHECK_OK(a, mmapobj_close(&a));
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &a)); /* reopened: registered again */
    CHECK_OK(a, mmapobj_close(&a));
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &a));
    (void)b; /* b and a stay open */
    return NULL;
}

static void test_closed_before_exit(const char *dir)
{
    g_path = test_path(dir, "some.mmo");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_one, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    mmapobj_map *w; /* alone: E_LOCKED if the thread's writer lived on */
    CHECK_OK(NULL, mmapobj_create_ex(g_path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &w));
    CHECK_OK(w, mmapobj_close(&w));
    unlink(g_path);
}

/* A thread that closes everything itself: its exit closes nothing more. */
static void *close_all(void *arg)
{
    (void)arg;
    mmapobj_map *a, *b;
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &a));
    CHECK_OK(NULL, mmapobj_open(g_path, &b));
    CHECK_OK(b, mmapobj_close(&b));
    CHECK_OK(a, mmapobj_close(&a));
    return NULL;
}

struct handoff {
    mmapobj_map *m;
    int adopt;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stage;
};

/* Opens a writer, hands it to the main thread, waits until told, and ends. */
static void *hand_over(void *arg)
{
    struct handoff *h = arg;
    mmapobj_map *w;
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &w));
    pthread_mutex_lock(&h->mu);
    h->m = w;
    h->stage = 1;
    pthread_cond_broadcast(&h->cv);
    while (h->stage != 2) pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void test_handoff(const char *dir, int adopt)
{
    g_path = test_path(dir, adopt ? "adopt.mmo" : "crossclose.mmo");
    struct handoff h = {NULL, adopt, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, hand_over, &h) == 0);
    pthread_mutex_lock(&h.mu);
    while (h.stage != 1) pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    mmapobj_map *w = h.m;
    if (adopt)
        CHECK_OK(w, mmapobj_adopt(w));
    else
        CHECK_OK(w, mmapobj_close(&w)); /* closed by another thread than its owner */
    pthread_mutex_lock(&h.mu);
    h.stage = 2;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    CHECK(pthread_join(t, NULL) == 0);
    if (adopt) {
        /* the opener has ended; the adopted handle is still open and ours */
        CHECK_OK(w, mmapobj_set_number(w, "n", 1, 7));
        mmapobj_map *second;
        CHECK_RC(NULL, mmapobj_create_ex(g_path, 0, 0, 0, MMAPOBJ_CREATE_EXCLUSIVE, &second),
                 MMAPOBJ_E_LOCKED);
        CHECK_OK(w, mmapobj_adopt(w)); /* adopting one's own handle is a no-op */
        CHECK_OK(w, mmapobj_close(&w));
    }
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &w));
    CHECK_OK(w, mmapobj_close(&w));
    CHECK_RC(NULL, mmapobj_adopt(NULL), MMAPOBJ_E_CLOSED);
    unlink(g_path);
}

int main(void)
{
    const char *dir = test_dir("test_thread");
    test_exit_closes(dir);
    test_closed_before_exit(dir);
    g_path = test_path(dir, "all.mmo");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_all, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    unlink(g_path);
    test_handoff(dir, 1);
    test_handoff(dir, 0);
    /* the main thread's own handles: registered and unregistered without a thread exit */
    mmapobj_map *m;
    g_path = test_path(dir, "main.mmo");
    CHECK_OK(NULL, mmapobj_create(g_path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_close(&m));
    unlink(g_path);
    rmdir(dir);
    printf("test_thread: ok\n");
    return 0;
}
