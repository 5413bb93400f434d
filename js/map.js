'use strict';
// SharedMap: the Map-protocol class that owns one libmmapobj handle. Every operation of the
// package (the Create/Open Proxy included) is implemented here once: marshalling, state checks
// (closed / read-only), the lookup fast path, idempotent close and a FinalizationRegistry safety net
// for maps that are never closed. Argument checks are in args.js, iteration in iterator.js.
//
// Lookup fast path: one koffi call mmapobj_get_z(handle, key) returning `const char *`. A string
// comes back as a JS string directly; NULL means "read the status block", which is viewed through
// typed arrays made once per handle (koffi.view), so a miss or a number costs no second call.

const { types } = require('util');
const { isMainThread } = require('worker_threads');
const { fn, codes, view, STATUS, KIND, THREAD_EXIT_CLOSES, CREATE_FLAGS } = require('./native');
const errors = require('./errors');
const { MmapObjError, fromCode, typeError, argTypeError, argValueError, rangeError, TEXT, showKey } = errors;
const args = require('./args');
const { describeType, keyTypeError, loneSurrogateError, valueTypeError } = args;
const { scratchOf } = require('./scratch');
const { MapIterator, closeIterators, kRestart, MODE_KEYS, MODE_VALUES, MODE_ENTRIES } = require('./iterator');

const OK = codes.MMAPOBJ_OK;
const NOTFOUND = codes.MMAPOBJ_NOTFOUND;
const E_CLOSED = codes.MMAPOBJ_E_CLOSED;
const E_READONLY = codes.MMAPOBJ_E_READONLY;
const E_RESERVE = codes.MMAPOBJ_E_RESERVE;
const K_NUMBER = KIND.NUMBER;
const K_STRING = KIND.STRING;
const K_NONE = KIND.NONE;

// The status block (struct mmapobj_status) read through typed arrays over it: indices of its
// fields, from the one description of the struct in native.js. The 64-bit length is read as two
// little-endian 32-bit halves.
const S_KIND = STATUS.kind / 4;
const S_CODE = STATUS.code / 4;
const S_NUMBER = STATUS.number / 8;
const S_LEN = STATUS.len / 4;

// Hot bindings as locals (one property load less per call).
const get_z = fn.get_z;
const get_cstr = fn.get_cstr;
const has_z = fn.has_z;
const copy_last = fn.copy_last;
const lock = fn.lock;
const unlock = fn.unlock;
const byteLength = Buffer.byteLength;
const isUint8Array = types.isUint8Array;

/** Counts writes through any map of this thread (proxy.js drops enumeration snapshots on change). */
const writes = { count: 0 };

// ---- the safety net ---------------------------------------------------------------------------

// Held values are the map's state objects, never the map itself, so that the map can be collected.
const registry = new FinalizationRegistry(closeState);

// Every state with an open handle, so that the main thread closes its handles at process exit (the
// library closes nothing at process exit; a writer closed then marks its file clean and shrinks it).
// A worker thread needs no such hook: when its thread ends, normally or by worker.terminate() (which
// runs no more JavaScript), the library closes the handles the thread still has (mmapobj.h,
// Caveats). Nothing of the worker's JS runs after that, so no JS handle object can reach C again.
// With an older library that lacks this, a worker closes at its 'exit' (normal end) as before.
const openStates = new Set();

function closeState(state) {
  openStates.delete(state);
  closeIterators(state);
  if (state.h !== null) {
    const box = [state.h];
    state.h = null;
    fn.close(box);
  }
}

if (isMainThread || !THREAD_EXIT_CLOSES) {
  process.on('exit', () => {
    for (const state of openStates) closeState(state);
  });
}

// ---- SharedMap ------------------------------------------------------------------------------

class SharedMap {
  // The handle (BigInt pointer) or null once closed; status block views (null once closed).
  #h;
  #i32;
  #f64;
  #state;
  #writable;
  #path;

