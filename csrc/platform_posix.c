/* platform_posix.c - the portable POSIX backend of platform.h, for macOS and the BSDs (and Linux
 * with -DMMAPOBJ_PORTABLE=ON, where the whole test suite runs on it). It uses only what POSIX and
 * those systems share: no OFD locks, O_TMPFILE, renameat2, getrandom, mremap or
 * MAP_FIXED_NOREPLACE.
 *
 * Locks. POSIX fcntl record locks belong to the process, not to the descriptor: two handles of one
 * file in one process never conflict with each other, and closing ANY descriptor of the file drops
 * every lock the process holds on it. platform.h promises per-handle locks, so this file keeps a
 * table of the files this process has open, keyed by (st_dev, st_ino):
 *   - who in this process holds the writer lock (byte 0), how many handles hold the shared
 *     reader-presence lock (byte 1), and whether one holds byte 1 exclusively; the fcntl lock is
 *     taken when the first handle of the process needs it and dropped when the last one lets go,
 *     and a handle that asks for a lock another handle of this process holds is refused (writer)
 *     or waits (a reader while a closing writer holds presence exclusively), as with OFD locks;
 *   - the descriptors of closed handles that could not be closed yet: closing one while the
 *     process still holds a lock on the file would drop that lock. They are kept with the entry,
 *     given to the next handle that opens the same file (so their number never exceeds the most
 *     handles open at once), and closed with the last handle of the file.
 *   - for several writers of one file: how many handles hold the writer lock shared, which one
 *     holds the writers' gate (byte 3), and which writer slots (bytes 2^32 + i) handles of this
 *     process hold; "is slot i held" is answered from the table for this process and by F_GETLK
 *     for the others. There is no portable wait on a word shared between processes: a writer
 *     waiting for the write lock sleeps in short steps (mo_pf_wait32).
 * (SQLite's unix VFS solves the same problem the same way: inode records and deferred closes.)
 * A lock taken by another process shows up through fcntl; every lock dies with its process.
 *
 * Space: posix_fallocate where the system has it; on macOS fcntl(F_PREALLOCATE) and ftruncate;
 * where neither can claim the space, one byte written per block of the new range. Creation: a
 * named temporary file next to the target, linked into place (link fails on an existing name).
 * Randomness: getentropy. What it does as the Linux backend does (mappings, clocks, paths, the
 * thread-exit hook, ...) is in platform_unix.c. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/random.h> /* getentropy */
#endif

#include "platform_unix.h"

#define LOCK_WRITER_BYTE 0
#define LOCK_READERS_BYTE 1
#define LOCK_GATE_BYTE 3
#define LOCK_SLOT_BASE ((off_t)1 << 32) /* writer slot i: byte 2^32 + i */

/* What handle f holds (mo_pf_file.held). */
#define HELD_WRITER 1u
#define HELD_READER 2u        /* shared reader presence */
#define HELD_NO_READERS 4u    /* reader presence, exclusively */
#define HELD_WSHARED 8u       /* the writer lock, shared (writers that share the file) */
#define HELD_GATE 16u         /* the writers' open/close gate */

struct pf_node;

struct mo_pf_file {
    int fd;
    int writable;        /* opened read-write */
    unsigned held;       /* HELD_* */
    uint32_t slot;       /* 1 + the writer slot this handle holds (0: none) */
    struct pf_node *node;
    mo_pf_file *next;    /* in node->spare: a closed handle whose fd stays open */
};
MO_PF_FD_FIRST;

/* One file (st_dev, st_ino) that this process has open. */
struct pf_node {
    uint64_t dev, ino;
    int users;            /* open handles */
    mo_pf_file *writer;   /* the handle holding the writer lock, or NULL */
    int readers;          /* handles holding shared reader presence */
    mo_pf_file *exclusive; /* the handle holding reader presence exclusively, or NULL */
    int busy;             /* a thread is between claiming a byte-1 lock here and fcntl's answer */
    int wshared;          /* handles holding the writer lock shared */
    mo_pf_file *gate;     /* the handle holding the writers' gate, or NULL */
    uint32_t *slots;      /* writer slots held by handles of this process (slot + 1; 0 free) */
    int nslots, capslots;
    mo_pf_file *spare;    /* closed handles whose descriptors must stay open for now */
    struct pf_node *next;
};

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_cv = PTHREAD_COND_INITIALIZER;
static struct pf_node *table;

