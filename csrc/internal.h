/* internal.h - the private structures shared by the modules of libmmapobj: the map handle and
 * the iterator. Each module declares what it exports in its own header (the layers are listed
 * in README.md, Development, "Layout"). */
#ifndef MMAPOBJ_INTERNAL_H
#define MMAPOBJ_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format.h"
#include "platform.h"
#include "mmapobj.h"

#define MO_MAP_MAGIC 0x6D6D6170u  /* "mmap" */
#define MO_ITER_MAGIC 0x69746572u /* "iter" */
#define MO_ERRMSG_CAP 512

/* Internal result of an iterator step: its buffer must grow to it->want, then retry. */
#define MO_NEEDBUF (-9002)

struct mmapobj_map {
    uint32_t magic;
    mo_pf_file *file;          /* the open file (platform.h) */
    int writable;
    int seq_odd;               /* writer: seq is odd during the current operation */
    uint64_t dead_seq;         /* reader: odd seq left by a writer found dead (0: none) */
    uint8_t *base;             /* fixed base of the reservation; the header lives here */
    struct mo_header *hdr;
    uint64_t reserve;          /* bytes of address space reserved at base */
    uint64_t mapped;           /* bytes of the file mapped (page multiple) */
    uint64_t valid;            /* bytes of the file known to exist (fstat / our own growth) */
    uint64_t page;
    uint64_t seed;             /* hash seed (copied from the checked header) */
    uint32_t class_count;
    /* writer */
    int exclusive;             /* opened with MMAPOBJ_CREATE_EXCLUSIVE */
    int fi_growing;            /* the index of free space is moving to a bigger block */
    struct mo_freeidx *fi;     /* the index of free space, in the mapping (freeidx.c) */
    uint64_t fi_ref;           /* the file offset fi was computed from */
    uint32_t slot;             /* writer slot (platform.h), named by the lock word when holding */
    uint64_t dev, ino;         /* identity of the file */
    /* the write lock (wlock.c); touched only by the thread that holds it */
    struct mmapobj_map *hold;  /* the handle whose slot the lock word names: this one, or the
                                  one it rides on; NULL when not holding */
    uint32_t own;              /* lock levels held through this handle */
    uint32_t total;            /* holder: levels held by it and its riders */
    struct mmapobj_map *riders, *ride_next; /* holder: handles riding on its hold */
    _Atomic uint64_t holder_thread; /* holder: the thread holding the lock (0 when not) */
    struct mmapobj_map *reg_next;   /* the process's registry of writer handles */
    char *path;
    uint8_t *scratch;          /* value copies handed to the caller */
    size_t scratch_cap;
    int32_t last_kind;         /* kind of the last lookup's value in scratch */
    uint64_t last_len;
    struct mmapobj_iter *iters; /* open iterators (orphaned on close) */
    struct mo_owner *owner;    /* the thread whose exit closes this handle (file.c), or NULL */
    mmapobj_map *onext, *oprev; /* that thread's other open handles */
    mmapobj_status status;
    char errmsg[MO_ERRMSG_CAP];
};

struct mmapobj_iter {
    uint32_t magic;
    mmapobj_map *m;
    struct mmapobj_iter *next, *prev;
    uint64_t tref;             /* the table the cursor walks */
    uint64_t gen;              /* and its generation (table block + 8) */
    uint64_t pos;              /* next slot */
    int switched;              /* the table changed at least once */
    int pending;               /* batch: an entry produced but not yet delivered */
    int done;
    uint64_t *hashes;          /* hashes of produced keys */
    size_t nhashes, caphashes, nsorted;
    uint8_t *buf;
    size_t cap;
    size_t klen;
    size_t want;               /* reader: buffer size a confirmed entry needs (MO_NEEDBUF) */
    mmapobj_value val;
};

static inline int mo_is_map(const mmapobj_map *m)
{
    return m != NULL && m->magic == MO_MAP_MAGIC;
}

/* Nothing changes under this handle's reads: a writer holding the write lock (or riding on a
 * hold of its thread), or the only writer of the file. Others read with the seqlock protocol. */
static inline int mo_stable(const mmapobj_map *m)
{
    return m->writable && (m->hold != NULL || m->exclusive);
}

static inline uint64_t mo_round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

#endif
