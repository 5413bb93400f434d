/* walk.h - the full walk of a map's table shared by mmapobj_verify (verify.c) and crash repair
 * (repair.c). */
#ifndef MMAPOBJ_WALK_H
#define MMAPOBJ_WALK_H

#include "internal.h"
#include "format.h"

struct mo_block {
    uint64_t off;
    uint64_t size;
    uint32_t type; /* MO_BLK_* */
    uint32_t aux;  /* slot index or class */
};

enum { MO_BLK_TABLE = 0, MO_BLK_RECORD = 1, MO_BLK_FREE = 2, MO_BLK_INDEX = 3 };

struct mo_walk {
    struct mo_block *blocks;
    size_t nblocks, cap;
    uint64_t live, tombs, kinds[4];
    uint64_t record_bytes, table_bytes, free_bytes;
    uint64_t toff;
    uint32_t log2;
    char msg[MO_ERRMSG_CAP - 64];
};

/* Walks the table (records and table block) and, with free_lists, the free lists; with
 * strict, also checks every key's tag and probe position. Returns OK or E_CORRUPT / E_NOMEM
 * with w->msg set. limit: end of the region blocks may occupy (alloc_end). */
int mo_walk_collect(mmapobj_map *m, struct mo_walk *w, uint64_t limit, int free_lists, int strict);
/* Sorts the blocks and checks they do not overlap and lie in [8192, limit). */
int mo_walk_check_overlap(struct mo_walk *w, uint64_t limit);
void mo_walk_free(struct mo_walk *w);
/* Adds a block of the given type (the writers' index block). */
int mo_walk_add(struct mo_walk *w, uint64_t off, uint64_t size, uint32_t type);

#endif
