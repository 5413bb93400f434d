'use strict';
// Errors of the mmapobj package. Failures reported by libmmapobj become MmapObjError with the
// library's code, its symbolic name (from mmapobj_code_name, never a copied number), the file path
// and, where there is one, the key. State errors keep mmap-object's exact texts.

const { fn, codes } = require('./native');

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

class MmapObjError extends Error {
  /**
   * @param {string} message
   * @param {{code?: number, path?: string, key?: string, detail?: string}} [info]
   */
  constructor(message, info = {}) {
    super(message);
    this.name = 'MmapObjError';
    /** Negative libmmapobj code (enum mmapobj_code), or undefined. */
    this.code = info.code;
    /** Symbolic name of the code, e.g. "MMAPOBJ_E_LOCKED". */
    this.codeName = info.code === undefined ? undefined : fn.code_name(info.code);
    /** The file the failing handle or call was about. */
    this.path = info.path;
    /** The key the failing operation was about, if any. */
    this.key = info.key;
    /** libmmapobj's detail text (mmapobj_errmsg) when it had one. */
    this.detail = info.detail;
  }
}

/** A key shown in a message: quoted, escaped and cut to a readable length. */
function showKey(key) {
  if (typeof key !== 'string') return String(key);
  const cut = key.length > 80 ? key.slice(0, 77) + '...' : key;
  return JSON.stringify(cut);
}

/**
 * The MmapObjError for a negative libmmapobj return code.
 * @param {number} rc        return value of a libmmapobj call
 * @param {{handle?: bigint|null, path?: string, key?: string, op?: string}} ctx
 *   handle: the map handle the call was made on (its errmsg is used); without one the calling
 *   thread's last error is used (create/open).
 */
function fromCode(rc, ctx = {}) {
  const detail = fn.errmsg(ctx.handle == null ? null : ctx.handle) || '';
  const info = { code: rc, path: ctx.path, key: ctx.key, detail: detail || undefined };
  if (rc === codes.MMAPOBJ_E_FULL) return new MmapObjError(TEXT.FULL, info);
  if (rc === codes.MMAPOBJ_E_READONLY) return new MmapObjError(TEXT.READONLY, info);
  // libmmapobj's detail already reads "mmapobj: '<path>': <what failed>: <OS error>".
  let msg = detail || `mmapobj: ${ctx.op ? `${ctx.op}: ` : ''}${fn.strerror(rc)}`;
  if (ctx.path && !msg.includes(ctx.path)) msg += ` (file ${ctx.path})`;
  if (ctx.key !== undefined && !detail) msg += ` (key ${showKey(ctx.key)})`;
  return new MmapObjError(msg, info);
}

module.exports = { MmapObjError, fromCode, TEXT, showKey };
