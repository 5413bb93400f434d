/* test_format.c - builds a file and checks its bytes against the offsets of docs/FORMAT.md:
 * header fields, table block, record, free block and free-list head. Prints a worked hex dump
 * of the header start (FORMAT.md, "Worked example"). */
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "check.h"

static uint8_t file[1 << 16];
static size_t file_len;

static void load(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    file_len = fread(file, 1, sizeof file, f);
    fclose(f);
}

static uint64_t u64at(size_t off)
{
    uint64_t v;
    CHECK(off + 8 <= file_len);
    memcpy(&v, file + off, 8);
    return v;
}
static uint32_t u32at(size_t off)
{
    uint32_t v;
    memcpy(&v, file + off, 4);
    return v;
}
static uint16_t u16at(size_t off)
{
    uint16_t v;
    memcpy(&v, file + off, 2);
    return v;
}

static int zero(size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (file[i]) return 0;
    return 1;
}

static void dump(size_t from, size_t len)
{
    for (size_t i = from; i < from + len; i += 16) {
        printf("%06zx ", i);
        for (size_t j = i; j < i + 16; j++) printf(" %02x", file[j]);
        printf("  ");
        for (size_t j = i; j < i + 16; j++) putchar(file[j] >= 32 && file[j] < 127 ? file[j] : '.');
        putchar('\n');
    }
}

