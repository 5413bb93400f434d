'use strict';
// Create / Open: the mmap-object API as a Proxy over a SharedMap. Only the traps live here; every
// operation routes to map.js. The method names are those of mmap-object 1.5 (its `methodList`, in
// METHODS below): they are non-enumerable, non-writable, non-configurable properties of
// Create.prototype/Open.prototype, and they shadow stored keys of the same name (use SharedMap for
// such keys; isData(name) is false for them). As in mmap-object, toString, valueOf and
// propertyIsEnumerable are among them, so that String(obj), `${obj}` and obj + 1 keep working
// whatever keys another process wrote.
//
// Property lookup order on a Create/Open object:
//   1. a method name of METHODS            -> the method
//   2. a stored key                        -> its value
//   3. a name of Object.prototype / the class prototype (hasOwnProperty, constructor...)
//                                          -> that property (so obj.hasOwnProperty(k) works)
//   4. otherwise                           -> undefined

const fs = require('fs');
const { isUint8Array } = require('util').types;
const { SharedMap, writes } = require('./map');
const { createOptions, pathArg, describeType } = require('./args');
const { MmapObjError, TEXT, showKey, typeError, argTypeError, argValueError } = require('./errors');

const kMap = Symbol('mmapobj.map');

function mapOf(self, name) {
  const m = self !== null && (typeof self === 'object' || typeof self === 'function') ? self[kMap] : undefined;
  if (!(m instanceof SharedMap)) {
    throw typeError('ERR_INVALID_THIS', `${name}() must be called on a Create or Open object, got ${describeType(self)}`);
  }
  return m;
}

// mmap-object 1.5's methods, in one table: its own (close ... fileFormatVersion, isData) and the
// Object.prototype methods its methodList protects (toString, valueOf, propertyIsEnumerable).
const METHOD_IMPLS = {
  close(callback) {
    const m = mapOf(this, 'close');
    if (m.closed) {
      const err = new MmapObjError(TEXT.CLOSE_CLOSED, { code: 'MMAPOBJ_E_CLOSED', path: m.path });
      if (typeof callback === 'function') {
        process.nextTick(callback, err);
        return;
      }
      throw err;
    }
    return m.close(callback);
  },
  isOpen() {
    return mapOf(this, 'isOpen').isOpen();
  },
  isClosed() {
    return mapOf(this, 'isClosed').isClosed();
  },
  /** Bytes that can be written without growing the file. */
  get_free_memory() {
    return mapOf(this, 'get_free_memory').stats().freeBytes;
  },
  /** The size of the file in bytes (mmap-object: the size of the mapped segment, its whole file). */
  get_size() {
    return mapOf(this, 'get_size').stats().fileSize;
  },
  bucket_count() {
    return mapOf(this, 'bucket_count').stats().bucketCount;
  },
  max_bucket_count() {
    return mapOf(this, 'max_bucket_count').stats().maxBucketCount;
  },
  load_factor() {
    return mapOf(this, 'load_factor').stats().loadFactor;
  },
  max_load_factor() {
    return mapOf(this, 'max_load_factor').stats().maxLoadFactor;
  },
  /** The format version of the open file as a number (mmap-object: 1): its major version. */
  fileFormatVersion() {
    return mapOf(this, 'fileFormatVersion').stats().formatMajor;
  },
  /**
   * mmap-object's isData(x): false if x names one of these methods, or is one of them (a function
   * is recognised by its name); true for anything else ('', undefined, null, symbols, objects, any
   * other string). It tells data keys from method names while iterating; it does not look at the
   * file (a key that is not stored is "data" too).
   */
  isData(x) {
    const v = typeof x === 'function' ? x.name : x;
    return typeof v !== 'string' || !(v in METHODS);
  },
  toString: Object.prototype.toString,
  valueOf: Object.prototype.valueOf,
  propertyIsEnumerable: Object.prototype.propertyIsEnumerable,
};

/** Method name -> function (null prototype: a plain lookup table). */
const METHODS = Object.assign(Object.create(null), METHOD_IMPLS);
const METHOD_NAMES = Object.freeze(Object.keys(METHOD_IMPLS));
// For filtering many fresh key strings: `k in METHODS` would internalize each one; a Set only
// hashes it (and V8 keeps that hash for the internalization that ownKeys does anyway).
const METHOD_SET = new Set(METHOD_NAMES);

