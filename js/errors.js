'use strict';
// Errors of the mmapobj package, in Node's shape. Every MmapObjError has
//   code     a string: the OS name ('ENOENT', 'EACCES', 'ENOSPC', 'ENOMEM') where the library's code
//            stands for exactly that OS error, else the library's name ('MMAPOBJ_E_LOCKED'), or one
//            of the package's own ('MMAPOBJ_E_LOAD', 'MMAPOBJ_E_ABI': the library could not be used)
//   errno    a negative number: -errno of the OS for the OS names (as Node's fs errors:
//            util.getSystemErrorName(e.errno) === e.code), else the library's code (enum
//            mmapobj_code); undefined for the package's own codes, which have no number
//   codeName the library's name of the code ('MMAPOBJ_E_NOENT' where code is 'ENOENT')
//   syscall  the libmmapobj function that failed, path the file, key the key, detail the library's
//            own text — each only where known.
// Argument errors are TypeErrors and RangeErrors with Node's codes (ERR_INVALID_ARG_TYPE...).
// State errors keep mmap-object's exact texts.
//
// This module does not load the library: native.js's load errors are made here too. Numbers are
// turned into names through native.js's table, required when the first such error is made (by
// then the library is loaded).

const os = require('os');
const { types } = require('util');

/** The texts mmap-object used, kept byte for byte so that code matching them keeps working. */
const TEXT = Object.freeze({
  READONLY: 'Read-only object.',
  READ_CLOSED: 'Cannot read from closed object.',
  WRITE_CLOSED: 'Cannot write to closed object.',
  DELETE_CLOSED: 'Cannot delete from closed object.',
  DELETE_READONLY: 'Cannot delete from read-only object.',
  SYMBOL: 'Symbol properties are not supported.',
  FULL: 'File grew too large.',
  CLOSE_CLOSED: 'Attempted to close a closed object.',
});

// Library codes that mean one OS error: their `code` is the OS name. The library maps a few other
// errno values onto them too (ENOTDIR -> E_NOENT, EPERM and EROFS -> E_ACCESS, EFBIG and EDQUOT ->
// E_NOSPC); the OS name is then the usual one of the group. E_NOTREG (EISDIR, ENXIO, ENODEV, or a
// FIFO/device that opened fine), E_IO (any other OS failure) and E_LOCKED (the writer lock is
// taken) keep the library's names.
const OS_NAME = Object.freeze({
  MMAPOBJ_E_NOENT: 'ENOENT',
  MMAPOBJ_E_ACCESS: 'EACCES',
  MMAPOBJ_E_NOSPC: 'ENOSPC',
  MMAPOBJ_E_NOMEM: 'ENOMEM',
});

/** Codes of the package itself (no library number): loading the library failed. */
const PACKAGE_CODES = Object.freeze(['MMAPOBJ_E_LOAD', 'MMAPOBJ_E_ABI']);

let native = null;
function lib() {
  if (native === null) native = require('./native');
  return native;
}

let names = null; // library code number -> name
function nameOf(rc) {
  if (names === null) {
    names = new Map();
    for (const [name, value] of Object.entries(lib().codes)) names.set(value, name);
  }
  return names.get(rc) || 'MMAPOBJ_UNKNOWN';
}

class MmapObjError extends Error {
  /**
   * @param {string} message
   * @param {{code?: number|string, path?: string, key?: string, detail?: string, syscall?: string}} [info]
   *   code: the library's code (a number from a libmmapobj call) or a name ('MMAPOBJ_E_CLOSED').
   */
  constructor(message, info = {}) {
    super(message);
    const rc = info.code;
    const name = typeof rc === 'number' ? nameOf(rc) : rc || 'MMAPOBJ_UNKNOWN';
    const osName = OS_NAME[name];
    /** 'ENOENT' / 'EACCES' / 'ENOSPC' / 'ENOMEM', or the library's or package's name of the code. */
    this.code = osName || name;
    /** Negative: -errno for the OS names, the library's code otherwise; undefined for package codes. */
    let errno;
    if (osName) errno = -os.constants.errno[osName];
    else if (typeof rc === 'number') errno = rc;
    else if (!PACKAGE_CODES.includes(name)) errno = lib().codes[name];
    if (errno !== undefined) this.errno = errno;
    /** The library's name of the code, e.g. "MMAPOBJ_E_NOENT" (the key of `codes`). */
    this.codeName = name;
    if (info.syscall !== undefined) this.syscall = info.syscall;
    if (info.path !== undefined) this.path = info.path;
    if (info.key !== undefined) this.key = info.key;
    if (info.detail !== undefined) this.detail = info.detail;
  }
}

Object.defineProperty(MmapObjError.prototype, 'name', {
  value: 'MmapObjError',
  writable: true,
  enumerable: false,
  configurable: true,
});