int main(void)
{
    const char *dir = test_dir("test_format");
    const char *path = test_path(dir, "fmt");
    mmapobj_map *m = NULL, *r = NULL;
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_set_string(m, "a", 1, "b", 1));
    load(path);
    CHECK(file_len == sizeof file); /* 5 MiB file, we read the first 64 KiB */

    /* identity, 0..63 */
    CHECK(memcmp(file, "\x4D\x4D\x41\x50\x4F\x42\x4A\x00", 8) == 0);
    CHECK(u16at(8) == 1 && u16at(10) == 0);
    CHECK(u32at(12) == 8192);
    CHECK(memcmp(file + 16, "\x04\x03\x02\x01", 4) == 0);
    CHECK(u32at(20) == 8);
    CHECK(u64at(24) != 0); /* random seed */
    CHECK(u64at(32) > UINT64_C(1600000000) * 1000000000u); /* created_ns after 2020 */
    CHECK(u32at(40) == 4);
    CHECK(u32at(44) == 405);
    CHECK(u64at(48) == 0);
    CHECK(u64at(56) == XXH3_64bits(file, 56));
    /* reader-hot, 64..127 */
    CHECK(u64at(64) % 2 == 0);
    uint64_t tref = u64at(72);
    uint64_t toff = tref & ((UINT64_C(1) << 48) - 1);
    CHECK(toff == 8192 && tref >> 56 == 11 && ((tref >> 48) & 0xFF) == 0); /* 1024 keys: 2048 */
    CHECK(u64at(80) == MMAPOBJ_DEFAULT_FILE_SIZE);
    CHECK(u64at(88) == MMAPOBJ_DEFAULT_MAX_FILE_SIZE);
    CHECK(zero(96, 128));
    /* writer state, 128..255 */
    uint64_t table_end = 8192 + 16 + 8 * 2048;
    CHECK(u64at(128) == 1);          /* count */
    CHECK(u64at(136) == 0);          /* tombstones */
    CHECK(u64at(144) == table_end + 16); /* alloc_end: one 16-byte record after the table */
    CHECK(u64at(152) == 0 && u64at(160) == 0);
    CHECK(u64at(168) == 1 && u64at(176) == 0 && u64at(184) == 0);
    CHECK(u32at(192) == 1);          /* DIRTY while a writer has it open */
    CHECK(u32at(196) == (uint32_t)getpid());
    /* the writers' run-time state (zero at rest) */
    CHECK(u64at(200) == 0);                  /* state_checksum: stored by a clean close only */
    CHECK(u64at(208) == 1088);               /* index_ref: the index block inside the header */
    CHECK(u64at(216) == table_end + 16);     /* fresh_end: the high-water mark of alloc_end */
    CHECK(zero(224, 256));
    CHECK(u64at(256) == UINT64_C(1) << 32);  /* wlock: free, epoch 1 (one set took it) */
    CHECK(zero(264, 1088));                  /* rest of the lock area, the class bitmap */
    CHECK(u32at(1088) == 0x58444946u);       /* "FIDX" */
    CHECK(u64at(1096) == 64 + 32 * 80);      /* footprint of 32 nodes */
    CHECK(u32at(1104) == 32 && u32at(1108) == 0 && u64at(1120) == 0 && u64at(1128) == 63);
    CHECK(zero(4096, 8192));         /* no free blocks: no class heads */
    /* table block */
    CHECK(memcmp(file + 8192, "\x54\x54\x42\x4C", 4) == 0 && u32at(8196) == 11);
    CHECK(u64at(8200) == 0);
    int live = 0;
    uint64_t rec = 0;
    for (uint64_t i = 0; i < 2048; i++) {
        uint64_t s = u64at(8192 + 16 + 8 * i);
        if (!s) continue;
        live++;
        rec = (s & ((UINT64_C(1) << 40) - 1)) * 4;
        uint64_t h = XXH3_64bits_withSeed("a", 1, u64at(24));
        CHECK(s >> 40 == h >> 40);
        CHECK(i == (h & 2047));
    }
    CHECK(live == 1 && rec == table_end);
    /* record: w0 = kind 1 | key_len 1 << 2, value_len 1, "a", "b" */
    CHECK(memcmp(file + rec, "\x05\x00\x00\x00\x01\x00\x00\x00" "ab", 10) == 0);

    printf("worked example: mmapobj_create(path, 0, 0, 0) + set \"a\" = string \"b\"\n");
    printf("header bytes 0..271:\n");
    dump(0, 272);
    printf("the first index block in the header (64-byte header):\n");
    dump(1088, 64);
    printf("table block at %llu (first 16 bytes):\n", (unsigned long long)toff);
    dump(8192, 16);
    printf("record at %llu:\n", (unsigned long long)rec);
    dump((size_t)rec, 16);

    /* a second record after it, then delete "a" with a reader open (so close does not
     * shrink): the record becomes a free block of 16 bytes, class 0, head[0] at offset 4096,
     * written into the file at close */
    CHECK_OK(NULL, mmapobj_open(path, &r));
    CHECK_OK(m, mmapobj_set_string(m, "c", 1, "d", 1));
    CHECK_OK(m, mmapobj_delete(m, "a", 1));
    CHECK_OK(NULL, mmapobj_close(&m));
    load(path);
    CHECK(u64at(128) == 1);
    CHECK(u64at(144) == table_end + 32);           /* alloc_end */
    CHECK(u64at(152) == 16);                       /* free_bytes */
    CHECK(u64at(4096) == rec);                     /* head[0] */
    CHECK(u64at(rec) == ((UINT64_C(16) << 8) | 0xFE)); /* size << 8 | marker */
    CHECK(u64at(rec + 8) == 0);                    /* end of list */
    CHECK(u32at(192) == 0);                        /* clean close */
    CHECK(u64at(200) != 0);                        /* state_checksum of the clean close */
    CHECK(u64at(208) == 0 && zero(1024, 4096));    /* no index at rest */
    CHECK((u64at(256) & 0x7FFFFFFF) == 0);         /* the lock is free */
    CHECK(u64at(80) == MMAPOBJ_DEFAULT_FILE_SIZE); /* not shrunk: a reader had it open */
    CHECK_OK(NULL, mmapobj_close(&r));
    /* clean close with no reader: shrunk to alloc_end, file_size follows */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(NULL, mmapobj_close(&m));
    load(path);
    CHECK(file_len == table_end + 32 && u64at(80) == file_len && u64at(144) == file_len);
    /* deleting the last record gives its bytes back to the tail, merged with the free block
     * before it: alloc_end returns to the end of the table and no free block is left */
    CHECK_OK(NULL, mmapobj_create(path, 0, 0, 0, &m));
    CHECK_OK(m, mmapobj_delete(m, "c", 1));
    CHECK_OK(NULL, mmapobj_close(&m));
    load(path);
    CHECK(u64at(144) == table_end && u64at(152) == 0 && u64at(4096) == 0);
    CHECK(file_len == table_end);
    /* table generation (table block + 8): 0 at creation, +1 per rebuild */
    const char *gpath = test_path(dir, "gen");
    CHECK_OK(NULL, mmapobj_create(gpath, 1, 1, 0, &m));
    load(gpath);
    CHECK(u64at(72) >> 56 == 3 && u64at(8192 + 8) == 0);
    char key[16];
    for (int i = 0; i < 7; i++) { /* the 7th insert into 8 slots rebuilds (7 > 0.8 x 8) */
        snprintf(key, sizeof key, "g%d", i);
        CHECK_OK(m, mmapobj_set_number(m, key, strlen(key), i));
    }
    load(gpath);
    tref = u64at(72);
    CHECK(tref >> 56 == 4 && (tref & 0xFFFFFFFFFFFF) != 8192);
    CHECK(u64at((size_t)(tref & 0xFFFFFFFFFFFF) + 8) == 1);
    CHECK_OK(NULL, mmapobj_close(&m));
    printf("test_format: ok\n");
    return 0;
}
