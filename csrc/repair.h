/* repair.h - crash repair at writer open of a DIRTY file (docs/FORMAT.md, "Crash recovery"). */
#ifndef MMAPOBJ_REPAIR_H
#define MMAPOBJ_REPAIR_H

#include "internal.h"

/* Recounts the table, sets alloc_end to the end of the highest live block and rebuilds free
 * space from the gaps between live blocks (the header's alloc_end and lists are not used). */
int mo_repair(mmapobj_map *m);

#endif
