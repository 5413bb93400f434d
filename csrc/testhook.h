/* testhook.h - a function the C tests (linked against the static library) can set to run code at
 * named points of open and create: to make an interleaving with another writer, or a crash at
 * one exact step, deterministic. NULL outside the tests; the points are on the open, create and
 * writer-setup paths only, never on a lookup or a write. Points: "open:size-checked" (the header
 * check, file_size checked and table_ref not loaded yet; on a private copy, then on the mapping;
 * m is NULL), "open:tref-checked" (the table check, between the check of table_ref and the read
 * of the table block; m is NULL),
 * "create:claimed", "create:allocated", "create:built", "create:done" (the steps of making a
 * map, docs/FORMAT.md "Creation"), "writer:repair" (a writer open runs the repair walk). */
#ifndef MMAPOBJ_TESTHOOK_H
#define MMAPOBJ_TESTHOOK_H

#include "internal.h"

extern void (*mo_test_hook)(const char *point, mmapobj_map *m);

#define MO_TEST_POINT(point, m)                                                              \
    do {                                                                                   \
        if (__builtin_expect(mo_test_hook != NULL, 0)) mo_test_hook(point, m);             \
    } while (0)

#endif
