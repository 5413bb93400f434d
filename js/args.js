'use strict';
// Argument checks of the package: paths, Create's sizes and options, and the TypeErrors for keys and
// values that the map refuses. Nothing here touches the library.

const { showKey, argTypeError, argValueError, rangeError } = require('./errors');

const OPTION_NAMES = ['fileSize', 'buckets', 'maxFileSize', 'exclusive'];

/** A short name of v's type for messages: 'string', 'null', 'Buffer', 'object'... */
function describeType(v) {
  if (v === null) return 'null';
  const t = typeof v;
  if (t !== 'object' && t !== 'function') return t;
  if (t === 'function') return 'function';
  const ctor = Object.getPrototypeOf(v) === null ? null : v.constructor;
  return ctor && typeof ctor.name === 'string' && ctor.name ? ctor.name : 'object';
}

// A size or count: a TypeError for anything but a number, a RangeError for a number that is not a
// non-negative safe integer. undefined and null select the default (0).
function sizeArg(name, v) {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number') {
    throw argTypeError(
      `${name} must be a number (bytes or a count; 0 or omitted for the default), got ${describeType(v)}`
    );
  }
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) {
    throw rangeError(
      `${name} must be a non-negative integer (bytes or a count; 0 or omitted for the default), got ${v}`
    );
  }
  return v;
}

/** A path argument (string or file: URL) as a string; TypeErrors for anything else. */
function pathArg(p, what) {
  if (p instanceof URL) {
    if (p.protocol !== 'file:') throw argValueError(`${what}: only file: URLs are supported, got ${p.href}`);
    p = require('url').fileURLToPath(p);
  }
  if (typeof p !== 'string') {
    throw argTypeError(`${what}: path must be a string, got ${describeType(p)}`);
  }
  if (p === '') throw argValueError(`${what}: path must not be empty`);
  if (p.indexOf('\0') !== -1) throw argValueError(`${what}: path must not contain NUL characters`);
  if (!p.isWellFormed()) throw argValueError(`${what}: path is not well-formed UTF-16 (lone surrogate)`);
  return p;
}

function boolArg(name, v) {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw argTypeError(`${name} must be true or false, got ${describeType(v)}`);
  return v;
}

/**
 * Normalises Create's arguments: (path, opts), or (path, fileSize, buckets, maxFileSize) with an
 * optional { exclusive } object after the sizes.
 */
function createOptions(args) {
  const [, a, b, c, d] = args;
  if (a !== null && typeof a === 'object') {
    if (args.length > 2) throw argValueError('Create: pass either an options object or sizes, not both');
    for (const k of Object.keys(a)) {
      if (!OPTION_NAMES.includes(k)) {
        throw argValueError(`Create: unknown option "${k}" (known: ${OPTION_NAMES.join(', ')})`);
      }
    }
    return {
      fileSize: sizeArg('fileSize', a.fileSize),
      buckets: sizeArg('buckets', a.buckets),
      maxFileSize: sizeArg('maxFileSize', a.maxFileSize),
      exclusive: boolArg('exclusive', a.exclusive),
    };
  }
  let exclusive = false;
  if (d !== undefined) {
    if (d === null || typeof d !== 'object') {
      throw argTypeError(
        `Create: after max_file_size only an options object ({ exclusive }) may follow, got ${describeType(d)}`
      );
    }
    for (const k of Object.keys(d)) {
      if (k !== 'exclusive') {
        throw argValueError(
          `Create: unknown option "${k}" after the sizes (only exclusive; the sizes go in their places)`
        );
      }
    }
    exclusive = boolArg('exclusive', d.exclusive);
  }
  return {
    fileSize: sizeArg('file_size', a),
    buckets: sizeArg('initial_bucket_count', b),
    maxFileSize: sizeArg('max_file_size', c),
    exclusive,
  };
}

/** SharedMap.create's options argument (an object) as sizes. */
function optionsObject(options) {
  if (options === null || typeof options !== 'object') {
    throw argTypeError(`SharedMap.create: options must be an object, got ${describeType(options)}`);
  }
  return createOptions([undefined, options]);
}

function callbackArg(what, callback) {
  if (callback !== undefined && typeof callback !== 'function') {
    throw argTypeError(`${what}: callback must be a function, got ${describeType(callback)}`);
  }
}

function keyTypeError(key) {
  return argTypeError(`SharedMap keys must be strings or Buffers/Uint8Arrays (bytes), got ${describeType(key)}`);
}

function loneSurrogateError(what, key) {
  return argValueError(
    `${what} ${showKey(key)} is not well-formed UTF-16 (it contains a lone surrogate), so it ` +
      'cannot be stored as UTF-8 exactly; use str.toWellFormed() to replace lone surrogates with U+FFFD'
  );
}

function valueTypeError(key, value) {
  return argTypeError(
    `Cannot store a value of type ${describeType(value)} (key ${showKey(key)}): values must be ` +
      'strings, numbers, Buffers or Uint8Arrays'
  );
}

module.exports = {
  describeType,
  pathArg,
  createOptions,
  optionsObject,
  callbackArg,
  keyTypeError,
  loneSurrogateError,
  valueTypeError,
};