  /** Use SharedMap.create() / SharedMap.open(). */
  constructor(token, handle, path, writable) {
    if (token !== CONSTRUCT) {
      throw typeError('ERR_ILLEGAL_CONSTRUCTOR', 'Use SharedMap.create(path, options) or SharedMap.open(path)');
    }
    this.#path = path;
    this.#writable = writable;
    this.#state = { h: null, iters: new Set() };
    // structuredClone / postMessage copy only own enumerable properties, and would copy a SharedMap
    // as {}: a function among them makes them throw a DataCloneError instead, whose message shows
    // the function's text (see NOT_CLONEABLE).
    Object.defineProperty(this, 'notCloneable', { value: NOT_CLONEABLE, enumerable: true });
    this.#attach(handle);
    registry.register(this, this.#state, this.#state);
  }

  /**
   * Opens `path` for writing, creating it if it does not exist (an existing file keeps its data).
   * @param {string|URL} path
   * Other writers (processes, threads, handles) may write the file at the same time, unless one
   * of them (or this one) asked for `exclusive: true`: then the others get MMAPOBJ_E_LOCKED.
   * @param {{fileSize?: number, buckets?: number, maxFileSize?: number, exclusive?: boolean}} [options]
   */
  static create(path, options) {
    path = args.pathArg(path, 'SharedMap.create');
    const o = options === undefined ? args.createOptions([path]) : args.optionsObject(options);
    return createMap(path, o);
  }

  /** Opens an existing file read-only. @param {string|URL} path */
  static open(path) {
    path = args.pathArg(path, 'SharedMap.open');
    return openMap(path);
  }

  #attach(h) {
    this.#h = h;
    this.#state.h = h;
    openStates.add(this.#state);
    const ab = view(fn.status_block(h), STATUS.size);
    this.#i32 = new Int32Array(ab, 0, STATUS.size >> 2);
    this.#f64 = new Float64Array(ab, 0, STATUS.size >> 3);
  }

  #detach() {
    const h = this.#h;
    this.#h = null;
    this.#i32 = null;
    this.#f64 = null;
    closeIterators(this.#state);
    this.#state.h = null;
    openStates.delete(this.#state);
    registry.unregister(this.#state);
    return h;
  }

  // A reader whose file outgrew its address reservation reopens (same path) and goes on.
  #reopen() {
    const h = this.#detach();
    fn.close([h]);
    const out = [null];
    const rc = fn.open(this.#path, out);
    if (rc !== OK) throw fromCode(rc, { path: this.#path, op: 'reopen' });
    this.#attach(out[0]);
    registry.register(this, this.#state, this.#state);
  }

  // ---- lookups ----

  /** The value of `key`, or undefined. Strings, numbers, or a new Buffer for bytes values. */
  get(key) {
    const h = this.#h;
    if (typeof key !== 'string') return this.#getBytesKey(key);
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    let s;
    if (key.indexOf('\0') === -1) {
      s = get_z(h, key);
    } else {
      s = get_cstr(h, key, byteLength(key));
    }
    if (s !== null) {
      // A key with a lone surrogate reaches C as U+FFFD and could match another key: no such key
      // can have been stored, so it is a miss.
      return key.isWellFormed() ? s : undefined;
    }
    return this.#afterNull(key);
  }

  // A key given as bytes (Buffer or Uint8Array): any byte string, UTF-8 or not.
  #getBytesKey(key) {
    if (!isUint8Array(key)) throw keyTypeError(key);
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const s = get_cstr(h, key, key.byteLength);
    return s !== null ? s : this.#afterNull(key);
  }

  #afterNull(key) {
    const i32 = this.#i32;
    const kind = i32[S_KIND];
    if (kind === K_NUMBER) return wellFormed(key) ? this.#f64[S_NUMBER] : undefined;
    if (kind === K_NONE) {
      const code = i32[S_CODE];
      if (code === NOTFOUND) return undefined;
      if (code === E_RESERVE && !this.#writable) {
        this.#reopen();
        return this.get(key);
      }
      throw fromCode(code, { handle: this.#h, path: this.#path, key, op: 'get' });
    }
    if (!wellFormed(key)) return undefined;
    const len = (i32[S_LEN] >>> 0) + (i32[S_LEN + 1] >>> 0) * 4294967296;
    if (kind === K_STRING) {
      // A string with a NUL inside: copy it out, then decode.
      const buf = scratchOf(len);
      this.#copyLast(buf, len, key);
      return buf.utf8Slice(0, len);
    }
    // Bytes: a new Buffer with its own memory, valid after close.
    const buf = Buffer.allocUnsafeSlow(len);
    this.#copyLast(buf, len, key);
    return buf;
  }

  #copyLast(buf, len, key) {
    if (len === 0) return;
    const n = copy_last(this.#h, buf, len);
    if (n !== len) {
      throw fromCode(n < 0 ? n : codes.MMAPOBJ_E_CORRUPT, { handle: this.#h, path: this.#path, key, op: 'get' });
    }
  }

  /** True if `key` (a string, or a Buffer/Uint8Array of its bytes) is in the map. */
  has(key) {
    const h = this.#h;
    let rc;
    if (typeof key !== 'string') {
      if (!isUint8Array(key)) throw keyTypeError(key);
      if (h === null) throw this.#closed(TEXT.READ_CLOSED);
      rc = fn.has(h, key, key.byteLength);
    } else {
      if (h === null) throw this.#closed(TEXT.READ_CLOSED);
      if (!key.isWellFormed()) return false;
      rc = key.indexOf('\0') === -1 ? has_z(h, key) : fn.has(h, key, byteLength(key));
    }
    if (rc >= 0) return rc === 1;
    if (rc === E_RESERVE && !this.#writable) {
      this.#reopen();
      return this.has(key);
    }
    throw fromCode(rc, { handle: h, path: this.#path, key, op: 'has' });
  }

  // ---- writes ----

  /**
   * Sets `key` (a string, or a Buffer/Uint8Array of its bytes) to `value` (a string, a number, or a
   * Buffer/Uint8Array whose bytes are copied). Other value types throw a TypeError and write
   * nothing. Returns the map.
   */
  set(key, value) {
    const h = this.#h;
    // The key's byte length for the (pointer, length) calls; -1 for a string key without NUL,
    // which the *_z calls take as it is.
    let klen = -1;
    if (typeof key !== 'string') {
      if (!isUint8Array(key)) throw keyTypeError(key);
      klen = key.byteLength;
    }
    if (h === null) throw this.#closed(TEXT.WRITE_CLOSED);
    if (!this.#writable) throw new MmapObjError(TEXT.READONLY, { code: E_READONLY, path: this.#path, key });
    if (klen === -1) {
      if (!key.isWellFormed()) throw loneSurrogateError('Key', key);
      if (key.indexOf('\0') !== -1) klen = byteLength(key);
    }
    let rc;
    switch (typeof value) {
      case 'string':
        if (!value.isWellFormed()) throw loneSurrogateError(`The string value for key ${showKey(key)}:`, value);
        if (klen === -1 && value.indexOf('\0') === -1) rc = fn.set_string_z(h, key, value);
        else rc = fn.set_string(h, key, klen === -1 ? byteLength(key) : klen, value, byteLength(value));
        break;
      case 'number':
        rc = klen === -1 ? fn.set_number_z(h, key, value) : fn.set_number(h, key, klen, value);
        break;
      case 'object':
        if (isUint8Array(value)) {
          rc = fn.set_bytes(h, key, klen === -1 ? byteLength(key) : klen, value, value.byteLength);
          break;
        }
      // falls through
      default:
        throw valueTypeError(key, value);
    }
    writes.count++;
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, key, op: 'set' });
    return this;
  }

  /** Removes `key` (a string, or a Buffer/Uint8Array of its bytes); true if it was there. */
  delete(key) {
    const h = this.#h;
    const bytesKey = typeof key !== 'string';
    if (bytesKey && !isUint8Array(key)) throw keyTypeError(key);
    if (h === null) throw this.#closed(TEXT.DELETE_CLOSED);
    if (!this.#writable) {
      throw new MmapObjError(TEXT.DELETE_READONLY, { code: E_READONLY, path: this.#path, key });
    }
    let rc;
    if (bytesKey) rc = fn.delete(h, key, key.byteLength);
    else if (!key.isWellFormed()) return false;
    else rc = key.indexOf('\0') === -1 ? fn.delete_z(h, key) : fn.delete(h, key, byteLength(key));
    writes.count++;
    if (rc === OK) return true;
    if (rc === NOTFOUND) return false;
    throw fromCode(rc, { handle: h, path: this.#path, key, op: 'delete' });
  }

  /**
   * Runs fn() while holding the file's write lock, and returns what it returns: the gets, sets and
   * deletes inside it are not interleaved with other writers' (any process, thread or handle), so
   * a read-modify-write is atomic against them. Readers may still see the sets one by one. Nested
   * calls (on this map or another writer of the same file in this thread) run inside the outer
   * one. If fn throws, the lock is released and the exception propagates; the writes fn made stay.
   * fn must be synchronous (a returned Promise is refused: the lock cannot be held across await).
   * @template T
   * @param {() => T} fn
   * @returns {T}
   */
  transaction(fn) {
    const h = this.#h;
    if (typeof fn !== 'function') throw argTypeError(`transaction: ${describeType(fn)} is not a function`);
    if (h === null) throw this.#closed(TEXT.WRITE_CLOSED);
    if (!this.#writable) {
      throw new MmapObjError(`${TEXT.READONLY} (transaction needs a writer)`, { code: E_READONLY, path: this.#path });
    }
    const rc = lock(h);
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'transaction' });
    let result;
    try {
      result = fn();
    } finally {
      // (a close inside fn gave the lock back with the handle)
      if (this.#h === h) unlock(h);
    }
    const thenable = result !== null && (typeof result === 'object' || typeof result === 'function');
    if (thenable && typeof result.then === 'function') {
      result.then(undefined, () => {}); // its rejection is reported by the TypeError below
      throw argValueError(
        'transaction: fn returned a Promise: the write lock cannot be held across await (the part ' +
          'of fn after its first await ran without it); pass a synchronous function'
      );
    }
    return result;
  }

  /** Removes every key (writer only). */
  clear() {
    if (this.#h === null) throw this.#closed(TEXT.DELETE_CLOSED);
    if (!this.#writable) throw new MmapObjError(TEXT.DELETE_READONLY, { code: E_READONLY, path: this.#path });
    for (const k of this.keysArray()) this.delete(k);
  }

  // ---- size, iteration ----

  /** Number of keys (a reader sees the writer's latest count). */
  get size() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const n = fn.count(h);
    if (n < 0) throw fromCode(n, { handle: h, path: this.#path, op: 'size' });
    return n;
  }

  /**
   * Iterator over the keys: strings (bytes that are not UTF-8 read with U+FFFD in their place), or
   * with { asBuffer: true } a new Buffer of each key's exact bytes (which get/has/set/delete take).
   */
  keys(options) {
    return new MapIterator(this, this.#iterOpen(), this.#state, this.#path, MODE_KEYS, asBuffer('keys', options));
  }

  /** Iterator over the values. */
  values() {
    return new MapIterator(this, this.#iterOpen(), this.#state, this.#path, MODE_VALUES);
  }

  /** Iterator over [key, value] pairs; with { asBuffer: true } the keys are Buffers, as keys(). */
  entries(options) {
    return new MapIterator(this, this.#iterOpen(), this.#state, this.#path, MODE_ENTRIES, asBuffer('entries', options));
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /** Calls fn(value, key, map) for every entry. */
  forEach(callback, thisArg) {
    if (typeof callback !== 'function') throw argTypeError(`forEach: ${describeType(callback)} is not a function`);
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }

  /** All keys in one array (one pass of batched calls). */
  keysArray() {
    return this.#drain(MODE_KEYS).keys;
  }

  /**
   * All keys and values: {keys, values}, two arrays of the same length, in one pass.
   * With a `valueBudget` (bytes), values are read only while the entries read with them fit in it,
   * counted as the library copies them (per entry: 4 + key bytes + 1 + 8 for a number, or 4 +
   * value bytes): at the first entry that does not fit, values stop, and `values` holds the values
   * of the first keys only. A budget of 0 reads no value.
   */
  entriesArrays(valueBudget = Infinity) {
    if (typeof valueBudget !== 'number') {
      throw argTypeError(`entriesArrays: valueBudget must be a number of bytes, got ${describeType(valueBudget)}`);
    }
    if (!(valueBudget >= 0)) {
      throw rangeError(`entriesArrays: valueBudget must be a non-negative number of bytes, got ${valueBudget}`);
    }
    return this.#drain(MODE_ENTRIES, Math.floor(valueBudget));
  }

  #drain(mode, valueBudget = Infinity) {
    return new MapIterator(this, this.#iterOpen(), this.#state, this.#path, mode)._drain(valueBudget);
  }

  // For an iteration that starts again (iterator.js): reopens a reader (`reopen`) and opens a new C
  // iterator; null for a writer or a closed map.
  [kRestart](reopen) {
    if (this.#writable || this.#h === null) return null;
    if (reopen) this.#reopen();
    return this.#iterOpen();
  }

  #iterOpen() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const out = [null];
    const rc = fn.iter_open(h, out);
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'iter_open' });
    return out[0];
  }

  // ---- information ----

  /** The path the map was opened with. */
  get path() {
    return this.#path;
  }

  /** True for a writer (SharedMap.create / Create). */
  get writable() {
    return this.#writable;
  }

  /** True once closed. */
  get closed() {
    return this.#h === null;
  }

  isOpen() {
    return this.#h !== null;
  }

  isClosed() {
    return this.#h === null;
  }

  /** Statistics of the file (see mmapobj_stats in mmapobj.h), with camelCase names. */
  stats() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const s = {};
    const rc = fn.stat(h, s);
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'stats' });
    return {
      fileSize: Number(s.file_size),
      maxFileSize: Number(s.max_file_size),
      usedBytes: Number(s.used_bytes),
      freeBytes: Number(s.free_bytes),
      count: Number(s.count),
      bucketCount: Number(s.bucket_count),
      maxBucketCount: Number(s.max_bucket_count),
      loadFactor: s.load_factor,
      maxLoadFactor: s.max_load_factor,
      formatMajor: s.format_major,
      formatMinor: s.format_minor,
      writable: s.writable === 1,
      writerPid: s.writer_pid,
      countString: Number(s.count_string),
      countNumber: Number(s.count_number),
      countBytes: Number(s.count_bytes),
    };
  }

  /** "major.minor" of the file format of the open file. */
  fileFormatVersion() {
    const s = this.stats();
    return `${s.formatMajor}.${s.formatMinor}`;
  }

  /** Writes the map to stable storage (msync + fsync); a no-op on a reader. */
  flush() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.WRITE_CLOSED);
    const rc = fn.flush(h);
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'flush' });
  }

  /** Checks every structure of the file; throws an MmapObjError naming the first problem. */
  verify() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const rc = fn.verify(h);
    if (rc === E_RESERVE && !this.#writable) {
      this.#reopen();
      return this.verify();
    }
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'verify' });
    return true;
  }

  // ---- close ----

  /**
   * Closes the map. Idempotent: closing a closed SharedMap does nothing.
   * Without a callback the map is closed when close() returns (as in mmap-object), a failure is
   * thrown, and the result is a promise that is already resolved (for `await m.close()`).
   * With a callback the library's close (which may shrink the file) runs on a worker thread and
   * callback(err) is called when it is done; the map counts as closed at once, so no lookup can race
   * the close; the result is undefined. (In a worker_threads worker the close itself runs at once,
   * and only the callback comes later.)
   * @param {(err: Error|null) => void} [callback]
   * @returns {Promise<void>|undefined}
   */
  close(callback) {
    args.callbackArg('close', callback);
    if (this.#h === null) {
      if (callback) process.nextTick(callback, null);
      else return Promise.resolve();
      return;
    }
    const path = this.#path;
    const h = this.#detach();
    if (callback && !isMainThread) {
      // In a worker the close is not handed to koffi's thread pool: the worker may be terminated
      // before the pool runs it, and the library would then close the handle at the worker's thread
      // exit as well (a use after free). The callback still comes later, as in the main thread.
      const rc = fn.close([h]);
      process.nextTick(callback, rc < 0 ? closeError(rc, path) : null);
      return;
    }
    if (callback) {
      try {
        fn.close.async([h], (err, rc) => {
          if (err) callback(err);
          else callback(rc < 0 ? closeError(rc, path) : null);
        });
      } catch (_) {
        // koffi's queue of asynchronous calls is full: close here, report as usual.
        const rc = fn.close([h]);
        process.nextTick(callback, rc < 0 ? closeError(rc, path) : null);
      }
      return;
    }
    const rc = fn.close([h]);
    if (rc < 0) throw closeError(rc, path);
    return Promise.resolve();
  }

  /** `using m = SharedMap.open(p)`: closes the map (if it is still open) when the block ends. */
  [Symbol.dispose]() {
    this.close();
  }

  /** `await using m = ...`: the close runs off the main thread, as close(callback). */
  [Symbol.asyncDispose]() {
    return new Promise((resolve, reject) => this.close((err) => (err ? reject(err) : resolve())));
  }

  #closed(text) {
    return new MmapObjError(text, { code: E_CLOSED, path: this.#path });
  }

  get [Symbol.toStringTag]() {
    return 'SharedMap';
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    const state = this.#h === null ? 'closed' : `${this.#writable ? 'writer' : 'reader'}, ${this.size} keys`;
    return `SharedMap(${JSON.stringify(this.#path)}) [${state}]`;
  }
}

// The handle is closed by now, so there is no per-handle detail to read.
function closeError(rc, path) {
  return new MmapObjError(`close: ${fn.strerror(rc)} (file ${path})`, { code: rc, path, syscall: 'mmapobj_close' });
}

const CONSTRUCT = Symbol('SharedMap.construct');

// A string key that is not well-formed UTF-16 reaches C with U+FFFD in place of its lone surrogates
// and could match another key: no such key can have been stored. Bytes keys are taken as they are.
function wellFormed(key) {
  return typeof key !== 'string' || key.isWellFormed();
}

// The { asBuffer } option of keys() / entries().
function asBuffer(what, options) {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') {
    throw argTypeError(`${what}: options must be an object, got ${describeType(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'asBuffer') throw argValueError(`${what}: unknown option "${k}" (known: asBuffer)`);
  }
  if (options.asBuffer !== undefined && typeof options.asBuffer !== 'boolean') {
    throw argTypeError(`${what}: asBuffer must be a boolean, got ${describeType(options.asBuffer)}`);
  }
  return options.asBuffer === true;
}

// DataCloneError's message quotes (the start of) this function's source text.
// prettier-ignore
const NOT_CLONEABLE = function SharedMap() { /* cannot be cloned: post its path, open it there */ };

function createMap(path, o) {
  const out = [null];
  const flags = o.exclusive ? CREATE_FLAGS.EXCLUSIVE : 0;
  const rc = fn.create_ex(path, o.fileSize, o.buckets, o.maxFileSize, flags, out);
  if (rc !== OK) throw fromCode(rc, { path, op: 'create' });
  return new SharedMap(CONSTRUCT, out[0], path, true);
}

function openMap(path) {
  const out = [null];
  const rc = fn.open(path, out);
  if (rc !== OK) throw fromCode(rc, { path, op: 'open' });
  return new SharedMap(CONSTRUCT, out[0], path, false);
}

module.exports = { SharedMap, writes };
