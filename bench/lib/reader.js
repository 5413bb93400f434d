'use strict';
// One reader process of the sharing test (started pinned to a CPU by run.js).
// Opens the file, prints "ready", waits for "go" on stdin, then does random
// gets with fresh key strings for durationMs and prints one JSON line:
// { ops, getNs } (time spent inside the lookup loops only; key strings are
// built between timed chunks).

const C = require('./common');

const a = JSON.parse(process.argv[2]);
const { system, file, n, durationMs, seed } = a;
const CHUNK = 20000;

let get, close;
if (system === 'mmapobj') {
  const mo = require(C.ROOT_DIR);
  const o = new mo.Open(file);
  get = C.makeLookupLoop('const o = C.o;', 'o[k]').bind(null, { o });
  close = () => o.close();
} else if (system === 'lmdb') {
  const lm = C.loadLmdb().mod;
  const db = lm.open({ path: file, readOnly: true, encoding: 'string', compression: false });
  get = C.makeLookupLoop('const d = C.d;', 'd.getString(k)').bind(null, { d: db });
  close = () => db.close();
} else if (system === 'mmap-object') {
  const mm = C.loadMmapObject().mod;
  const o = new mm.Open(file);
  get = C.makeLookupLoop('const o = C.o;', 'o[k]').bind(null, { o });
  close = () => o.close();
} else throw new Error(`unknown system ${system}`);

const perm = C.permutation(n, seed);
// warm up the code (not the data: every reader starts from the same page cache)
get(C.freshKeys(perm, 0, 2000, 0), null, 64);

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  let ops = 0, getNs = 0, found = 0, off = 2000;
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const keys = C.freshKeys(perm, off, CHUNK, 0);
    off += CHUNK;
    const r = get(keys, null, 64);
    ops += CHUNK; getNs += r.ns; found += r.found;
  }
  process.stdout.write(JSON.stringify({ ops, getNs, found, pid: process.pid }) + '\n');
  Promise.resolve(close()).then(() => process.exit(found === ops ? 0 : 3));
});
