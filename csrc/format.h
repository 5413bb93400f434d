/* format.h - the on-disk layout of file format v1 (docs/FORMAT.md) as constants, one struct
 * for the 8192-byte header, and _Static_asserts that tie every field to its documented offset. */
#ifndef MMAPOBJ_FORMAT_H
#define MMAPOBJ_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <string.h>

#include "mmapobj.h"

#define MO_MAGIC "MMAPOBJ"          /* 8 bytes with its NUL */
#define MO_MAGIC_BUILDING "MMAPNEW"  /* 8 bytes: a map being created in place (not a map yet) */
#define MO_HEADER_SIZE 8192u
#define MO_BYTE_ORDER 0x01020304u
#define MO_SLOT_SIZE 8u
#define MO_RECORD_ALIGN 4u
#define MO_TABLE_ALIGN 64u
#define MO_CLASS_COUNT 405u          /* classes this library writes */
#define MO_CLASS_LIMIT 512u          /* free-list heads in the header */
#define MO_SMALL_MAX 1024u           /* largest size of an exact-size class */
#define MO_SMALL_CLASSES 253u        /* classes 0..252 hold one size each */
#define MO_MIN_BLOCK 16u             /* smallest record / free block */
#define MO_TABLE_MARKER 0x4C425454u  /* "TTBL" */
#define MO_TABLE_HDR 16u
#define MO_FREE_MARKER 0xFEu
#define MO_FLAG_DIRTY 1u
#define MO_FLAG_REPAIR 2u            /* the write lock was taken over from a dead holder */
#define MO_INDEX_MARKER 0x58444946u  /* "FIDX": the writers' free-space index block */
#define MO_INDEX_ALIGN 64u
#define MO_INDEX_IN_HEADER 1088u     /* index_ref of the index block inside the header */
#define MO_SLOT_EMPTY 0u
#define MO_SLOT_TOMB 1u
#define MO_SLOT_OFF_BITS 40
#define MO_SLOT_OFF_MASK ((UINT64_C(1) << MO_SLOT_OFF_BITS) - 1)
#define MO_TREF_OFF_MASK ((UINT64_C(1) << 48) - 1)
#define MO_MIN_LOG2 3u
#define MO_MAX_LOG2 40u
#define MO_MAX_LOAD 0.8
#define MO_REC_HDR 8u
/* Largest max_file_size: slots hold offset/4 in 40 bits, so offsets stay below 2^42 (4 TiB). */
#define MO_MAX_FILE_LIMIT (UINT64_C(1) << 42)

/* Result of a bounds check: the offset lies past the bytes the caller has mapped (a reader
 * then extends its mapping and looks again). */
#define MO_NEEDMAP (-9001)

/* The header, bytes 0..8191. Fields at 64..255 are accessed atomically (mo_ld / mo_st). */
struct mo_header {
    /* identity, covered by header_checksum */
    uint8_t magic[8];
    uint16_t format_major;
    uint16_t format_minor;
    uint32_t header_size;
    uint32_t byte_order;
    uint32_t slot_size;
    uint64_t hash_seed;
    uint64_t created_ns;
    uint32_t record_align;
    uint32_t class_count;
    uint64_t reserved0;
    uint64_t header_checksum;
    /* reader-hot */
    uint64_t seq;
    uint64_t table_ref;
    uint64_t file_size;
    uint64_t max_file_size;
    uint64_t reserved_hot[4];
    /* writer state */
    uint64_t count;
    uint64_t tombstones;
    uint64_t alloc_end;
    uint64_t free_bytes;
    uint64_t slack_bytes;
    uint64_t count_string;
    uint64_t count_number;
    uint64_t count_bytes;
    uint32_t state_flags;
    uint32_t writer_pid;
    uint64_t state_checksum;   /* checksum of the writer state at a clean close (0: none) */
    /* writers' run-time state (zero at rest; only writers read it: docs/FORMAT.md) */
    uint64_t index_ref;     /* the writers' index of free space while writers have the file open */
    uint64_t fresh_end;     /* bytes at or past this were never reachable (this session) */
    uint64_t reserved_state[4];
    /* the write lock area (256..1023) */
    uint64_t wlock;         /* the write lock word (wlock.h) */
    uint64_t wsleepers;     /* writers asleep waiting for it */
    uint64_t reserved_lock[94];
    /* the writers' index of free space while writers have the file open (freeidx.c): its class
     * bitmap, and its first block (a bigger one moves into the data region) */
    uint64_t index_bits[MO_CLASS_LIMIT / 64];
    uint8_t index_first[4096 - 1088];
    uint64_t free_head[MO_CLASS_LIMIT];
};