static struct pf_node *node_find(uint64_t dev, uint64_t ino)
{
    for (struct pf_node *n = table; n; n = n->next)
        if (n->dev == dev && n->ino == ino) return n;
    return NULL;
}

/* Under table_mu: the entry of (dev, ino), created if needed (NULL: out of memory). */
static struct pf_node *node_get(uint64_t dev, uint64_t ino)
{
    struct pf_node *n = node_find(dev, ino);
    if (n) return n;
    n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->dev = dev;
    n->ino = ino;
    n->next = table;
    table = n;
    return n;
}

/* Under table_mu: does a handle of this process hold a writer slot of the file? */
static int node_has_slots(const struct pf_node *n)
{
    for (int i = 0; i < n->nslots; i++)
        if (n->slots[i]) return 1;
    return 0;
}

static void node_unlink(struct pf_node *n)
{
    for (struct pf_node **p = &table; *p; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            return;
        }
    }
}

/* One fcntl record lock on byte `start` (type F_RDLCK, F_WRLCK or F_UNLCK): 0, EAGAIN when
 * another process holds a conflicting lock, or another errno. */
static int posix_lock(int fd, short type, off_t start, int wait)
{
    return mo_pf_fcntl_lock(fd, F_SETLK, F_SETLKW, type, start, wait);
}

/* After asking the other processes for a lock that handle f claimed in this process (*claim = f):
 * on success f holds it (bit), else the claim goes and the waiters are woken. Returns e. */
static int settle_claim(mo_pf_file *f, mo_pf_file **claim, unsigned bit, int e)
{
    pthread_mutex_lock(&table_mu);
    if (e == 0) {
        f->held |= bit;
    } else {
        *claim = NULL;
        pthread_cond_broadcast(&table_cv);
    }
    pthread_mutex_unlock(&table_mu);
    return e;
}

/* Wraps a new descriptor and enters it in the table: 0 or an errno (fd closed then). */
static int wrap_fd(int fd, int writable, mo_pf_file **out)
{
    struct stat s;
    if (fstat(fd, &s) != 0) {
        int e = errno_or(EIO);
        close(fd);
        return e;
    }
    mo_pf_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return ENOMEM;
    }
    f->fd = fd;
    f->writable = writable;
    pthread_mutex_lock(&table_mu);
    f->node = node_get((uint64_t)s.st_dev, (uint64_t)s.st_ino);
    if (f->node) f->node->users++;
    pthread_mutex_unlock(&table_mu);
    if (!f->node) {
        close(fd);
        free(f);
        return ENOMEM;
    }
    *out = f;
    return 0;
}

/* A spare descriptor of the file at path that suits a handle (read-write if writable), taken
 * from the table: the open() it saves would otherwise add a descriptor that could not be closed
 * while this process holds a lock on the file. NULL when there is none. */
static mo_pf_file *reuse_spare(const char *path, int writable)
{
    struct stat s;
    if (stat(path, &s) != 0 || !S_ISREG(s.st_mode)) return NULL;
    mo_pf_file *f = NULL;
    pthread_mutex_lock(&table_mu);
    struct pf_node *n = node_find((uint64_t)s.st_dev, (uint64_t)s.st_ino);
    if (n) {
        for (mo_pf_file **p = &n->spare; *p; p = &(*p)->next) {
            if ((*p)->writable >= writable) {
                f = *p;
                *p = f->next;
                f->next = NULL;
                f->held = 0;
                n->users++;
                break;
            }
        }
    }
    pthread_mutex_unlock(&table_mu);
    return f;
}

/* ---- files -------------------------------------------------------------------------------- */