function iterate() {
  return mapOf(this, 'Symbol.iterator').entries();
}

// `using` / `await using`: close if still open (the map's dispose methods).
function dispose() {
  return mapOf(this, 'Symbol.dispose')[Symbol.dispose]();
}
function asyncDispose() {
  return mapOf(this, 'Symbol.asyncDispose')[Symbol.asyncDispose]();
}

// console.log / util.inspect look at the Proxy's target (not through the traps): show a summary.
function inspectShared(depth, options, inspect) {
  const m = this[kMap];
  const name = Object.getPrototypeOf(this) === Open.prototype ? 'Open' : 'Create';
  if (!(m instanceof SharedMap)) return `${name} {}`;
  if (m.closed) return `${name}(${JSON.stringify(m.path)}) [closed]`;
  const pairs = [];
  const size = m.size;
  for (const pair of m.entries()) {
    if (pairs.length === 20) break;
    pairs.push(pair);
  }
  const shown = Object.fromEntries(pairs);
  const more = size > 20 ? ` (${size - 20} more)` : '';
  return `${name}(${JSON.stringify(m.path)}) ${inspect(shown, { ...options, depth })}${more}`;
}

function defineMethods(proto) {
  Object.defineProperty(proto, Symbol.for('nodejs.util.inspect.custom'), {
    value: inspectShared,
    writable: false,
    enumerable: false,
    configurable: false,
  });
  for (const name of METHOD_NAMES) {
    Object.defineProperty(proto, name, {
      value: METHODS[name],
      writable: false,
      enumerable: false,
      configurable: false,
    });
  }
  for (const [sym, value] of [[Symbol.iterator, iterate], [Symbol.dispose, dispose], [Symbol.asyncDispose, asyncDispose]]) {
    Object.defineProperty(proto, sym, { value, writable: false, enumerable: false, configurable: false });
  }
}

// Names reached by step 3 of the lookup order: everything on Object.prototype (and the class
// prototypes: constructor). Computed once; a null-prototype object for a cheap `in` test.
const FALLBACK = Object.create(null);
for (const name of Object.getOwnPropertyNames(Object.prototype)) FALLBACK[name] = true;
FALLBACK.constructor = true;

// ---- enumeration snapshot ------------------------------------------------------------------------
// Object.keys / for..in / JSON.stringify / {...obj} call ownKeys once, then getOwnPropertyDescriptor
// for every key in order. ownKeys reads keys and values in one batched pass and keeps them until
// the end of the current job (microtask), so that those descriptors cost no lookup each. The
// snapshot is used only for the keys in the order ownKeys returned them, and only while no write
// went through any map of this thread.
let snapshot = null; // { target, keys, values, i, writes }; values may be shorter than keys
const SNAPSHOT_VALUE_BUDGET = 32 << 20;
function dropSnapshot() {
  snapshot = null;
}

function ownKeysOf(target) {
  const m = target[kMap];
  // Values are read along (for the descriptors that follow) up to a budget, so that listing the
  // keys of a map with huge values does not copy them all.
  const { keys, values } = m.entriesArrays(SNAPSHOT_VALUE_BUDGET);
  // Method names are not own properties; a stored key of that name is shadowed (isData tells).
  // A Proxy's ownKeys must not repeat a key, and an iteration can: a reader racing a live writer
  // that deletes and re-adds a key, or a damaged file whose table lists a record twice. So the
  // list is deduplicated (a Set of the keys; small next to what the engine does per key anyway).
  const seen = new Set();
  let outKeys = keys;
  let outVals = values;
  let filter = false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (METHOD_SET.has(k) || seen.has(k)) {
      filter = true;
      break;
    }
    seen.add(k);
  }
  if (filter) {
    seen.clear();
    outKeys = [];
    outVals = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (METHOD_SET.has(k) || seen.has(k)) continue;
      seen.add(k);
      outKeys.push(k);
      if (i < values.length) outVals.push(values[i]);
    }
  }
  if (snapshot === null) queueMicrotask(dropSnapshot);
  snapshot = { target, keys: outKeys, values: outVals, i: 0, writes: writes.count };
  return outKeys;
}

