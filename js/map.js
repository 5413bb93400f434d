'use strict';
// SharedMap: the Map-protocol class that owns one libmmapobj handle. Every operation of the
// package (the Create/Open Proxy included) is implemented here once: argument checks, marshalling,
// state checks (closed / read-only), the lookup fast path, batched iteration, idempotent close and a
// FinalizationRegistry safety net for maps that are never closed.
//
// Lookup fast path: one koffi call mmapobj_get_z(handle, key) returning `const char *`. A string
// comes back as a JS string directly; NULL means "read the status block", which is viewed through
// typed arrays made once per handle (koffi.view), so a miss or a number costs no second call.

const { types } = require('util');
const { fn, codes, view, STATUS_SIZE, KIND } = require('./native');
const { MmapObjError, fromCode, TEXT, showKey } = require('./errors');

const OK = codes.MMAPOBJ_OK;
const NOTFOUND = codes.MMAPOBJ_NOTFOUND;
const E_CLOSED = codes.MMAPOBJ_E_CLOSED;
const E_READONLY = codes.MMAPOBJ_E_READONLY;
const E_BUFSMALL = codes.MMAPOBJ_E_BUFSMALL;
const E_RESERVE = codes.MMAPOBJ_E_RESERVE;
const K_NUMBER = KIND.NUMBER;
const K_STRING = KIND.STRING;
const K_NONE = KIND.NONE;

// Hot bindings as locals (one property load less per call).
const get_z = fn.get_z;
const get_cstr = fn.get_cstr;
const has_z = fn.has_z;
const copy_last = fn.copy_last;
const byteLength = Buffer.byteLength;
const isUint8Array = types.isUint8Array;

// Scratch memory shared by every map of this thread: values with a NUL inside are copied here
// before decoding, and iteration batches land here (decoded at once, so sharing is safe).
const SCRATCH_KEEP = 16 << 20; // a bigger one (a huge value) is used once and dropped
let scratch = Buffer.allocUnsafeSlow(256 * 1024);
function scratchOf(n) {
  if (scratch.length >= n) return scratch;
  if (n > SCRATCH_KEEP) return Buffer.allocUnsafeSlow(n);
  scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_KEEP, Math.max(n, scratch.length * 2)));
  return scratch;
}
const utf8Slice = (buf, start, end) => buf.utf8Slice(start, end);
const fcc = String.fromCharCode;

// Decodes UTF-8 bytes [p, e) of buf. Short ASCII strings (most keys) are built in JS, which is
// about twice as fast as a call into Buffer's decoder for them.
function decode(b, p, e) {
  const n = e - p;
  if (n > 16) return b.utf8Slice(p, e);
  let or = 0;
  for (let i = p; i < e; i++) or |= b[i];
  if (or >= 0x80) return b.utf8Slice(p, e);
  switch (n) {
    case 0:
      return '';
    case 1:
      return fcc(b[p]);
    case 2:
      return fcc(b[p], b[p + 1]);
    case 3:
      return fcc(b[p], b[p + 1], b[p + 2]);
    case 4:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    case 9:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8]);
    case 10:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9]);
    case 11:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10]);
    case 12:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11]);
    case 13:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12]);
    case 14:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13]);
    case 15:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14]);
    case 16:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
  }
  return b.utf8Slice(p, e);
}

/** Counts writes through any map of this thread (proxy.js drops enumeration snapshots on change). */
const writes = { count: 0 };

// ---- argument checks ------------------------------------------------------------------------

const OPTION_NAMES = ['fileSize', 'buckets', 'maxFileSize'];

function describeType(v) {
  if (v === null) return 'null';
  const t = typeof v;
  if (t !== 'object' && t !== 'function') return t;
  if (t === 'function') return 'function';
  const ctor = Object.getPrototypeOf(v) === null ? null : v.constructor;
  return ctor && typeof ctor.name === 'string' && ctor.name ? ctor.name : 'object';
}

function sizeArg(name, v) {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `${name} must be a non-negative integer (bytes or a count; 0 or omitted for the default), ` +
        `got ${typeof v === 'number' ? v : describeType(v)}`
    );
  }
  return v;
}

