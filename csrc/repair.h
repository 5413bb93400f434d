/* repair.h - crash repair (docs/FORMAT.md, "Crash recovery"). */
#ifndef MMAPOBJ_REPAIR_H
#define MMAPOBJ_REPAIR_H

#include "internal.h"

/* Recounts the table, sets alloc_end to the end of the highest live block and rebuilds free
 * space (a new writers' index) from the gaps between live blocks (the header's alloc_end and
 * lists are not used). */
int mo_repair(mmapobj_map *m);
/* After a writer died holding the write lock: seq made even, file_size raised to the file's real
 * size (a growth cut short), then mo_repair; the REPAIR flag marks the file until it is done. */
int mo_recover(mmapobj_map *m);

#endif