// A value that is neither a string nor a number, as mmap-object took it: the bytes of any
// ArrayBufferView (Buffer, Uint8Array, other typed arrays, DataView), read back as a Buffer.
// Anything else is refused with mmap-object's text (after the closed / read-only checks, which the
// map makes first, as mmap-object did).
function storableObject(m, key, value) {
  if (ArrayBuffer.isView(value)) {
    return isUint8Array(value) ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (m.closed || !m.writable) return value;
  throw argTypeError(`${VALUE_TYPE} Got ${describeType(value)} for key ${showKey(key)}; nothing was written.`);
}

// A state error as the map makes them, for the checks that the traps make first.
function stateError(text, code, m, key) {
  return new MmapObjError(text, key === undefined || typeof key === 'symbol' ? { code, path: m.path } : { code, path: m.path, key });
}

function methodError(verb, key) {
  return argValueError(
    `Cannot ${verb} ${showKey(key)}: it is a method of this object. Use SharedMap for a key with ` +
      'a method name.'
  );
}

// mmap-object's texts for deleting a symbol property (writing one says TEXT.SYMBOL) and for a
// value of another type.
const SYMBOL_DELETE = 'Symbol properties are not supported for delete.';
const VALUE_TYPE = 'Value must be a string, buffer, or number.';

const handler = {
  get(target, key, receiver) {
    if (typeof key === 'string') {
      const meth = METHODS[key];
      if (meth !== undefined) return meth;
      const m = target[kMap];
      let v;
      try {
        v = m.get(key);
      } catch (e) {
        // After close, keep Object.prototype members reachable (String(obj), inspection...).
        if (m.closed && key in FALLBACK) return Reflect.get(target, key, receiver);
        throw e;
      }
      if (v !== undefined) return v;
      if (key in FALLBACK) return Reflect.get(target, key, receiver);
      return undefined;
    }
    return Reflect.get(target, key, receiver);
  },

  set(target, key, value) {
    const m = target[kMap];
    // mmap-object's order of checks: read-only, closed, symbol, then the value.
    if (!m.writable) throw stateError(TEXT.READONLY, 'MMAPOBJ_E_READONLY', m, key);
    if (m.closed) throw stateError(TEXT.WRITE_CLOSED, 'MMAPOBJ_E_CLOSED', m);
    if (typeof key === 'symbol') throw argTypeError(TEXT.SYMBOL);
    if (key in METHODS) throw methodError('overwrite', key);
    const t = typeof value;
    if (t !== 'string' && t !== 'number') value = storableObject(m, key, value);
    m.set(key, value);
    return true;
  },

  has(target, key) {
    if (typeof key === 'symbol') return key === kMap ? false : Reflect.has(target, key);
    if (key in METHODS) return true;
    return target[kMap].has(key) || key in FALLBACK;
  },

  deleteProperty(target, key) {
    if (typeof key === 'symbol') throw argTypeError(SYMBOL_DELETE);
    // As in mmap-object, deleting a method deletes nothing and gives false (which strict-mode code
    // sees as a TypeError, as for any property that cannot be deleted).
    if (key in METHODS) return false;
    const m = target[kMap];
    // Then mmap-object's order: read-only, closed.
    if (!m.writable) throw stateError(TEXT.DELETE_READONLY, 'MMAPOBJ_E_READONLY', m, key);
    m.delete(key);
    return true;
  },

  ownKeys(target) {
    return ownKeysOf(target);
  },

  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'symbol') return undefined;
    if (key in METHODS) return undefined;
    const m = target[kMap];
    const s = snapshot;
    let value;
    if (s !== null && s.target === target && s.keys[s.i] === key && s.writes === writes.count) {
      const i = s.i++;
      value = i < s.values.length ? s.values[i] : m.get(key);
      if (value === undefined) return undefined;
    } else {
      value = m.get(key);
      if (value === undefined) return undefined;
    }
    return { value, writable: m.writable, enumerable: true, configurable: true };
  },

  defineProperty(target, key, desc) {
    if (typeof key === 'symbol') throw argTypeError(TEXT.SYMBOL);
    if (key in METHODS) throw methodError('redefine', key);
    if ('get' in desc || 'set' in desc) {
      throw argValueError(`Cannot define accessor ${showKey(key)}: only data values can be stored`);
    }
    if (desc.configurable === false || desc.enumerable === false || desc.writable === false) {
      throw argValueError(
        `Cannot define ${showKey(key)} as non-configurable, non-enumerable or non-writable: ` +
          'stored properties are always enumerable and configurable'
      );
    }
    if (!('value' in desc)) {
      throw argValueError(`Cannot define ${showKey(key)} without a value`);
    }
    const m = target[kMap];
    const v = desc.value;
    m.set(key, typeof v === 'string' || typeof v === 'number' ? v : storableObject(m, key, v));
    return true;
  },

  preventExtensions() {
    throw typeError('ERR_OPERATION_FAILED', 'A shared object cannot be made non-extensible (Object.freeze/seal/preventExtensions)');
  },

  setPrototypeOf() {
    throw typeError('ERR_OPERATION_FAILED', 'Cannot change the prototype of a shared object');
  },
};

