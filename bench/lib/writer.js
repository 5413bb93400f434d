'use strict';
// One writer process of the writers phase (run.js starts K of them, each pinned to a CPU). It
// opens the file of every system as a writer (mmapobj: SharedMap.create, shared with the other
// writer processes; lmdb-js: open() with noSync, each putSync its own write transaction), makes
// sure its own keys exist (untimed), prints "ready", and on "go <epochMs>" runs the common
// time-sliced schedule of reader.js: slot s (windowMs long) overwrites this process's keys, in
// random order with new 16-byte values, on system s % systems.length. Every writer process has
// its own keys ("w<id>:" + digits): K writers on disjoint keys. Prints one JSON line per system:
// ops, and the wall time and CPU time spent inside the write loops.

const C = require('./common');

const a = JSON.parse(process.argv[2]);
const { systems, id, keys, windowMs, slots, seed } = a;
const CHUNK = 1000;

const key = (i) => `w${id}:${1000000 + i}`;
let counter = 0;
const value = () => 'val:' + (100000000000 + (counter++ % 899999999999));

function loop(setExpr) {
  // eslint-disable-next-line no-new-func
  return new Function('S', 'keys', 'vals', `${setExpr.pre}
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < keys.length; i++) { ${setExpr.set}; }
    return Number(process.hrtime.bigint() - t0);`);
}

const handles = [];
for (const s of systems) {
  let h;
  if (s.system === 'mmapobj') {
    const { SharedMap } = require(C.ROOT_DIR);
    const m = SharedMap.create(s.file);
    for (let i = 0; i < keys; i++) if (!m.has(key(i))) m.set(key(i), value());
    h = { S: { m }, run: loop({ pre: 'const m = S.m;', set: 'm.set(keys[i], vals[i])' }), get: (k) => m.get(k), close: () => m.close() };
  } else if (s.system === 'lmdb') {
    const root = C.loadLmdb().mod.open({ path: s.file, noSync: true, compression: false });
    const d = root.openDB('w', { encoding: 'string' });
    root.transactionSync(() => {
      for (let i = 0; i < keys; i++) if (d.get(key(i)) === undefined) d.putSync(key(i), value());
    });
    h = { S: { d }, run: loop({ pre: 'const d = S.d;', set: 'd.putSync(keys[i], vals[i])' }), get: (k) => d.get(k), close: () => root.close() };
  } else {
    throw new Error(`unknown system ${s.system}`);
  }
  handles.push({ name: s.system, ...h, ops: 0, ns: 0, cpuUs: 0, last: null });
}

// Every chunk gets fresh key strings and values, built by concatenation just before it (as the
// keys of the other phases): an application's work between writes, done outside the lock (the
// aggregate rate counts it: all of a slot's wall time), and keys V8 has not internalised.
const perm = C.permutation(keys, seed);
let off = 0;
function nextKeys() {
  const out = new Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) {
    out[i] = key(perm[off]);
    if (++off === keys) off = 0;
  }
  return out;
}
const values = () => Array.from({ length: CHUNK }, value);
for (const h of handles) h.run(h.S, nextKeys(), values()); // warm the code

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
      const ks = nextKeys();
      const vs = values();
      const cpu0 = process.cpuUsage();
      const ns = h.run(h.S, ks, vs);
      const cpu = process.cpuUsage(cpu0);
      h.ops += CHUNK;
      h.ns += ns;
      h.cpuUs += cpu.user + cpu.system;
      h.last = [ks, vs];
    }
  }
  // the values this process wrote last are there (the other writers wrote other keys)
  let bad = 0;
  for (const h of handles) if (h.last) h.last[0].forEach((k, i) => { if (h.get(k) !== h.last[1][i]) bad++; });
  const out = handles.map((h) => ({ system: h.name, ops: h.ops, ns: h.ns, cpuUs: h.cpuUs }));
  process.stdout.write(JSON.stringify({ pid: process.pid, id, bad, results: out }) + '\n');
  for (const h of handles) h.close();
  process.exit(bad ? 3 : 0);
});
