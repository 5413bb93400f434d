'use strict';
// One reader process of the sharing test (run.js starts K of them, each
// pinned to a CPU). It opens the file of every system, prints "ready", and on
// "go <epochMs>" runs a common time-sliced schedule: from epochMs on, slot s
// (windowMs long) does random gets with fresh key strings on system
// s % systems.length. All readers switch systems at the same instants, so
// every system sees the same machine noise. Prints one JSON line per system:
// ops, and the wall time and CPU time (process.cpuUsage) spent inside the
// lookup loops (key strings are built between timed chunks). CPU time shows
// when other processes took the CPU away from a reader.

const C = require('./common');

const a = JSON.parse(process.argv[2]);
const { systems, n, windowMs, slots, seed } = a;
const CHUNK = 10000;

const handles = [];
for (const s of systems) {
  let get, close;
  if (s.system === 'mmapobj') {
    const mo = require(C.ROOT_DIR);
    const o = new mo.Open(s.file);
    get = C.makeLookupLoop('const o = C.o;', 'o[k]').bind(null, { o });
    close = () => o.close();
  } else if (s.system === 'lmdb') {
    const db = C.loadLmdb().mod.open({ path: s.file, readOnly: true, encoding: 'string', compression: false });
    get = C.makeLookupLoop('const d = C.d;', 'd.getString(k)').bind(null, { d: db });
    close = () => db.close();
  } else if (s.system === 'mmap-object') {
    const o = new (C.loadMmapObject().mod.Open)(s.file);
    get = C.makeLookupLoop('const o = C.o;', 'o[k]').bind(null, { o });
    close = () => o.close();
  } else throw new Error(`unknown system ${s.system}`);
  handles.push({ name: s.system, get, close, ops: 0, getNs: 0, cpuUs: 0, found: 0 });
}

const perm = C.permutation(n, seed);
let off = 0;
for (const h of handles) { h.get(C.freshKeys(perm, off, 2000, 0), null, 64); off += 2000; } // warm the code

process.stdout.write('ready\n');
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  const m = /^go (\d+)\n/.exec(buf);
  if (!m) return;
  process.stdin.pause();
  const start = Number(m[1]);
  while (Date.now() < start) { /* spin to the common start */ }
  for (let s = 0; s < slots; s++) {
    const h = handles[s % handles.length];
    const end = start + (s + 1) * windowMs;
    while (Date.now() < end) {
      const keys = C.freshKeys(perm, off, CHUNK, 0);
      off += CHUNK;
      const cpu0 = process.cpuUsage();
      const r = h.get(keys, null, 64);
      const cpu = process.cpuUsage(cpu0);
      h.ops += CHUNK; h.getNs += r.ns; h.found += r.found; h.cpuUs += cpu.user + cpu.system;
    }
  }
  const out = handles.map((h) => ({ system: h.name, ops: h.ops, getNs: h.getNs, cpuUs: h.cpuUs, found: h.found }));
  process.stdout.write(JSON.stringify({ pid: process.pid, results: out }) + '\n');
  Promise.all(handles.map((h) => h.close())).then(() => process.exit(out.every((r) => r.found === r.ops) ? 0 : 3));
});
