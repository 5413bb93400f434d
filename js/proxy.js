'use strict';
// Create / Open: the mmap-object API as a Proxy over a SharedMap. Only the traps live here; every
// operation routes to map.js. The mmap-object method names are in METHODS below (one table): they
// are non-enumerable, non-writable, non-configurable properties of Create.prototype/Open.prototype,
// and they shadow stored keys of the same name (use SharedMap, or isData(), for such keys).
//
// Property lookup order on a Create/Open object:
//   1. a method name of METHODS            -> the method
//   2. a stored key                        -> its value
//   3. a name of Object.prototype / the class prototype (toString, hasOwnProperty, constructor...)
//                                          -> that property (so obj.hasOwnProperty(k) works)
//   4. otherwise                           -> undefined

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

// The mmap-object methods (plus fileFormatVersion and isData), in one table.
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
  get_free_memory() {
    return mapOf(this, 'get_free_memory').stats().freeBytes;
  },
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
  fileFormatVersion() {
    return mapOf(this, 'fileFormatVersion').fileFormatVersion();
  },
  /** True if `key` is stored data that property access reaches (not a method name). */
  isData(key) {
    const m = mapOf(this, 'isData');
    if (typeof key === 'symbol') return false;
    key = String(key);
    return !(key in METHODS) && m.has(key);
  },
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

function methodError(verb, key) {
  return argValueError(
    `Cannot ${verb} ${showKey(key)}: it is a method of this object. Use SharedMap for a key with ` +
      'a method name.'
  );
}

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
    if (typeof key === 'symbol') throw argTypeError(TEXT.SYMBOL);
    if (key in METHODS) throw methodError('overwrite', key);
    target[kMap].set(key, value);
    return true;
  },

  has(target, key) {
    if (typeof key === 'symbol') return key === kMap ? false : Reflect.has(target, key);
    if (key in METHODS) return true;
    return target[kMap].has(key) || key in FALLBACK;
  },

  deleteProperty(target, key) {
    if (typeof key === 'symbol') throw argTypeError(TEXT.SYMBOL);
    if (key in METHODS) throw methodError('delete', key);
    target[kMap].delete(key);
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
    target[kMap].set(key, desc.value);
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

/**
 * new Create(path, [file_size], [initial_bucket_count], [max_file_size])
 * new Create(path, {fileSize, buckets, maxFileSize})
 * Opens `path` for writing (creating it if needed; an existing file keeps its data).
 */
function Create(path, ...sizes) {
  if (!new.target) throw typeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Create must be called as a constructor.');
  const args = [path, ...sizes];
  while (args.length > 1 && args[args.length - 1] === undefined) args.pop();
  path = pathArg(path, 'Create');
  const opts = createOptions(args);
  return wrap(SharedMap.create(path, opts), Create.prototype);
}

/** new Open(path): opens an existing file read-only. */
function Open(path) {
  if (!new.target) throw typeError('ERR_CONSTRUCT_CALL_REQUIRED', 'Open must be called as a constructor.');
  path = pathArg(path, 'Open');
  return wrap(SharedMap.open(path), Open.prototype);
}

defineMethods(Create.prototype);
defineMethods(Open.prototype);

/** The SharedMap under a Create/Open object (for speed, or for keys named like a method). */
function mapOfObject(obj) {
  return mapOf(obj, 'mapOf');
}

module.exports = { Create, Open, METHOD_NAMES, mapOf: mapOfObject };
