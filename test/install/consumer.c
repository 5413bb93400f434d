/* consumer.c - a C program built against an installed libmmapobj (find_package or pkg-config):
 * writes a key, reads it back through a reader handle, checks the ABI the header and the
 * library agree on. Exit 0 on success. */
#include <stdio.h>
#include <string.h>

#include <mmapobj.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer FILE\n");
        return 2;
    }
    if (mmapobj_abi_version() != MMAPOBJ_ABI_VERSION) {
        fprintf(stderr, "ABI %d, header %d\n", mmapobj_abi_version(), MMAPOBJ_ABI_VERSION);
        return 1;
    }
    mmapobj_map *w = NULL, *r = NULL;
    if (mmapobj_create(argv[1], 0, 0, 0, &w) != MMAPOBJ_OK ||
        mmapobj_set_string(w, "k", 1, "installed", 9) != MMAPOBJ_OK ||
        mmapobj_open(argv[1], &r) != MMAPOBJ_OK) {
        fprintf(stderr, "%s\n", mmapobj_errmsg(w ? w : NULL));
        return 1;
    }
    mmapobj_value v;
    int rc = mmapobj_get(r, "k", 1, &v);
    int ok = rc == MMAPOBJ_OK && v.kind == MMAPOBJ_KIND_STRING && v.len == 9 &&
             memcmp(v.data, "installed", 9) == 0;
    mmapobj_close(&r);
    mmapobj_close(&w);
    printf("consumer: libmmapobj %s: %s\n", mmapobj_version_string(), ok ? "ok" : "WRONG VALUE");
    return ok ? 0 : 1;
}
