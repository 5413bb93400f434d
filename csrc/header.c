/* header.c - header initialisation and validation (magic -> version -> checksum ->
 * sizes/layout -> plausibility), each failure with its own code. The field offsets are tied
 * to docs/FORMAT.md by the _Static_asserts in format.h. */
#include <stdio.h>
#include <string.h>

#include "hash.h"
#include "header.h"
#include "platform.h"
#include "testhook.h"

void mo_header_init(struct mo_header *h, uint64_t seed, uint64_t file_size, uint64_t max_size,
                    uint64_t table_off, uint32_t log2)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, MO_MAGIC, 8);
    h->format_major = MMAPOBJ_FORMAT_MAJOR;
    h->format_minor = MMAPOBJ_FORMAT_MINOR;
    h->header_size = MO_HEADER_SIZE;
    h->byte_order = MO_BYTE_ORDER;
    h->slot_size = MO_SLOT_SIZE;
    h->hash_seed = seed;
    h->created_ns = mo_pf_realtime_ns();
    h->record_align = MO_RECORD_ALIGN;
    h->class_count = MO_CLASS_COUNT;
    h->header_checksum = mo_header_checksum(h);
    h->table_ref = mo_tref_make(table_off, log2);
    h->file_size = file_size;
    h->max_file_size = max_size;
    h->alloc_end = table_off + mo_table_footprint(log2);
}

/* Checks the header at p (a private copy or the mapping) of a file of real_size bytes
 * (real_size >= 8192 is the caller's); the table block itself is mo_table_marker_check's.
 * On failure writes the detail (without the path prefix) into msg. */
int mo_header_check(const uint8_t *p, uint64_t real_size, char *msg, size_t cap)
{
    const struct mo_header *h = (const struct mo_header *)(const void *)p;
    if (memcmp(h->magic, MO_MAGIC_BUILDING, 8) == 0) {
        /* a map being created in place (or whose creator died): no map yet, like an empty file
         * (the next writer starts the creation again) */
        snprintf(msg, cap, "the file is being created (or its creator died before it was "
                 "complete): not a map yet");
        return MMAPOBJ_E_TOOSMALL;
    }
    if (memcmp(h->magic, MO_MAGIC, 8) != 0) {
        snprintf(msg, cap, "not an mmapobj file (bad magic)");
        return MMAPOBJ_E_BADMAGIC;
    }
    if (h->format_major != MMAPOBJ_FORMAT_MAJOR) {
        snprintf(msg, cap, "format major version %u is not supported (this library reads %d)",
                 (unsigned)h->format_major, MMAPOBJ_FORMAT_MAJOR);
        return MMAPOBJ_E_MAJOR;
    }
    if (h->format_minor > MMAPOBJ_FORMAT_MINOR) {
        snprintf(msg, cap, "format version %u.%u is newer than this library's %d.%d",
                 (unsigned)h->format_major, (unsigned)h->format_minor, MMAPOBJ_FORMAT_MAJOR,
                 MMAPOBJ_FORMAT_MINOR);
        return MMAPOBJ_E_MINOR;
    }
    if (mo_header_checksum(h) != h->header_checksum) {
        snprintf(msg, cap, "header checksum mismatch (corrupt header)");
        return MMAPOBJ_E_CORRUPT;
    }
    if (h->header_size != MO_HEADER_SIZE) {
        snprintf(msg, cap, "header_size is %u, expected %u", (unsigned)h->header_size,
                 MO_HEADER_SIZE);
        return MMAPOBJ_E_CORRUPT;
    }
    if (h->byte_order != MO_BYTE_ORDER || h->slot_size != MO_SLOT_SIZE ||
        h->record_align != MO_RECORD_ALIGN) {
        snprintf(msg, cap, "layout stamp (byte order 0x%08x, slot size %u, record align %u) "
                 "does not match this machine", (unsigned)h->byte_order, (unsigned)h->slot_size,
                 (unsigned)h->record_align);
        return MMAPOBJ_E_LAYOUT;
    }
    if (h->class_count == 0 || h->class_count > MO_CLASS_LIMIT) {
        snprintf(msg, cap, "class_count %u out of range 1..%u", (unsigned)h->class_count,
                 MO_CLASS_LIMIT);
        return MMAPOBJ_E_CORRUPT;
    }
    uint64_t fs = mo_ld(&h->file_size);
    if (fs < MO_HEADER_SIZE || fs > real_size) {
        snprintf(msg, cap, "header says the file has %llu bytes but it has %llu (truncated?)",
                 (unsigned long long)fs, (unsigned long long)real_size);
        return MMAPOBJ_E_TOOSMALL;
    }
    MO_TEST_POINT("open:size-checked", NULL); /* file_size checked, table_ref not loaded yet */
    uint64_t tref = mo_ld(&h->table_ref), toff;
    uint32_t lg;
    if (mo_tref_decode(tref, real_size, &toff, &lg) != MMAPOBJ_OK) {
        snprintf(msg, cap, "table reference 0x%016llx is invalid (offset %llu, 2^%u slots, "
                 "file %llu bytes)", (unsigned long long)tref,
                 (unsigned long long)(tref & MO_TREF_OFF_MASK), (unsigned)(tref >> 56),
                 (unsigned long long)real_size);
        return MMAPOBJ_E_CORRUPT;
    }
    uint64_t maxfs = mo_ld(&h->max_file_size);
    if (maxfs > MO_MAX_FILE_LIMIT) {
        snprintf(msg, cap, "max_file_size %llu is larger than the format allows (%llu)",
                 (unsigned long long)maxfs, (unsigned long long)MO_MAX_FILE_LIMIT);
        return MMAPOBJ_E_CORRUPT;
    }
    return MMAPOBJ_OK;
}

/* Checks the table block the header points to. The reference is loaded once and checked
 * against the mapping before the block is read: a writer may publish a new table at any time. */
int mo_table_marker_check(const uint8_t *p, uint64_t size, char *msg, size_t cap)
{
    const struct mo_header *h = (const struct mo_header *)(const void *)p;
    uint64_t tref = mo_ld_acq(&h->table_ref), toff;
    uint32_t lg, marker, tlg;
    if (mo_tref_decode(tref, size, &toff, &lg) != MMAPOBJ_OK) {
        snprintf(msg, cap, "table reference 0x%016llx is invalid (file %llu bytes)",
                 (unsigned long long)tref, (unsigned long long)size);
        return MMAPOBJ_E_CORRUPT;
    }
    MO_TEST_POINT("open:tref-checked", NULL); /* a writer may publish a new table right here */
    if (!mo_table_marker_ok(p, toff, lg, &marker, &tlg)) {
        snprintf(msg, cap, "no table at offset %llu (marker 0x%08x, log2 %u)",
                 (unsigned long long)toff, (unsigned)marker, (unsigned)tlg);
        return MMAPOBJ_E_CORRUPT;
    }
    return MMAPOBJ_OK;
}
