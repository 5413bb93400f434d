/* version.c - library, ABI and format version queries. */
#include "internal.h"

#define MO_STR2(x) #x
#define MO_STR(x) MO_STR2(x)

MMAPOBJ_API int mmapobj_abi_version(void)
{
    return MMAPOBJ_ABI_VERSION;
}

MMAPOBJ_API const char *mmapobj_version_string(void)
{
    return MO_STR(MMAPOBJ_VERSION_MAJOR) "." MO_STR(MMAPOBJ_VERSION_MINOR) "." MO_STR(
        MMAPOBJ_VERSION_PATCH);
}