int mo_pf_open(const char *path, int writable, mo_pf_file **out)
{
    *out = NULL;
    mo_pf_file *f = reuse_spare(path, writable);
    if (f) {
        *out = f;
        return 0;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a peer; the caller's regular-file check
     * rejects it */
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return errno_or(EIO);
    return wrap_fd(fd, writable, out);
}

void mo_pf_close(mo_pf_file *f)
{
    if (!f) return;
    struct pf_node *n = f->node;
    pthread_mutex_lock(&table_mu);
    if ((f->held & HELD_WRITER) && n->writer == f) {
        n->writer = NULL;
        (void)posix_lock(f->fd, F_UNLCK, LOCK_WRITER_BYTE, 0);
    }
    if (f->held & HELD_READER) {
        n->readers--;
        if (n->readers == 0 && !n->exclusive) (void)posix_lock(f->fd, F_UNLCK, LOCK_READERS_BYTE, 0);
    }
    if ((f->held & HELD_NO_READERS) && n->exclusive == f) {
        n->exclusive = NULL;
        if (n->readers == 0) (void)posix_lock(f->fd, F_UNLCK, LOCK_READERS_BYTE, 0);
    }
    if (f->held & HELD_WSHARED) {
        n->wshared--;
        if (n->wshared == 0 && !n->writer) (void)posix_lock(f->fd, F_UNLCK, LOCK_WRITER_BYTE, 0);
    }
    if ((f->held & HELD_GATE) && n->gate == f) {
        n->gate = NULL;
        (void)posix_lock(f->fd, F_UNLCK, LOCK_GATE_BYTE, 0);
    }
    if (f->slot) {
        for (int i = 0; i < n->nslots; i++)
            if (n->slots[i] == f->slot) n->slots[i] = 0;
        (void)posix_lock(f->fd, F_UNLCK, LOCK_SLOT_BASE + (off_t)(f->slot - 1), 0);
        f->slot = 0;
    }
    f->held = 0;
    n->users--;
    mo_pf_file *spares = NULL;
    if (n->users == 0) {
        /* the last handle of the file: no lock of this process is left on it */
        node_unlink(n);
        spares = n->spare;
        free(n->slots);
        free(n);
        close(f->fd);
        free(f);
    } else if (!n->writer && n->readers == 0 && !n->exclusive && !n->busy && !n->wshared &&
               !n->gate && !node_has_slots(n)) {
        close(f->fd); /* no lock of this process on the file: nothing to drop */
        free(f);
    } else {
        f->next = n->spare; /* closing it now would drop the other handles' locks */
        n->spare = f;
    }
    pthread_cond_broadcast(&table_cv);
    pthread_mutex_unlock(&table_mu);
    while (spares) {
        mo_pf_file *s = spares;
        spares = s->next;
        close(s->fd);
        free(s);
    }
}

int mo_pf_read(mo_pf_file *f, void *buf, size_t n, uint64_t off)
{
    ssize_t got;
    do {
        got = pread(f->fd, buf, n, (off_t)off);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return errno_or(EIO);
    return (size_t)got == n ? 0 : EIO;
}

/* Claims the blocks of [from, to) by writing one zero byte in each (the range lies past the old
 * end of the file, so it reads as zeros anyway): a full disk fails here, not later as SIGBUS. */
static int touch_blocks(int fd, uint64_t from, uint64_t to, uint64_t block)
{
    static const char zero = 0;
    for (uint64_t at = from; at < to; at = (at / block + 1) * block) {
        ssize_t w;
        do {
            w = pwrite(fd, &zero, 1, (off_t)at);
        } while (w < 0 && errno == EINTR);
        if (w != 1) return w < 0 ? errno_or(EIO) : EIO;
    }
    if (to > from) {
        ssize_t w;
        do {
            w = pwrite(fd, &zero, 1, (off_t)(to - 1));
        } while (w < 0 && errno == EINTR);
        if (w != 1) return w < 0 ? errno_or(EIO) : EIO;
    }
    return 0;
}

int mo_pf_allocate(mo_pf_file *f, uint64_t off, uint64_t len)
{
    struct stat s;
    if (fstat(f->fd, &s) != 0) return errno_or(EIO);
    uint64_t size = (uint64_t)s.st_size, end = off + len;
    if (end <= size) return 0; /* the library only allocates past its own end of file */
#if defined(__APPLE__)
    /* F_PREALLOCATE claims space past the physical end of file; then extend the size */
    fstore_t fs;
    memset(&fs, 0, sizeof fs);
    fs.fst_flags = F_ALLOCATECONTIG | F_ALLOCATEALL;
    fs.fst_posmode = F_PEOFPOSMODE;
    fs.fst_offset = 0;
    fs.fst_length = (off_t)(end - size);
    int e = 0;
    if (fcntl(f->fd, F_PREALLOCATE, &fs) != 0) {
        fs.fst_flags = F_ALLOCATEALL; /* not contiguous, then */
        if (fcntl(f->fd, F_PREALLOCATE, &fs) != 0) e = errno_or(EIO);
    }
    if (e == ENOSPC) return e;
    if (ftruncate(f->fd, (off_t)end) != 0) return errno_or(EIO);
    if (e == 0) return 0;
    /* the filesystem cannot preallocate (e.g. not APFS/HFS+): claim each block by writing */
    return touch_blocks(f->fd, size, end, (uint64_t)(s.st_blksize > 0 ? s.st_blksize : 4096));
#else
    int e;
    do {
        e = posix_fallocate(f->fd, (off_t)off, (off_t)len);
    } while (e == EINTR);
    if (e != EINVAL && e != EOPNOTSUPP && e != ENOTSUP && e != ENOSYS) return e;
    /* the filesystem cannot allocate (e.g. ZFS): extend, then claim each block by writing */
    if (ftruncate(f->fd, (off_t)end) != 0) return errno_or(EIO);
    return touch_blocks(f->fd, size, end, (uint64_t)(s.st_blksize > 0 ? s.st_blksize : 4096));
#endif
}

int mo_pf_sync(mo_pf_file *f)
{
#if defined(__APPLE__)
    /* fsync on macOS leaves data in the drive's cache; F_FULLFSYNC flushes it (where the
     * filesystem does not support it, fall back to fsync) */
    if (fcntl(f->fd, F_FULLFSYNC) == 0) return 0;
#endif
    return fsync(f->fd) == 0 ? 0 : errno_or(EIO);
}

/* ---- atomic creation ------------------------------------------------------------------------ */

int mo_pf_create_temp(const char *path, mo_pf_file **out, char **tmpname)
{
    *out = NULL;
    *tmpname = NULL;
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) return ENOMEM;
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; i++) {
        uint64_t r = 0;
        if (mo_pf_random(&r, sizeof r) != 0)
            r = mo_pf_monotonic_ns() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&r;
        snprintf(tmp, n + 32, "%s.tmp-%016llx", path, (unsigned long long)r);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno_or(EIO);
        free(tmp);
        return e;
    }
    int e = wrap_fd(fd, 1, out);
    if (e) {
        unlink(tmp);
        free(tmp);
        return e;
    }
    *tmpname = tmp;
    return 0;
}

