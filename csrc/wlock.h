/* wlock.h - the write lock that serializes the writers of a file (wlock.c; docs/FORMAT.md,
 * "Several writers"). */
#ifndef MMAPOBJ_WLOCK_H
#define MMAPOBJ_WLOCK_H

#include "internal.h"

/* The lock word (header offset 256): bits 0..30 the holder's slot + 1 (0: free), bit 31 0,
 * bits 32..63 an epoch that every acquisition moves on. Offset 264: the number of writers asleep
 * waiting for it. */
#define MO_WL_HOLDER 0x7FFFFFFFu

/* Takes this handle's writer slot (the first one free); then, if the lock word names that slot,
 * its previous owner died holding the lock: takes the lock over and repairs. */
int mo_wlock_take_slot(mmapobj_map *m);
/* Adds / removes a writer handle to / from the process's registry (for two handles of one file
 * in one thread). */
void mo_wlock_register(mmapobj_map *m);
void mo_wlock_unregister(mmapobj_map *m);

/* Takes the lock (nested: counts): waits for a live holder, takes over from a dead one and
 * repairs, rides on a hold of another handle of the same file in this thread. Then this handle
 * follows what other writers did (mapping, index of free space). OK or an error (nothing held). */
int mo_wlock_acquire(mmapobj_map *m);
/* Gives back one level; the last one releases the word and wakes the waiters. */
void mo_wlock_release(mmapobj_map *m);
/* At close: every level this handle holds is given back (a hold other handles of this thread
 * ride on passes to one of them). */
void mo_wlock_close(mmapobj_map *m);

#endif
