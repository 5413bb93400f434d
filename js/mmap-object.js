'use strict';
// require('mmapobj/mmap-object'): the API of the npm package mmap-object 1.5 with its units, for
// code written against it. Only Create differs from require('mmapobj'): its sizes are in
// KILOBYTES, as mmap-object 1.5 reads them (`new Create(path, 500, 300) // 500K`), and its
// max_file_size is a limit on growth only, as in mmap-object. Open and the objects are the same as
// the main entry's (same classes, same prototypes).

const { SharedMap } = require('./map');
const { Create: MainCreate, Open, createObject } = require('./proxy');
const { pathArg, describeType } = require('./args');
const { argTypeError, rangeError, typeError } = require('./errors');

const KB = 1024;
// mmap-object 1.5's default max_file_size when the argument is 0 or omitted (DEFAULT_MAX_SIZE,
// 5000 << 20 bytes). Its default file_size (5 MiB) and bucket count (1024) are the library's.
const DEFAULT_MAX_FILE_SIZE = 5000 * 1024 * 1024;
const DEFAULT_FILE_SIZE = 5 * 1024 * 1024;

// One size argument: undefined, null or 0 select the default. mmap-object converted with ToInt32,
// which drops a fraction; so does this. Anything that is not a number is a TypeError here (ToInt32
// turned 'abc' into 0, the default, hiding the mistake), negative, NaN and infinite numbers a
// RangeError.
function sizeArg(name, v, unit) {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number') {
    throw argTypeError(`Create: ${name} must be a number (${unit}), got ${describeType(v)}`);
  }
  const n = Math.trunc(v);
  const bytes = unit === 'kilobytes' ? n * KB : n;
  if (!Number.isFinite(v) || n < 0 || bytes > Number.MAX_SAFE_INTEGER) {
    throw rangeError(`Create: ${name} must be a non-negative number of ${unit} (0 for the default), got ${v}`);
  }
  return bytes;
}

/**
 * new Create(path, [file_size], [initial_bucket_count], [max_file_size])
 *   file_size, max_file_size: kilobytes (default 5 MiB and 5000 MiB); initial_bucket_count: keys to
 *   plan for (default 1024). Opens `path` for writing; an existing file keeps its data.
 */
function Create(path, file_size, initial_bucket_count, max_file_size) {
  if (!new.target) throw typeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Create must be called as a constructor.');
  path = pathArg(path, 'Create');
  const opts = {
    fileSize: sizeArg('file_size', file_size, 'kilobytes'),
    buckets: sizeArg('initial_bucket_count', initial_bucket_count, 'buckets'),
    maxFileSize: sizeArg('max_file_size', max_file_size, 'kilobytes') || DEFAULT_MAX_FILE_SIZE,
  };
  try {
    return createObject(path, opts);
  } catch (e) {
    // (The library's E_INVAL for sizes comes as a RangeError, ERR_OUT_OF_RANGE; opts are valid.)
    if (!(e instanceof RangeError && e.code === 'ERR_OUT_OF_RANGE')) throw e;
    // The library refuses a max_file_size below what the file needs now (an existing file's size,
    // or the header and table of a new one: 8 KiB and 8 bytes per slot) and a file_size above
    // max_file_size. mmap-object checked max_file_size only when the file had to grow. So such a
    // limit is honoured as mmap-object did: the file is opened with the stored (or default) limit
    // to learn its size S, then with limit max(max_file_size, S); and when S is larger than the
    // file_size asked for (the header and table alone are larger), with S + max_file_size, so that
    // the map has room for data as mmap-object's file of that size had.
    let size;
    try {
      const probe = SharedMap.create(path, { ...opts, maxFileSize: 0 });
      size = probe.stats().fileSize;
      probe.close();
    } catch (_) {
      throw e;
    }
    const asked = opts.fileSize || DEFAULT_FILE_SIZE;
    const limit = size > asked ? size + opts.maxFileSize : Math.max(opts.maxFileSize, size);
    return createObject(path, { ...opts, maxFileSize: limit });
  }
}
// One prototype for the objects of both entries: instanceof and the methods are the same.
Create.prototype = MainCreate.prototype;

module.exports = { Create, Open };
// `import Shared from 'mmapobj/mmap-object'` and TypeScript's default import see the same object.
module.exports.default = module.exports;