int mo_pf_publish(mo_pf_file *f, const char *tmpname, const char *path)
{
    (void)f;
    if (!tmpname) return EINVAL; /* this backend always makes a named temporary */
    /* link() never replaces an existing name: EEXIST when path appeared meanwhile */
    if (link(tmpname, path) == 0) return 0;
    int e = errno_or(EIO);
#if defined(__APPLE__) && defined(RENAME_EXCL)
    /* a filesystem without hard links: an exclusive rename does the same */
    if (e == EPERM || e == ENOTSUP) {
        if (renamex_np(tmpname, path, RENAME_EXCL) == 0) return 0;
        e = errno_or(EIO);
    }
#endif
    return e;
}

/* ---- locks --------------------------------------------------------------------------------- */

int mo_pf_lock_writer(mo_pf_file *f, int wait)
{
    struct pf_node *n = f->node;
    pthread_mutex_lock(&table_mu);
    if (f->held & HELD_WRITER) {
        pthread_mutex_unlock(&table_mu);
        return 0;
    }
    if (f->held & HELD_WSHARED) {
        /* shared to exclusive: only when no other handle of this process shares it, and no
         * other process (fcntl turns this process's read lock into a write lock, or refuses) */
        int e = EAGAIN;
        if (n->wshared == 1 && !n->writer) {
            e = posix_lock(f->fd, F_WRLCK, LOCK_WRITER_BYTE, 0);
            if (e == 0) {
                n->wshared = 0;
                n->writer = f;
                f->held = (f->held & ~HELD_WSHARED) | HELD_WRITER;
            }
        }
        pthread_mutex_unlock(&table_mu);
        return e;
    }
    while (n->writer || n->wshared) { /* another handle of this process is a writer */
        if (!wait) {
            pthread_mutex_unlock(&table_mu);
            return EAGAIN;
        }
        pthread_cond_wait(&table_cv, &table_mu);
    }
    n->writer = f; /* claimed in this process; now ask the other processes */
    pthread_mutex_unlock(&table_mu);
    return settle_claim(f, &n->writer, HELD_WRITER,
                        posix_lock(f->fd, F_WRLCK, LOCK_WRITER_BYTE, wait));
}