/** A key shown in a message: quoted, escaped and cut to a readable length; bytes in hex. */
function showKey(key) {
  if (types.isUint8Array(key)) {
    const hex = Buffer.from(key.buffer, key.byteOffset, Math.min(key.byteLength, 32)).toString('hex');
    return `<bytes ${hex}${key.byteLength > 32 ? '...' : ''}>`;
  }
  if (typeof key !== 'string') return String(key);
  const cut = key.length > 80 ? key.slice(0, 77) + '...' : key;
  return JSON.stringify(cut);
}

// The libmmapobj function behind each operation of map.js (an error's `syscall`).
const SYSCALL = {
  create: 'mmapobj_create_ex',
  open: 'mmapobj_open',
  reopen: 'mmapobj_open',
  close: 'mmapobj_close',
  get: 'mmapobj_get',
  has: 'mmapobj_has',
  set: 'mmapobj_set',
  delete: 'mmapobj_delete',
  size: 'mmapobj_count',
  stats: 'mmapobj_stat',
  flush: 'mmapobj_flush',
  verify: 'mmapobj_verify',
  iter_open: 'mmapobj_iter_open',
  iterate: 'mmapobj_iter_batch',
  transaction: 'mmapobj_lock',
};

/**
 * The error for a negative libmmapobj return code.
 * @param {number} rc        return value of a libmmapobj call
 * @param {{handle?: bigint|null, path?: string, key?: string, op?: string}} ctx
 *   handle: the map handle the call was made on (its errmsg is used); without one the calling
 *   thread's last error is used (create/open). op: what was done (a key of SYSCALL).
 * An E_INVAL from create (a size the library refuses) is a RangeError, as bad sizes from JS are.
 */
function fromCode(rc, ctx = {}) {
  const { fn, codes } = lib();
  const detail = fn.errmsg(ctx.handle == null ? null : ctx.handle) || '';
  const info = {
    code: rc,
    path: ctx.path,
    key: ctx.key,
    detail: detail || undefined,
    syscall: SYSCALL[ctx.op],
  };
  if (rc === codes.MMAPOBJ_E_FULL) return new MmapObjError(TEXT.FULL, info);
  if (rc === codes.MMAPOBJ_E_READONLY) return new MmapObjError(TEXT.READONLY, info);
  // libmmapobj's detail already reads "mmapobj: '<path>': <what failed>: <OS error>".
  let msg = detail || `mmapobj: ${ctx.op ? `${ctx.op}: ` : ''}${fn.strerror(rc)}`;
  if (ctx.path && !msg.includes(ctx.path)) msg += ` (file ${ctx.path})`;
  if (ctx.key !== undefined && !detail) msg += ` (key ${showKey(ctx.key)})`;
  if (rc === codes.MMAPOBJ_E_INVAL && ctx.op === 'create') {
    const e = rangeError(msg);
    e.path = ctx.path;
    return e;
  }
  return new MmapObjError(msg, info);
}

/** An error of the package itself (code 'MMAPOBJ_E_LOAD' or 'MMAPOBJ_E_ABI'): no library number. */
function packageError(code, message, path) {
  return new MmapObjError(message, { code, path });
}

function withCode(e, code) {
  e.code = code;
  return e;
}

/** TypeError 'ERR_INVALID_ARG_TYPE': an argument of the wrong type. */
const argTypeError = (message) => withCode(new TypeError(message), 'ERR_INVALID_ARG_TYPE');
/** TypeError 'ERR_INVALID_ARG_VALUE': an argument of the right type with a value that is refused. */
const argValueError = (message) => withCode(new TypeError(message), 'ERR_INVALID_ARG_VALUE');
/** RangeError 'ERR_OUT_OF_RANGE': a number outside what is accepted. */
const rangeError = (message) => withCode(new RangeError(message), 'ERR_OUT_OF_RANGE');
/** A TypeError with another of Node's codes (ERR_INVALID_THIS, ERR_ILLEGAL_CONSTRUCTOR...). */
const typeError = (code, message) => withCode(new TypeError(message), code);

/**
 * The public `codes`: for every library error code and package code, by its name, the string that
 * an error's `code` has for it (codes.MMAPOBJ_E_LOCKED === 'MMAPOBJ_E_LOCKED',
 * codes.MMAPOBJ_E_NOENT === 'ENOENT').
 */
function publicCodes() {
  const out = {};
  for (const name of Object.keys(lib().codes)) {
    if (name.startsWith('MMAPOBJ_E_')) out[name] = OS_NAME[name] || name;
  }
  for (const name of PACKAGE_CODES) out[name] = name;
  return Object.freeze(out);
}

module.exports = {
  MmapObjError,
  fromCode,
  packageError,
  argTypeError,
  argValueError,
  rangeError,
  typeError,
  publicCodes,
  TEXT,
  showKey,
};
