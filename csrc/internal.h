/* internal.h - the private structures shared by the modules of libmmapobj: the map handle and
 * the iterator. Each module declares what it exports in its own header (the layers are listed
 * in README.md, Development, "Layout"). */
#ifndef MMAPOBJ_INTERNAL_H
#define MMAPOBJ_INTERNAL_H

#include <stdarg.h>
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
    struct mo_freeidx *fi;     /* writer: private index of free space (freeidx.c) */
    uint64_t fresh_from;       /* writer: bytes at or past this were never reachable */
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

static inline uint64_t mo_round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

#endif