function pathArg(p, what) {
  if (p instanceof URL) {
    if (p.protocol !== 'file:') throw new TypeError(`${what}: only file: URLs are supported, got ${p.href}`);
    p = require('url').fileURLToPath(p);
  }
  if (typeof p !== 'string') {
    throw new TypeError(`${what}: path must be a string, got ${describeType(p)}`);
  }
  if (p === '') throw new TypeError(`${what}: path must not be empty`);
  if (p.indexOf('\0') !== -1) throw new TypeError(`${what}: path must not contain NUL characters`);
  if (!p.isWellFormed()) throw new TypeError(`${what}: path is not well-formed UTF-16 (lone surrogate)`);
  return p;
}

/** Normalises Create's arguments: (path, opts) or (path, fileSize, buckets, maxFileSize). */
function createOptions(args) {
  const [, a, b, c] = args;
  if (a !== null && typeof a === 'object') {
    if (args.length > 2) throw new TypeError('Create: pass either an options object or sizes, not both');
    for (const k of Object.keys(a)) {
      if (!OPTION_NAMES.includes(k)) {
        throw new TypeError(`Create: unknown option "${k}" (known: ${OPTION_NAMES.join(', ')})`);
      }
    }
    return {
      fileSize: sizeArg('fileSize', a.fileSize),
      buckets: sizeArg('buckets', a.buckets),
      maxFileSize: sizeArg('maxFileSize', a.maxFileSize),
    };
  }
  return {
    fileSize: sizeArg('file_size', a),
    buckets: sizeArg('initial_bucket_count', b),
    maxFileSize: sizeArg('max_file_size', c),
  };
}

function keyTypeError(key) {
  return new TypeError(`SharedMap keys must be strings, got ${describeType(key)}`);
}

function loneSurrogateError(what, key) {
  return new TypeError(
    `${what} ${showKey(key)} is not well-formed UTF-16 (it contains a lone surrogate), so it ` +
      'cannot be stored as UTF-8 exactly; use str.toWellFormed() to replace lone surrogates with U+FFFD'
  );
}

function valueTypeError(key, value) {
  return new TypeError(
    `Cannot store a value of type ${describeType(value)} (key ${showKey(key)}): values must be ` +
      'strings, numbers, Buffers or Uint8Arrays'
  );
}

// ---- the safety net ---------------------------------------------------------------------------

// Held values are the map's state objects, never the map itself, so that the map can be collected.
const registry = new FinalizationRegistry(closeState);

// Every state with an open handle, so that the handles of this thread are closed when it exits
// (a worker thread that ends without close() would otherwise keep its writer lock until the whole
// process exits; a writer closed at exit also marks its file clean and shrinks it).
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

