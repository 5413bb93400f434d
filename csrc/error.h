/* error.h - error detail: per handle (mmapobj_errmsg(m)) and thread-local for calls that have
 * no handle yet; errno-style codes (platform.h) to MMAPOBJ_E_* codes. */
#ifndef MMAPOBJ_ERROR_H
#define MMAPOBJ_ERROR_H

#include "internal.h"

int mo_err(mmapobj_map *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mo_err_os(mmapobj_map *m, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int mo_tls_err(const char *path, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mo_code_from_errno(int errnum);
void mo_copy_err_to_tls(const mmapobj_map *m);

#endif
