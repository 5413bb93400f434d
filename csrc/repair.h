/* repair.h - crash repair at writer open of a DIRTY file (docs/FORMAT.md, "Crash recovery"). */
#ifndef MMAPOBJ_REPAIR_H
#define MMAPOBJ_REPAIR_H

#include "internal.h"

/* Recounts the table and rebuilds free space from the gaps between live blocks. */
int mo_repair(mmapobj_map *m);

#endif