process.on('exit', () => {
  for (const state of openStates) closeState(state);
});

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
      throw new TypeError('Use SharedMap.create(path, options) or SharedMap.open(path)');
    }
    this.#path = path;
    this.#writable = writable;
    this.#state = { h: null, iters: new Set() };
    this.#attach(handle);
    registry.register(this, this.#state, this.#state);
  }

  /**
   * Opens `path` for writing, creating it if it does not exist (an existing file keeps its data).
   * @param {string|URL} path
   * @param {{fileSize?: number, buckets?: number, maxFileSize?: number}} [options]
   */
  static create(path, options) {
    path = pathArg(path, 'SharedMap.create');
    const o = options === undefined ? createOptions([path]) : optionsObject(options);
    return createMap(path, o);
  }

  /** Opens an existing file read-only. @param {string|URL} path */
  static open(path) {
    path = pathArg(path, 'SharedMap.open');
    return openMap(path);
  }

  #attach(h) {
    this.#h = h;
    this.#state.h = h;
    openStates.add(this.#state);
    const ab = view(fn.status_block(h), STATUS_SIZE);
    this.#i32 = new Int32Array(ab, 0, STATUS_SIZE / 4);
    this.#f64 = new Float64Array(ab, 0, STATUS_SIZE / 8);
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
    if (typeof key !== 'string') throw keyTypeError(key);
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

  #afterNull(key) {
    const i32 = this.#i32;
    const kind = i32[0];
    if (kind === K_NUMBER) return key.isWellFormed() ? this.#f64[1] : undefined;
    if (kind === K_NONE) {
      const code = i32[1];
      if (code === NOTFOUND) return undefined;
      if (code === E_RESERVE && !this.#writable) {
        this.#reopen();
        return this.get(key);
      }
      throw fromCode(code, { handle: this.#h, path: this.#path, key, op: 'get' });
    }
    if (!key.isWellFormed()) return undefined;
    const len = (i32[4] >>> 0) + (i32[5] >>> 0) * 4294967296;
    if (kind === K_STRING) {
      // A string with a NUL inside: copy it out, then decode.
      const buf = scratchOf(len);
      this.#copyLast(buf, len, key);
      return utf8Slice(buf, 0, len);
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

  /** True if `key` is in the map. */
  has(key) {
    const h = this.#h;
    if (typeof key !== 'string') throw keyTypeError(key);
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    if (!key.isWellFormed()) return false;
    const rc = key.indexOf('\0') === -1 ? has_z(h, key) : fn.has(h, key, byteLength(key));
    if (rc >= 0) return rc === 1;
    if (rc === E_RESERVE && !this.#writable) {
      this.#reopen();
      return this.has(key);
    }
    throw fromCode(rc, { handle: h, path: this.#path, key, op: 'has' });
  }

  // ---- writes ----

  /**
   * Sets `key` to `value` (a string, a number, or a Buffer/Uint8Array whose bytes are copied).
   * Other value types throw a TypeError and write nothing. Returns the map.
   */
  set(key, value) {
    const h = this.#h;
    if (typeof key !== 'string') throw keyTypeError(key);
    if (h === null) throw this.#closed(TEXT.WRITE_CLOSED);
    if (!this.#writable) throw new MmapObjError(TEXT.READONLY, { code: E_READONLY, path: this.#path, key });
    if (!key.isWellFormed()) throw loneSurrogateError('Key', key);
    const plainKey = key.indexOf('\0') === -1;
    let rc;
    switch (typeof value) {
      case 'string':
        if (!value.isWellFormed()) throw loneSurrogateError(`The string value for key ${showKey(key)}:`, value);
        if (plainKey && value.indexOf('\0') === -1) rc = fn.set_string_z(h, key, value);
        else rc = fn.set_string(h, key, byteLength(key), value, byteLength(value));
        break;
      case 'number':
        rc = plainKey ? fn.set_number_z(h, key, value) : fn.set_number(h, key, byteLength(key), value);
        break;
      case 'object':
        if (isUint8Array(value)) {
          rc = fn.set_bytes(h, key, byteLength(key), value, value.byteLength);
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

  /** Removes `key`; true if it was there. */
  delete(key) {
    const h = this.#h;
    if (typeof key !== 'string') throw keyTypeError(key);
    if (h === null) throw this.#closed(TEXT.DELETE_CLOSED);
    if (!this.#writable) {
      throw new MmapObjError(TEXT.DELETE_READONLY, { code: E_READONLY, path: this.#path, key });
    }
    if (!key.isWellFormed()) return false;
    const rc = key.indexOf('\0') === -1 ? fn.delete_z(h, key) : fn.delete(h, key, byteLength(key));
    writes.count++;
    if (rc === OK) return true;
    if (rc === NOTFOUND) return false;
    throw fromCode(rc, { handle: h, path: this.#path, key, op: 'delete' });
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

  /** Iterator over the keys. */
  keys() {
    return new MapIterator(this.#iterOpen(), this.#state, this.#path, MODE_KEYS);
  }

  /** Iterator over the values. */
  values() {
    return new MapIterator(this.#iterOpen(), this.#state, this.#path, MODE_VALUES);
  }

  /** Iterator over [key, value] pairs. */
  entries() {
    return new MapIterator(this.#iterOpen(), this.#state, this.#path, MODE_ENTRIES);
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /** Calls fn(value, key, map) for every entry. */
  forEach(callback, thisArg) {
    if (typeof callback !== 'function') throw new TypeError(`forEach: ${describeType(callback)} is not a function`);
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }

  /** All keys in one array (one pass of batched calls). */
  keysArray() {
    return this.#drain(MODE_KEYS).keys;
  }

  /**
   * All keys and values: {keys, values}, two arrays of the same length, in one pass.
   * With a `valueBudget` (bytes), values stop being read once that many bytes of values were read
   * (or at a value bigger than that): `values` then holds the values of the first keys only.
   */
  entriesArrays(valueBudget = Infinity) {
    return this.#drain(MODE_ENTRIES, valueBudget);
  }

  #drain(mode, valueBudget = Infinity) {
    try {
      return new MapIterator(this.#iterOpen(), this.#state, this.#path, mode)._drain(valueBudget);
    } catch (e) {
      // A reader whose file outgrew its reservation reopens and reads everything again.
      if (e.code !== E_RESERVE || this.#writable || this.#h === null) throw e;
      this.#reopen();
      return new MapIterator(this.#iterOpen(), this.#state, this.#path, mode)._drain(valueBudget);
    }
  }

  #iterOpen() {
    const h = this.#h;
    if (h === null) throw this.#closed(TEXT.READ_CLOSED);
    const out = [null];
    const rc = fn.iter_open(h, out);
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'iterate' });
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
    if (rc !== OK) throw fromCode(rc, { handle: h, path: this.#path, op: 'verify' });
    return true;
  }

  // ---- close ----

  /**
   * Closes the map. Idempotent: closing a closed SharedMap does nothing. With a callback the
   * library's close (which may shrink the file) runs on a worker thread and callback(err) is called
   * when it is done; the map counts as closed at once, so no lookup can race the close.
   * @param {(err: Error|null) => void} [callback]
   */
  close(callback) {
    if (callback !== undefined && typeof callback !== 'function') {
      throw new TypeError(`close: callback must be a function, got ${describeType(callback)}`);
    }
    if (this.#h === null) {
      if (callback) process.nextTick(callback, null);
      return;
    }
    const path = this.#path;
    const h = this.#detach();
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
  return new MmapObjError(`close: ${fn.strerror(rc)} (file ${path})`, { code: rc, path });
}

const CONSTRUCT = Symbol('SharedMap.construct');

function optionsObject(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`SharedMap.create: options must be an object, got ${describeType(options)}`);
  }
  return createOptions([undefined, options]);
}

function createMap(path, o) {
  const out = [null];
  const rc = fn.create(path, o.fileSize, o.buckets, o.maxFileSize, out);
  if (rc !== OK) throw fromCode(rc, { path, op: 'create' });
  return new SharedMap(CONSTRUCT, out[0], path, true);
}

function openMap(path) {
  const out = [null];
  const rc = fn.open(path, out);
  if (rc !== OK) throw fromCode(rc, { path, op: 'open' });
  return new SharedMap(CONSTRUCT, out[0], path, false);
}

// ---- iteration ------------------------------------------------------------------------------

const MODE_KEYS = 0;
const MODE_VALUES = 1;
const MODE_ENTRIES = 2;

// Iterates with mmapobj_iter_batch: each call fills the scratch buffer with as many entries as fit,
// which are decoded into arrays at once. The C iterator is closed at the end, on return() (break
// out of for..of), when the map closes (it must go before the map handle), or by the finalizer if
// the JS iterator is dropped half-way. The map's state holds the iterator's cell {it}, never the
// iterator, so that a dropped iterator can be collected.
const iterRegistry = new FinalizationRegistry(({ cell, state }) => {
  state.iters.delete(cell);
  closeCell(cell);
});

function closeCell(cell) {
  if (cell.it !== null) {
    const box = [cell.it];
    cell.it = null;
    fn.iter_close(box);
  }
}

function closeIterators(state) {
  for (const cell of state.iters) {
    cell.interrupted = true;
    closeCell(cell);
  }
  state.iters.clear();
}

class MapIterator {
  #cell;
  #state;
  #path;
  #mode;
  #keys;
  #vals;
  #i;
  #done;

  constructor(it, state, path, mode) {
    this.#cell = { it, interrupted: false };
    this.#state = state;
    this.#path = path;
    this.#mode = mode;
    this.#keys = [];
    this.#vals = [];
    this.#i = 0;
    this.#done = false;
    state.iters.add(this.#cell);
    iterRegistry.register(this, { cell: this.#cell, state }, this);
  }

  [Symbol.iterator]() {
    return this;
  }

  next() {
    if (this.#i >= this.#keys.length) {
      if (this.#done) return { value: undefined, done: true };
      this.#fill();
      if (this.#keys.length === 0) return { value: undefined, done: true };
    }
    const i = this.#i++;
    if (this.#mode === MODE_KEYS) return { value: this.#keys[i], done: false };
    if (this.#mode === MODE_VALUES) return { value: this.#vals[i], done: false };
    return { value: [this.#keys[i], this.#vals[i]], done: false };
  }

  return(value) {
    this.#finish();
    return { value, done: true };
  }

  get [Symbol.toStringTag]() {
    return 'SharedMap Iterator';
  }

  // Reads everything that is left into two arrays; values only up to valueBudget bytes.
  _drain(valueBudget) {
    const keys = [];
    const vals = [];
    let withValues = this.#mode !== MODE_KEYS;
    let valueBytes = 0;
    try {
      while (!this.#done) {
        valueBytes += this.#batch(keys, vals, withValues, valueBudget - valueBytes);
        if (withValues && (valueBytes >= valueBudget || vals.length < keys.length)) withValues = false;
      }
    } finally {
      this.#finish();
    }
    return { keys, values: vals };
  }

  #fill() {
    this.#keys = [];
    this.#vals = [];
    this.#i = 0;
    try {
      this.#batch(this.#keys, this.#vals, this.#mode !== MODE_KEYS, Infinity);
    } catch (e) {
      this.#finish();
      throw e;
    }
  }

  // Reads one batch into keys (and vals). Returns the bytes of values read. When a single entry
  // needs more than maxValueBytes of buffer, that batch is read without values.
  #batch(keys, vals, withValues, maxValueBytes) {
    const cell = this.#cell;
    if (cell.it === null) {
      if (this.#state.h === null) {
        throw new MmapObjError(TEXT.READ_CLOSED, { code: E_CLOSED, path: this.#path });
      }
      if (cell.interrupted) {
        throw new MmapObjError(
          'Iteration interrupted: the reader reopened the file (it outgrew the address space ' +
            'reserved for it); start the iteration again',
          { code: E_RESERVE, path: this.#path }
        );
      }
      this.#done = true;
      return 0;
    }
    const need = [0];
    let buf = scratch;
    let n;
    for (;;) {
      n = fn.iter_batch(cell.it, buf, buf.length, withValues ? 1 : 0, need);
      if (n !== E_BUFSMALL) break;
      const size = Number(need[0]);
      if (withValues && size > maxValueBytes) withValues = false;
      else buf = scratchOf(size);
    }
    if (n < 0) throw fromCode(n, { handle: this.#state.h, path: this.#path, op: 'iterate' });
    if (n === 0) {
      this.#finish();
      return 0;
    }
    let valueBytes = 0;
    let p = 0;
    for (let j = 0; j < n; j++) {
      const klen = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
      p += 4;
      keys.push(decode(buf, p, p + klen));
      p += klen;
      if (!withValues) continue;
      const kind = buf[p++];
      if (kind === K_NUMBER) {
        vals.push(buf.readDoubleLE(p));
        p += 8;
        continue;
      }
      const vlen = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
      p += 4;
      valueBytes += vlen;
      if (kind === K_STRING) {
        vals.push(decode(buf, p, p + vlen));
      } else {
        const b = Buffer.allocUnsafeSlow(vlen);
        buf.copy(b, 0, p, p + vlen);
        vals.push(b);
      }
      p += vlen;
    }
    return valueBytes;
  }

  // Closes the C iterator (end of iteration, return(), or an error).
  #finish() {
    this.#done = true;
    this.#keys = [];
    this.#vals = [];
    this.#i = 0;
    this.#state.iters.delete(this.#cell);
    iterRegistry.unregister(this);
    closeCell(this.#cell);
  }
}

module.exports = { SharedMap, createOptions, pathArg, describeType, writes };
