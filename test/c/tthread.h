/* tthread.h - the few pthread calls the C tests use, on POSIX (pthread.h itself) and on
 * Windows (threads, SRW locks and condition variables of the Win32 API). */
#ifndef MMAPOBJ_TEST_TTHREAD_H
#define MMAPOBJ_TEST_TTHREAD_H

#ifndef _WIN32
#include <pthread.h>
#else
#include <stdlib.h>
#include <windows.h>

typedef struct {
    HANDLE h;
    void *(*fn)(void *);
    void *arg;
    void *ret;
} *pthread_t;
typedef SRWLOCK pthread_mutex_t;
typedef CONDITION_VARIABLE pthread_cond_t;
#define PTHREAD_MUTEX_INITIALIZER SRWLOCK_INIT
#define PTHREAD_COND_INITIALIZER CONDITION_VARIABLE_INIT

static DWORD WINAPI tthread_start(LPVOID p)
{
    pthread_t t = p;
    t->ret = t->fn(t->arg);
    return 0;
}

static inline int pthread_create(pthread_t *t, const void *attr, void *(*fn)(void *), void *arg)
{
    (void)attr;
    pthread_t n = calloc(1, sizeof *n);
    if (!n) return 1;
    n->fn = fn;
    n->arg = arg;
    n->h = CreateThread(NULL, 0, tthread_start, n, 0, NULL);
    if (!n->h) {
        free(n);
        return 1;
    }
    *t = n;
    return 0;
}

static inline int pthread_join(pthread_t t, void **ret)
{
    if (WaitForSingleObject(t->h, INFINITE) != WAIT_OBJECT_0) return 1;
    CloseHandle(t->h);
    if (ret) *ret = t->ret;
    free(t);
    return 0;
}

static inline int pthread_mutex_lock(pthread_mutex_t *m)
{
    AcquireSRWLockExclusive(m);
    return 0;
}

static inline int pthread_mutex_unlock(pthread_mutex_t *m)
{
    ReleaseSRWLockExclusive(m);
    return 0;
}

static inline int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    return SleepConditionVariableSRW(c, m, INFINITE, 0) ? 0 : 1;
}

static inline int pthread_cond_broadcast(pthread_cond_t *c)
{
    WakeAllConditionVariable(c);
    return 0;
}
#endif

#endif