int mo_pf_lock_writer_shared(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    int e = 0;
    pthread_mutex_lock(&table_mu);
    if (f->held & HELD_WSHARED) goto out;
    if (f->held & HELD_WRITER) {
        /* exclusive to shared: fcntl turns the write lock into a read lock in one step */
        e = posix_lock(f->fd, F_RDLCK, LOCK_WRITER_BYTE, 0);
        if (e) goto out;
        n->writer = NULL;
        f->held = (f->held & ~HELD_WRITER) | HELD_WSHARED;
        n->wshared++;
        pthread_cond_broadcast(&table_cv);
        goto out;
    }
    if (n->writer) { /* another handle of this process has the file alone */
        e = EAGAIN;
        goto out;
    }
    if (n->wshared == 0) e = posix_lock(f->fd, F_RDLCK, LOCK_WRITER_BYTE, 0);
    if (e == 0) {
        n->wshared++;
        f->held |= HELD_WSHARED;
    }
out:
    pthread_mutex_unlock(&table_mu);
    return e;
}

int mo_pf_lock_gate(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    pthread_mutex_lock(&table_mu);
    if (f->held & HELD_GATE) {
        pthread_mutex_unlock(&table_mu);
        return 0;
    }
    while (n->gate) pthread_cond_wait(&table_cv, &table_mu); /* a handle of this process has it */
    n->gate = f;
    pthread_mutex_unlock(&table_mu);
    /* other processes: polled (held for short work only) */
    int e = mo_pf_fcntl_lock_polled(f->fd, F_SETLK, F_WRLCK, LOCK_GATE_BYTE);
    return settle_claim(f, &n->gate, HELD_GATE, e);
}

void mo_pf_unlock_gate(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    pthread_mutex_lock(&table_mu);
    if ((f->held & HELD_GATE) && n->gate == f) {
        (void)posix_lock(f->fd, F_UNLCK, LOCK_GATE_BYTE, 0);
        n->gate = NULL;
        f->held &= ~HELD_GATE;
        pthread_cond_broadcast(&table_cv);
    }
    pthread_mutex_unlock(&table_mu);
}

int mo_pf_lock_slot(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS) return EINVAL;
    struct pf_node *n = f->node;
    int e = 0, free_at = -1;
    pthread_mutex_lock(&table_mu);
    for (int k = 0; k < n->nslots; k++) {
        if (n->slots[k] == i + 1) e = EAGAIN; /* another handle of this process */
        if (!n->slots[k] && free_at < 0) free_at = k;
    }
    if (!e && free_at < 0) {
        if (n->nslots == n->capslots) {
            int cap = n->capslots ? n->capslots * 2 : 8;
            uint32_t *p = realloc(n->slots, (size_t)cap * sizeof *p);
            if (!p) e = ENOMEM;
            else {
                n->slots = p;
                n->capslots = cap;
            }
        }
        if (!e) free_at = n->nslots++;
        if (!e) n->slots[free_at] = 0;
    }
    if (!e) e = posix_lock(f->fd, F_WRLCK, LOCK_SLOT_BASE + (off_t)i, 0);
    if (!e) {
        n->slots[free_at] = i + 1;
        if (!f->slot) f->slot = i + 1;
    }
    pthread_mutex_unlock(&table_mu);
    return e;
}