_Static_assert(offsetof(struct mo_header, magic) == 0, "FORMAT.md: magic at 0");
_Static_assert(offsetof(struct mo_header, format_major) == 8, "FORMAT.md: format_major at 8");
_Static_assert(offsetof(struct mo_header, format_minor) == 10, "FORMAT.md: format_minor at 10");
_Static_assert(offsetof(struct mo_header, header_size) == 12, "FORMAT.md: header_size at 12");
_Static_assert(offsetof(struct mo_header, byte_order) == 16, "FORMAT.md: byte_order at 16");
_Static_assert(offsetof(struct mo_header, slot_size) == 20, "FORMAT.md: slot_size at 20");
_Static_assert(offsetof(struct mo_header, hash_seed) == 24, "FORMAT.md: hash_seed at 24");
_Static_assert(offsetof(struct mo_header, created_ns) == 32, "FORMAT.md: created_ns at 32");
_Static_assert(offsetof(struct mo_header, record_align) == 40, "FORMAT.md: record_align at 40");
_Static_assert(offsetof(struct mo_header, class_count) == 44, "FORMAT.md: class_count at 44");
_Static_assert(offsetof(struct mo_header, reserved0) == 48, "FORMAT.md: reserved0 at 48");
_Static_assert(offsetof(struct mo_header, header_checksum) == 56, "FORMAT.md: checksum at 56");
_Static_assert(offsetof(struct mo_header, seq) == 64, "FORMAT.md: seq at 64");
_Static_assert(offsetof(struct mo_header, table_ref) == 72, "FORMAT.md: table_ref at 72");
_Static_assert(offsetof(struct mo_header, file_size) == 80, "FORMAT.md: file_size at 80");
_Static_assert(offsetof(struct mo_header, max_file_size) == 88, "FORMAT.md: max_file_size at 88");
_Static_assert(offsetof(struct mo_header, count) == 128, "FORMAT.md: count at 128");
_Static_assert(offsetof(struct mo_header, tombstones) == 136, "FORMAT.md: tombstones at 136");
_Static_assert(offsetof(struct mo_header, alloc_end) == 144, "FORMAT.md: alloc_end at 144");
_Static_assert(offsetof(struct mo_header, free_bytes) == 152, "FORMAT.md: free_bytes at 152");
_Static_assert(offsetof(struct mo_header, slack_bytes) == 160, "FORMAT.md: slack_bytes at 160");
_Static_assert(offsetof(struct mo_header, count_string) == 168, "FORMAT.md: count_string at 168");
_Static_assert(offsetof(struct mo_header, count_number) == 176, "FORMAT.md: count_number at 176");
_Static_assert(offsetof(struct mo_header, count_bytes) == 184, "FORMAT.md: count_bytes at 184");
_Static_assert(offsetof(struct mo_header, state_flags) == 192, "FORMAT.md: state_flags at 192");
_Static_assert(offsetof(struct mo_header, writer_pid) == 196, "FORMAT.md: writer_pid at 196");
_Static_assert(offsetof(struct mo_header, state_checksum) == 200, "FORMAT.md: state_checksum at 200");
_Static_assert(offsetof(struct mo_header, index_ref) == 208, "FORMAT.md: index_ref at 208");
_Static_assert(offsetof(struct mo_header, fresh_end) == 216, "FORMAT.md: fresh_end at 216");
_Static_assert(offsetof(struct mo_header, wlock) == 256, "FORMAT.md: wlock at 256");
_Static_assert(offsetof(struct mo_header, wsleepers) == 264, "FORMAT.md: wsleepers at 264");
_Static_assert(offsetof(struct mo_header, index_bits) == 1024, "FORMAT.md: index bitmap at 1024");
_Static_assert(offsetof(struct mo_header, index_first) == MO_INDEX_IN_HEADER,
               "FORMAT.md: the first index block at 1088");
_Static_assert(offsetof(struct mo_header, free_head) == 4096, "FORMAT.md: free-list heads at 4096");
_Static_assert(sizeof(struct mo_header) == MO_HEADER_SIZE, "FORMAT.md: header is 8192 bytes");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && _Alignof(_Atomic uint64_t) == 8,
               "mapped u64 fields are accessed as _Atomic uint64_t");
