'use strict';
// The iterator of SharedMap (keys/values/entries, and the one-pass drains keysArray/entriesArrays)
// over a C iterator (mmapobj_iter), read in batches with mmapobj_iter_batch.

const { fn, codes, KIND } = require('./native');
const { MmapObjError, fromCode, TEXT } = require('./errors');
const { scratchOf, decode } = require('./scratch');

const E_CLOSED = codes.MMAPOBJ_E_CLOSED;
const E_BUFSMALL = codes.MMAPOBJ_E_BUFSMALL;
const E_RESERVE = codes.MMAPOBJ_E_RESERVE;
const K_NUMBER = KIND.NUMBER;
const K_STRING = KIND.STRING;

// SharedMap's method that reopens the map (when `reopen`) and opens a new C iterator on it, for an
// iteration that can start again; null when it cannot (a closed map, or a writer).
const kRestart = Symbol('mmapobj.restartIteration');
// How many times one iteration reopens before it gives up (each needs a writer that raised the
// file's maximum size again meanwhile).
const RESTARTS = 3;

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

// A new Buffer with its own memory holding len bytes of buf from p.
function copyOut(buf, p, len) {
  const b = Buffer.allocUnsafeSlow(len);
  buf.copy(b, 0, p, p + len);
  return b;
}

function isCode(e, name) {
  return e instanceof MmapObjError && e.codeName === name;
}

function isReserve(e) {
  return isCode(e, 'MMAPOBJ_E_RESERVE');
}

function closeIterators(state) {
  for (const cell of state.iters) {
    cell.interrupted = true;
    closeCell(cell);
  }
  state.iters.clear();
}

class MapIterator {
  // The SharedMap, held only to keep it alive while its iterator is: the map's finalizer would
  // otherwise close the handle under a running iteration (`SharedMap.open(p).keys()` holds no other
  // reference to the map). Dropping both lets both be collected.
  #map;
  #cell;
  #state;
  #path;
  #mode;
  #asBuffer; // keys as Buffers of their bytes
  #keys;
  #vals;
  #i;
  #done;
  // True once a batch was handed out (next() returned from it): the iteration can no longer start
  // again unseen.
  #started;

  constructor(map, it, state, path, mode, asBuffer = false) {
    this.#map = map;
    this.#cell = { it, interrupted: false };
    this.#state = state;
    this.#path = path;
    this.#mode = mode;
    this.#asBuffer = asBuffer;
    this.#keys = [];
    this.#vals = [];
    this.#i = 0;
    this.#done = false;
    this.#started = false;
    state.iters.add(this.#cell);
    iterRegistry.register(this, { cell: this.#cell, state }, this);
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

  // Reads everything that is left into two arrays. Values are read along while the entries read
  // with them fit in valueBudget bytes (see #batch); after the first that does not, keys only.
  // Nothing is handed out before it returns, so it starts again after a reopen.
  _drain(valueBudget) {
    try {
      for (let restarts = 0; ; restarts++) {
        const keys = [];
        const vals = [];
        let withValues = this.#mode !== MODE_KEYS;
        let budget = valueBudget;
        try {
          while (!this.#done) {
            const used = this.#batch(keys, vals, withValues, budget);
            if (withValues) {
              budget -= used;
              if (vals.length < keys.length) withValues = false;
            }
          }
          return { keys, values: vals };
        } catch (e) {
          if (restarts === RESTARTS || !this.#restart(e)) throw e;
        }
      }
    } finally {
      this.#finish();
    }
  }

  #fill() {
    this.#keys = [];
    this.#vals = [];
    this.#i = 0;
    for (let restarts = 0; ; restarts++) {
      try {
        this.#batch(this.#keys, this.#vals, this.#mode !== MODE_KEYS, Infinity);
        if (this.#keys.length > 0) this.#started = true; // next() hands out keys[0] now
        return;
      } catch (e) {
        if (this.#started || restarts === RESTARTS || !this.#restart(e)) {
          // A writer stuck mid-write (E_BUSY) leaves the C iterator where it was: next() tries again.
          if (!isCode(e, 'MMAPOBJ_E_BUSY')) this.#finish();
          throw this.#started && isReserve(e) ? this.#interrupted() : e;
        }
      }
    }
  }

  // After E_RESERVE (the file outgrew the reader's reservation), or when another call of the map
  // reopened it meanwhile, an iteration that handed out nothing yet starts again on the reopened
  // map. True if it did.
  #restart(e) {
    if (!isReserve(e)) return false;
    const it = this.#map[kRestart](!this.#cell.interrupted);
    if (it === null) return false;
    const cell = this.#cell;
    closeCell(cell); // (the reopen closed it already, unless the map had reopened before)
    cell.it = it;
    cell.interrupted = false;
    this.#state.iters.add(cell);
    this.#done = false;
    return true;
  }

  #interrupted() {
    return new MmapObjError(
      'Iteration interrupted: the reader reopened the file (it outgrew the address space ' +
        'reserved for it); start the iteration again',
      { code: E_RESERVE, path: this.#path }
    );
  }

  // Reads one batch into keys (and vals). With values, the library copies only entries that fit in
  // the capacity it is given, which is at most `budget` bytes: no value past the budget is read.
  // When the next entry does not fit in the budget the batch is read without values (and vals is
  // left shorter than keys). Returns the bytes the entries read with values took.
  #batch(keys, vals, withValues, budget) {
    const cell = this.#cell;
    if (cell.it === null) {
      if (this.#state.h === null) {
        throw new MmapObjError(TEXT.READ_CLOSED, { code: E_CLOSED, path: this.#path });
      }
      if (cell.interrupted) throw this.#interrupted();
      this.#done = true;
      return 0;
    }
    const need = [0];
    let buf = scratchOf(0);
    let n;
    for (;;) {
      const cap = withValues && budget < buf.length ? budget : buf.length;
      n = fn.iter_batch(cell.it, buf, cap, withValues ? 1 : 0, need);
      if (n !== E_BUFSMALL) break;
      const size = Number(need[0]);
      if (withValues && size > budget) withValues = false;
      else buf = scratchOf(size);
    }
    if (n < 0) throw fromCode(n, { handle: this.#state.h, path: this.#path, op: 'iterate' });
    if (n === 0) {
      this.#finish();
      return 0;
    }
    const asBuffer = this.#asBuffer;
    let p = 0;
    for (let j = 0; j < n; j++) {
      const klen = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
      p += 4;
      keys.push(asBuffer ? copyOut(buf, p, klen) : decode(buf, p, p + klen));
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
      vals.push(kind === K_STRING ? decode(buf, p, p + vlen) : copyOut(buf, p, vlen));
      p += vlen;
    }
    return withValues ? p : 0;
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

// Iterators inherit %IteratorPrototype% (its [Symbol.iterator] returns this; on Node 22 and later
// it also brings the iterator helpers: map, filter, take, toArray...).
Object.setPrototypeOf(MapIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));

module.exports = { MapIterator, closeIterators, kRestart, MODE_KEYS, MODE_VALUES, MODE_ENTRIES };
