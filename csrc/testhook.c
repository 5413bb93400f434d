/* testhook.c - the test hook's pointer (testhook.h). */
#include "testhook.h"

void (*mo_test_hook)(const char *point, mmapobj_map *m);
