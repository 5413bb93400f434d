/* internal.h - private structures shared by the modules of libmmapobj: the map handle, the
 * iterator, and the internal functions each module exports to the others. */
#ifndef MMAPOBJ_INTERNAL_H
#define MMAPOBJ_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format.h"
#include "mmapobj.h"

#define MO_MAP_MAGIC 0x6D6D6170u  /* "mmap" */
#define MO_ITER_MAGIC 0x69746572u /* "iter" */
#define MO_ERRMSG_CAP 512

/* Internal result of a lookup attempt: the offset lies past this handle's mapping. */
#define MO_NEEDMAP (-9001)
/* Internal result of an iterator step: its buffer must grow to it->want, then retry. */
#define MO_NEEDBUF (-9002)

struct mmapobj_map {
    uint32_t magic;
    int fd;
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

/* A record found by a lookup (offsets into the mapping). */
struct mo_hit {
    uint64_t slot_index;
    uint64_t off;
    uint32_t klen;
    uint32_t vlen;
    int32_t kind;
};

/* error.c */
int mo_err(mmapobj_map *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mo_err_os(mmapobj_map *m, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mo_tls_err(const char *path, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mo_code_from_errno(int errnum);
void mo_copy_err_to_tls(const mmapobj_map *m);

/* header.c */
int mo_header_check(const uint8_t *p, uint64_t real_size, const char *path, char *msg, size_t cap);
void mo_header_init(struct mo_header *h, uint64_t seed, uint64_t file_size, uint64_t max_size,
                    uint64_t table_off, uint32_t log2);
uint64_t mo_header_checksum(const void *p);
int mo_table_marker_check(const uint8_t *p, char *msg, size_t cap);

/* table.c */
uint64_t mo_hash(uint64_t seed, const void *key, size_t len);
int mo_tref_check(const mmapobj_map *m, uint64_t tref, uint64_t *toff, uint32_t *log2);
int mo_read_record(const mmapobj_map *m, uint64_t off, struct mo_hit *hit);
int mo_ensure_scratch(mmapobj_map *m, size_t n);
int mo_table_build(mmapobj_map *m, uint64_t want, uint32_t log2);
/* The generation of the table block at toff (checked by mo_tref_check against the mapping). */
static inline uint64_t mo_table_generation(const mmapobj_map *m, uint64_t toff)
{
    uint64_t g;
    memcpy(&g, m->base + toff + 8, 8);
    return g;
}
uint32_t mo_seq_wait(mmapobj_map *m, uint64_t *s1);
int mo_writer_alive(mmapobj_map *m);

/* alloc.c */
int mo_alloc(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *off);
void mo_free_block(mmapobj_map *m, uint64_t off, uint64_t size);
void mo_release_region(mmapobj_map *m, uint64_t off, uint64_t len);
void mo_seq_begin(mmapobj_map *m);
void mo_seq_end(mmapobj_map *m);

/* freeidx.c */
int mo_fi_init(mmapobj_map *m);
void mo_fi_reset(mmapobj_map *m);
void mo_fi_destroy(mmapobj_map *m);
int mo_fi_has_free(const mmapobj_map *m);
void mo_fi_add(mmapobj_map *m, uint64_t off, uint64_t size);
int mo_fi_take(mmapobj_map *m, uint64_t n, uint64_t align, uint64_t *out);
int mo_fi_load(mmapobj_map *m);
void mo_fi_persist(mmapobj_map *m);

/* file.c */
int mo_grow(mmapobj_map *m, uint64_t need_end);
int mo_reader_remap(mmapobj_map *m);

/* repair.c / verify.c */
int mo_repair(mmapobj_map *m);

static inline int mo_is_map(const mmapobj_map *m)
{
    return m != NULL && m->magic == MO_MAP_MAGIC;
}

static inline uint64_t mo_round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

#endif