_Static_assert(MO_CLASS_COUNT == MO_SMALL_CLASSES + 4 * (47 - 10) + 4,
               "405 classes: 253 exact sizes + 4 per power of two from 2^10 to 2^47");

/* Atomic access to an 8-aligned u64 of the mapping. */
#define MO_A(p) ((_Atomic uint64_t *)(void *)(p))
static inline uint64_t mo_ld(const uint64_t *p)
{
    return atomic_load_explicit(MO_A(p), memory_order_relaxed);
}
static inline uint64_t mo_ld_acq(const uint64_t *p)
{
    return atomic_load_explicit(MO_A(p), memory_order_acquire);
}
static inline void mo_st(uint64_t *p, uint64_t v)
{
    atomic_store_explicit(MO_A(p), v, memory_order_relaxed);
}
static inline void mo_st_rel(uint64_t *p, uint64_t v)
{
    atomic_store_explicit(MO_A(p), v, memory_order_release);
}

/* Bytes a record of this key and value occupies: max(16, round_up_4(8 + klen + vlen)). */
static inline uint64_t mo_record_footprint(uint64_t klen, uint64_t vlen)
{
    uint64_t n = (MO_REC_HDR + klen + vlen + 3) & ~(uint64_t)3;
    return n < MO_MIN_BLOCK ? MO_MIN_BLOCK : n;
}

static inline uint64_t mo_table_footprint(uint32_t log2)
{
    return MO_TABLE_HDR + ((uint64_t)MO_SLOT_SIZE << log2);
}

/* Free-list class of a block of s bytes (s >= 16, multiple of 4). */
static inline uint32_t mo_class_of(uint64_t s, uint32_t class_count)
{
    uint32_t c;
    if (s <= MO_SMALL_MAX) {
        c = (uint32_t)((s - MO_MIN_BLOCK) / 4);
    } else {
        uint32_t e = 63u - (uint32_t)__builtin_clzll(s);
        uint32_t sub = (uint32_t)((s >> (e - 2)) & 3u);
        c = MO_SMALL_CLASSES + 4u * (e - 10u) + sub;
    }
    if (class_count && c > class_count - 1) c = class_count - 1;
    return c;
}

/* Smallest power of two B >= 8 (as log2) with n <= (num / den) * B, in exact integer
 * arithmetic (0.8 = 4/5 for a new table, 0.5 = 1/2 for a rebuilt one). */
static inline uint32_t mo_log2_for(uint64_t n, uint64_t num, uint64_t den)
{
    uint32_t lg = MO_MIN_LOG2;
    while (lg < MO_MAX_LOG2 && n * den > (UINT64_C(1) << lg) * num) lg++;
    return lg;
}

/* Reads the header of the free block at off of a data region ending at limit (alloc_end),
 * checking it the way docs/FORMAT.md says. NULL with *size / *next set, or what is wrong. */
static inline const char *mo_free_block_read(const uint8_t *base, uint64_t off, uint64_t limit,
                                             uint64_t *size, uint64_t *next, uint64_t *word)
{
    if (off < MO_HEADER_SIZE || off % 4 || off > limit || limit - off < MO_MIN_BLOCK)
        return "outside the data region";
    memcpy(word, base + off, 8);
    memcpy(next, base + off + 8, 8);
    *size = *word >> 8;
    if ((*word & 0xFF) != MO_FREE_MARKER || *size < MO_MIN_BLOCK || *size % 4 ||
        *size > limit - off)
        return "bad header";
    return NULL;
}

/* ---- table references and slots ---------------------------------------------------------- */

static inline uint64_t mo_tref_make(uint64_t off, uint32_t log2)
{
    return off | ((uint64_t)log2 << 56);
}

/* THE table-reference check: bits 48..55 zero, offset past the header and 64-aligned, 2^3..2^40
 * slots (E_CORRUPT otherwise), and the whole table block inside the first `size` bytes
 * (MO_NEEDMAP otherwise). Fills *toff / *log2 on OK. */