function wrap(map, proto) {
  const target = Object.create(proto);
  Object.defineProperty(target, kMap, { value: map, writable: false, enumerable: false, configurable: true });
  return new Proxy(target, handler);
}

/** A Create object over a new writer of `path` with byte sizes {fileSize, buckets, maxFileSize}. */
function createObject(path, opts) {
  return wrap(SharedMap.create(path, opts), Create.prototype);
}

/**
 * new Create(path, [file_size], [initial_bucket_count], [max_file_size])   (sizes in bytes)
 * new Create(path, {fileSize, buckets, maxFileSize})
 * Opens `path` for writing (creating it if needed; an existing file keeps its data).
 * require('mmapobj/mmap-object') has the same class with mmap-object's kilobytes.
 */
function Create(path, ...sizes) {
  if (!new.target) throw typeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Create must be called as a constructor.');
  const args = [path, ...sizes];
  while (args.length > 1 && args[args.length - 1] === undefined) args.pop();
  path = pathArg(path, 'Create');
  return createObject(path, createOptions(args));
}

/** new Open(path): opens an existing file read-only. Failures have mmap-object's texts. */
function Open(path) {
  if (!new.target) throw typeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Open must be called as a constructor.');
  path = pathArg(path, 'Open');
  let map;
  try {
    map = SharedMap.open(path);
  } catch (e) {
    throw openError(e, path);
  }
  return wrap(map, Open.prototype);
}

const CORRUPT_CODES = new Set([
  'MMAPOBJ_E_BADMAGIC',
  'MMAPOBJ_E_MAJOR',
  'MMAPOBJ_E_MINOR',
  'MMAPOBJ_E_TOOSMALL',
  'MMAPOBJ_E_CORRUPT',
  'MMAPOBJ_E_LAYOUT',
]);

/**
 * Gives a failure of Open mmap-object's text, keeping everything else of the error (its code,
 * errno, syscall, path, and the library's own text in `detail`): "<path> does not exist.",
 * "<path> is not a regular file.", "<path> is an empty file.", "File <path> appears to be corrupt
 * (<what the check found>).".
 */
function openError(e, path) {
  const name = e instanceof MmapObjError ? e.codeName : undefined;
  let text;
  if (name === 'MMAPOBJ_E_NOENT') text = `${path} does not exist.`;
  else if (name === 'MMAPOBJ_E_NOTREG') text = `${path} is not a regular file.`;
  else if (name === 'MMAPOBJ_E_TOOSMALL' && sizeOf(path) === 0) text = `${path} is an empty file.`;
  else if (CORRUPT_CODES.has(name)) text = `File ${path} appears to be corrupt (${reasonOf(e, path)}).`;
  else return e;
  const old = e.message;
  e.message = text;
  if (typeof e.stack === 'string' && e.stack.includes(old)) e.stack = e.stack.replace(old, text);
  return e;
}

function sizeOf(path) {
  try {
    return fs.statSync(path).size;
  } catch (_) {
    return -1;
  }
}

// The library's text without its "mmapobj: '<path>': " prefix (the message names the path already).
function reasonOf(e, path) {
  const detail = typeof e.detail === 'string' && e.detail ? e.detail : e.message;
  const prefix = `mmapobj: '${path}': `;
  return detail.startsWith(prefix) ? detail.slice(prefix.length) : detail;
}

defineMethods(Create.prototype);
defineMethods(Open.prototype);

/** The SharedMap under a Create/Open object (for speed, or for keys named like a method). */
function mapOfObject(obj) {
  return mapOf(obj, 'mapOf');
}

module.exports = { Create, Open, METHOD_NAMES, mapOf: mapOfObject, createObject };
