'use strict';
// The only module that imports koffi. It finds libmmapobj, checks its ABI version and declares a
// binding for each function of csrc/include/mmapobj.h that the package calls (prototypes copied
// from the header), the structs it reads, and the code table read from the library. Nothing here
// validates arguments: callers (map.js) must pass exactly the JS types noted below, because koffi
// turns a Number given for a pointer parameter into an address.
//
// Resolution order (js/locate.js; first that exists wins; a file that exists but fails to load
// is an error):
//   1. env MMAPOBJ_LIBRARY (a path; when set, nothing else is tried)
//   2. this package's CMake output: <package>/build/libmmapobj.so.1 (`npm run build`)
//   3. the prebuilt library for this platform: <package>/prebuilds/linux-x64[-musl]/..., etc.
//   4. the system library libmmapobj.so.1, found by the dynamic loader (after `cmake --install`)

const fs = require('fs');
const path = require('path');
const koffi = require('koffi');
const { packageError } = require('./errors');
const { libraryCandidates, noLibraryHint } = require('./locate');

/** MMAPOBJ_ABI_VERSION this binding was written for (csrc/include/mmapobj.h). */
const EXPECTED_ABI = 1;

function loadLibrary() {
  const tried = [];
  for (const c of libraryCandidates()) {
    if (c.mustExist && !fs.existsSync(c.file)) {
      tried.push(`  ${c.file} (${c.how}): not found`);
      continue;
    }
    let lib;
    try {
      lib = koffi.load(c.file);
    } catch (e) {
      if (c.mustExist) {
        throw packageError('MMAPOBJ_E_LOAD', `mmapobj: cannot load ${c.file} (${c.how}): ${e.message}`, c.file);
      }
      tried.push(`  ${c.file} (${c.how}): ${e.message}`);
      continue;
    }
    let abi;
    try {
      abi = lib.func('int mmapobj_abi_version(void)')();
    } catch (e) {
      throw packageError('MMAPOBJ_E_LOAD', `mmapobj: ${c.file} (${c.how}) is not libmmapobj: ${e.message}`, c.file);
    }
    if (abi !== EXPECTED_ABI) {
      throw packageError(
        'MMAPOBJ_E_ABI',
        `mmapobj: ${c.file} (${c.how}) has ABI version ${abi}, but this package expects ` +
          `ABI version ${EXPECTED_ABI}. Rebuild the library (npm run build in the package) or ` +
          'point MMAPOBJ_LIBRARY at a matching libmmapobj.',
        c.file
      );
    }
    return { lib, file: resolveLoadedPath(c.file, lib), abi, kind: c.kind };
  }
  throw packageError(
    'MMAPOBJ_E_LOAD',
    'mmapobj: cannot find libmmapobj. Tried:\n' +
      tried.join('\n') +
      '\n' +
      noLibraryHint()
  );
}

// For the system candidate, find the file the dynamic loader actually picked (from the process
// maps), so that `library.path` names a real file.
function resolveLoadedPath(file, lib) {
  if (path.isAbsolute(file)) return fs.realpathSync(file);
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
    for (const line of maps) {
      const i = line.indexOf('/');
      if (i >= 0 && line.includes('libmmapobj.so')) return line.slice(i);
    }
  } catch (_) {
    // not Linux /proc: keep the soname
  }
  void lib;
  return file;
}

const { lib, file, abi, kind } = loadLibrary();

// ---- types ----------------------------------------------------------------------------------
const mmapobj_map = koffi.opaque('mmapobj_map');
const mmapobj_iter = koffi.opaque('mmapobj_iter');
const mmapobj_stats = koffi.struct('mmapobj_stats', {
  file_size: 'uint64_t',
  max_file_size: 'uint64_t',
  used_bytes: 'uint64_t',
  free_bytes: 'uint64_t',
  count: 'uint64_t',
  bucket_count: 'uint64_t',
  max_bucket_count: 'uint64_t',
  load_factor: 'double',
  max_load_factor: 'double',
  format_major: 'uint32_t',
  format_minor: 'uint32_t',
  writable: 'int32_t',
  writer_pid: 'int32_t',
  count_string: 'uint64_t',
  count_number: 'uint64_t',
  count_bytes: 'uint64_t',
});
const mmapobj_status = koffi.struct('mmapobj_status', {
  kind: 'int32_t',
  code: 'int32_t',
  number: 'double',
  len: 'uint64_t',
});
/** Byte size and field offsets of struct mmapobj_status (map.js reads it through a koffi.view). */
const STATUS = Object.freeze({
  size: koffi.sizeof(mmapobj_status),
  kind: koffi.offsetof(mmapobj_status, 'kind'),
  code: koffi.offsetof(mmapobj_status, 'code'),
  number: koffi.offsetof(mmapobj_status, 'number'),
  len: koffi.offsetof(mmapobj_status, 'len'),
});