static inline __attribute__((always_inline)) int mo_tref_decode(uint64_t tref, uint64_t size,
                                                                uint64_t *toff, uint32_t *log2)
{
    uint64_t off = tref & MO_TREF_OFF_MASK;
    uint32_t lg = (uint32_t)(tref >> 56);
    if (__builtin_expect((tref & ((UINT64_C(0xFF) << 48) | (MO_TABLE_ALIGN - 1))) != 0 ||
                             off < MO_HEADER_SIZE || lg - MO_MIN_LOG2 > MO_MAX_LOG2 - MO_MIN_LOG2,
                         0))
        return MMAPOBJ_E_CORRUPT;
    if (__builtin_expect(off > size || mo_table_footprint(lg) > size - off, 0)) return MO_NEEDMAP;
    *toff = off;
    *log2 = lg;
    return MMAPOBJ_OK;
}

/* THE table-block check: the marker and the log2 at toff match the reference that led there
 * (the caller has checked the block lies in the mapping with mo_tref_decode). */
static inline int mo_table_marker_ok(const uint8_t *base, uint64_t toff, uint32_t log2,
                                     uint32_t *marker, uint32_t *tlog2)
{
    memcpy(marker, base + toff, 4);
    memcpy(tlog2, base + toff + 4, 4);
    return *marker == MO_TABLE_MARKER && *tlog2 == log2;
}

/* The generation of the table block at toff (table header bytes 8..15). */
static inline uint64_t mo_table_gen(const uint8_t *base, uint64_t toff)
{
    uint64_t g;
    memcpy(&g, base + toff + 8, 8);
    return g;
}

/* Writes an empty table block of 2^log2 slots with generation gen at t. */
static inline void mo_table_init(uint8_t *t, uint32_t log2, uint64_t gen)
{
    uint32_t marker = MO_TABLE_MARKER;
    memcpy(t, &marker, 4);
    memcpy(t + 4, &log2, 4);
    memcpy(t + 8, &gen, 8);
    memset(t + MO_TABLE_HDR, 0, (size_t)MO_SLOT_SIZE << log2);
}

static inline uint64_t *mo_table_slots(uint8_t *base, uint64_t toff)
{
    return (uint64_t *)(void *)(base + toff + MO_TABLE_HDR);
}

/* A live slot: the record offset / 4 in the low 40 bits, the top 24 bits of the key's hash. */
static inline uint64_t mo_slot_make(uint64_t rec_off, uint64_t hash)
{
    return (rec_off >> 2) | ((hash >> MO_SLOT_OFF_BITS) << MO_SLOT_OFF_BITS);
}

static inline uint64_t mo_slot_off(uint64_t slot)
{
    return (slot & MO_SLOT_OFF_MASK) << 2;
}

static inline uint64_t mo_slot_tag(uint64_t slot)
{
    return slot >> MO_SLOT_OFF_BITS;
}

static inline int mo_slot_live(uint64_t slot)
{
    return slot > MO_SLOT_TOMB;
}

/* ---- records ------------------------------------------------------------------------------ */

/* A record found in the mapping (offsets into it). */
struct mo_hit {
    uint64_t slot_index;
    uint64_t off;
    uint32_t klen;
    uint32_t vlen;
    int32_t kind;
};

/* The first 8 bytes of a record: kind in bits 0..1, key length in 2..31, value length in 32..63. */
static inline uint64_t mo_record_word(int32_t kind, uint64_t klen, uint64_t vlen)
{
    return ((uint64_t)kind | (klen << 2)) | (vlen << 32);
}

/* Decodes the record at off of a region of `size` mapped bytes: E_CORRUPT for a bad offset,
 * kind or number length, MO_NEEDMAP when the record does not lie inside the region. */
static inline int mo_record_decode(const uint8_t *base, uint64_t size, uint64_t off,
                                   struct mo_hit *hit)
{
    if (off < MO_HEADER_SIZE || off % 4) return MMAPOBJ_E_CORRUPT;
    if (off > size || size - off < MO_REC_HDR) return MO_NEEDMAP;
    uint32_t w0, vlen;
    memcpy(&w0, base + off, 4);
    memcpy(&vlen, base + off + 4, 4);
    uint64_t klen = w0 >> 2;
    if ((uint64_t)vlen + klen > size - off - MO_REC_HDR) return MO_NEEDMAP;
    hit->off = off;
    hit->klen = (uint32_t)klen;
    hit->vlen = vlen;
    hit->kind = (int32_t)(w0 & 3);
    if (hit->kind == 0 || (hit->kind == MMAPOBJ_KIND_NUMBER && vlen != 8)) return MMAPOBJ_E_CORRUPT;
    return MMAPOBJ_OK;
}

#endif