int mo_pf_slot_alive(mo_pf_file *f, uint32_t i)
{
    if (i >= MO_PF_SLOTS || f->slot == i + 1) return 0; /* this handle's own slot */
    struct pf_node *n = f->node;
    int here = 0;
    pthread_mutex_lock(&table_mu);
    for (int k = 0; k < n->nslots; k++) here |= n->slots[k] == i + 1;
    pthread_mutex_unlock(&table_mu);
    if (here) return 1;
    /* F_GETLK reports the locks of other processes only (this process's own never conflict) */
    return mo_pf_fcntl_held(f->fd, F_GETLK, LOCK_SLOT_BASE + (off_t)i);
}

void mo_pf_wait32(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    /* no portable wait on a word shared between processes: a short sleep (the waiter looks
     * again after it) */
    (void)addr;
    (void)expected;
    uint64_t ns = timeout_ns < 200000u ? timeout_ns : 200000u;
    struct timespec ts = {0, (long)ns};
    nanosleep(&ts, NULL);
}

void mo_pf_wake32(uint32_t *addr)
{
    (void)addr; /* the waiters poll */
}

int mo_pf_lock_reader(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    int e = 0;
    pthread_mutex_lock(&table_mu);
    if (f->held & HELD_READER) goto out;
    /* wait while a closing writer of this process holds presence exclusively, or another
     * thread is taking the fcntl lock */
    while (n->exclusive || n->busy) pthread_cond_wait(&table_cv, &table_mu);
    if (n->readers == 0) {
        n->busy = 1;
        pthread_mutex_unlock(&table_mu);
        e = posix_lock(f->fd, F_RDLCK, LOCK_READERS_BYTE, 1); /* waits for a closing writer */
        pthread_mutex_lock(&table_mu);
        n->busy = 0;
        pthread_cond_broadcast(&table_cv);
        if (e) goto out;
    }
    n->readers++;
    f->held |= HELD_READER;
out:
    pthread_mutex_unlock(&table_mu);
    return e;
}

int mo_pf_lock_no_readers(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    int e;
    pthread_mutex_lock(&table_mu);
    if (f->held & HELD_NO_READERS) {
        e = 0;
    } else if (n->readers > 0 || n->busy || n->exclusive) {
        e = EAGAIN; /* a reader handle of this process has the file open */
    } else {
        e = posix_lock(f->fd, F_WRLCK, LOCK_READERS_BYTE, 0); /* never waits */
        if (e == 0) {
            n->exclusive = f;
            f->held |= HELD_NO_READERS;
        }
    }
    pthread_mutex_unlock(&table_mu);
    return e;
}

int mo_pf_writer_alive(mo_pf_file *f)
{
    struct pf_node *n = f->node;
    pthread_mutex_lock(&table_mu);
    int here = (n->writer && n->writer != f) || n->wshared > ((f->held & HELD_WSHARED) ? 1 : 0);
    pthread_mutex_unlock(&table_mu);
    if (here) return 1;
    /* F_GETLK reports the locks of other processes only (this process's own never conflict) */
    return mo_pf_fcntl_held(f->fd, F_GETLK, LOCK_WRITER_BYTE);
}

/* ---- randomness ----------------------------------------------------------------------------- */

int mo_pf_random(void *buf, size_t size)
{
    unsigned char *p = buf;
    while (size > 0) {
        size_t n = size < 256 ? size : 256; /* getentropy gives at most 256 bytes a call */
        if (getentropy(p, n) != 0) return errno_or(EIO);
        p += n;
        size -= n;
    }
    return 0;
}