// ---- functions: the prototypes of mmapobj.h that the package calls ---------------------------
// Handles (mmapobj_map *) are BigInt pointers. Keys given as `const char *` are JS strings;
// keys/values given as `const void *` are Buffers/Uint8Arrays.
const fn = {
  version_string: lib.func('const char *mmapobj_version_string(void)'),
  strerror: lib.func('const char *mmapobj_strerror(int code)'),
  code_name: lib.func('const char *mmapobj_code_name(int code)'),
  errmsg: lib.func('const char *mmapobj_errmsg(const mmapobj_map *m)'),

  create: lib.func(
    'int mmapobj_create(const char *path, uint64_t initial_size, uint64_t initial_buckets, ' +
      'uint64_t max_size, _Out_ mmapobj_map **out)'
  ),
  create_ex: lib.func(
    'int mmapobj_create_ex(const char *path, uint64_t initial_size, uint64_t initial_buckets, ' +
      'uint64_t max_size, uint32_t flags, _Out_ mmapobj_map **out)'
  ),
  open: lib.func('int mmapobj_open(const char *path, _Out_ mmapobj_map **out)'),
  close: lib.func('int mmapobj_close(_Inout_ mmapobj_map **m)'),
  flush: lib.func('int mmapobj_flush(mmapobj_map *m)'),

  // Lookups. get_z/get_cstr return the value string (NULL = look at the status block).
  get_z: lib.func('const char *mmapobj_get_z(mmapobj_map *m, const char *key)'),
  // (ptr, len) form with the key as a JS string: koffi passes its full UTF-8 bytes, NULs included.
  get_cstr: lib.func('const char *mmapobj_get_cstr(mmapobj_map *m, const char *key, size_t klen)'),
  status_block: lib.func('const void *mmapobj_status_block(const mmapobj_map *m)'),
  copy_last: lib.func('int64_t mmapobj_copy_last(mmapobj_map *m, void *buf, size_t cap)'),
  has_z: lib.func('int mmapobj_has_z(mmapobj_map *m, const char *key)'),
  has: lib.func('int mmapobj_has(mmapobj_map *m, const char *key, size_t klen)'),

  // Writes. The *_z forms need key (and string value) without NUL.
  set_string_z: lib.func('int mmapobj_set_string_z(mmapobj_map *m, const char *key, const char *str)'),
  set_number_z: lib.func('int mmapobj_set_number_z(mmapobj_map *m, const char *key, double value)'),
  set_string: lib.func(
    'int mmapobj_set_string(mmapobj_map *m, const char *key, size_t klen, const char *str, size_t len)'
  ),
  set_number: lib.func('int mmapobj_set_number(mmapobj_map *m, const char *key, size_t klen, double value)'),
  set_bytes: lib.func(
    'int mmapobj_set_bytes(mmapobj_map *m, const char *key, size_t klen, const void *data, size_t len)'
  ),
  delete_z: lib.func('int mmapobj_delete_z(mmapobj_map *m, const char *key)'),
  delete: lib.func('int mmapobj_delete(mmapobj_map *m, const char *key, size_t klen)'),

  // The write lock (several writers on one file): held across SharedMap#transaction.
  lock: lib.func('int mmapobj_lock(mmapobj_map *m)'),
  unlock: lib.func('int mmapobj_unlock(mmapobj_map *m)'),

  count: lib.func('int64_t mmapobj_count(mmapobj_map *m)'),
  stat: lib.func('int mmapobj_stat(mmapobj_map *m, _Out_ mmapobj_stats *out)'),
  verify: lib.func('int mmapobj_verify(mmapobj_map *m)'),

  iter_open: lib.func('int mmapobj_iter_open(mmapobj_map *m, _Out_ mmapobj_iter **out)'),
  iter_batch: lib.func(
    'int mmapobj_iter_batch(mmapobj_iter *it, void *buf, size_t cap, int32_t with_values, ' +
      '_Out_ uint64_t *need)'
  ),
  iter_close: lib.func('void mmapobj_iter_close(_Inout_ mmapobj_iter **it)'),
};

/**
 * Code constants by name, taken from the library itself (mmapobj_code_name) rather than copied:
 * the numbers are the pinned values of enum mmapobj_code, probed over the documented ranges.
 */
function codeTable() {
  const byName = Object.create(null);
  const probe = [0, -1];
  for (let c = -101; c >= -199; c--) probe.push(c);
  for (let c = -201; c >= -299; c--) probe.push(c);
  for (let c = -301; c >= -399; c--) probe.push(c);
  for (let c = -401; c >= -499; c--) probe.push(c);
  for (const c of probe) {
    const name = fn.code_name(c);
    if (name && name !== 'MMAPOBJ_UNKNOWN') byName[name] = c;
  }
  return byName;
}

// Whether the library closes a thread's handles when the thread ends (a terminated worker included).
// Libraries of ABI 1 from before that (no mmapobj_adopt, which came with it) do not: map.js then
// closes a worker's handles at its 'exit' as well.
function hasSymbol(name) {
  try {
    lib.func(`int ${name}(void *)`);
    return true;
  } catch (_) {
    return false;
  }
}
const THREAD_EXIT_CLOSES = hasSymbol('mmapobj_adopt');

const library = Object.freeze({
  path: file,
  version: fn.version_string(),
  abi,
  /** Where it came from: 'env' (MMAPOBJ_LIBRARY), 'build' (the package's CMake build),
   * 'prebuild' (prebuilds/ of the package) or 'system' (the dynamic loader's search). */
  kind,
});

module.exports = {
  fn,
  library,
  codes: Object.freeze(codeTable()),
  STATUS,
  THREAD_EXIT_CLOSES,
  /** enum mmapobj_kind: the kind of a value in the status block and in iteration batches. */
  KIND: Object.freeze({ NONE: 0, STRING: 1, NUMBER: 2, BYTES: 3 }),
  /** Flags of mmapobj_create_ex (MMAPOBJ_CREATE_EXCLUSIVE; test/js/writers.test.js checks its effect). */
  CREATE_FLAGS: Object.freeze({ EXCLUSIVE: 1 }),
  /** A view (ArrayBuffer) over `len` bytes of C memory at BigInt pointer `ptr`. */
  view: (ptr, len) => koffi.view(ptr, len),
};
