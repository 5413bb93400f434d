/* trust.h - what a writer trusts in a cleanly closed file (docs/FORMAT.md, "Trust rule"): the
 * state checksum stored at a clean close, and the checks of a clean file at writer open. */
#ifndef MMAPOBJ_TRUST_H
#define MMAPOBJ_TRUST_H

#include "internal.h"

/* Writer, clean close: stores state_checksum over the state it leaves (after the lists are
 * written and the file is shrunk, before DIRTY is cleared). */
void mo_trust_seal(mmapobj_map *m);
/* Writer open of a clean file (DIRTY clear, seq even), stored = the state_checksum it found:
 * the O(1) checks, then the free lists loaded and the checksum recomputed. 1 when the writer
 * state can be used; 0 when the caller must run the repair walk (the index may be half loaded:
 * the walk resets it). */
int mo_trust_clean(mmapobj_map *m, uint64_t stored);

#endif
