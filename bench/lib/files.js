'use strict';
// Child process: builds one file per system with n keys and 16-byte string
// values (kept for the sharing phase), then measures file bytes per key, the
// time to open an existing file (warm page cache), and full iteration
// (Object.keys and for..of) per key. Systems are interleaved round-robin.

const path = require('path');
const C = require('./common');

const val = (i) => 'val:' + (100000000000 + i);

async function run(a) {
  const { n, rounds, opensPerRound, dir } = a;
  const errors = [];
  const systems = {};
  const perm = C.permutation(n, 0x2545f491); // all systems insert in the same random order
  const timeMs = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Math.round(Number(process.hrtime.bigint() - t0) / 1e6); };

  const mo = C.loadMmapobj();
  if (mo.mod) {
    try {
      const file = path.join(dir, 'files-mmapobj.mmo');
      C.rmrf(file);
      const ms = timeMs(() => { const o = new mo.mod.Create(file); for (let j = 0; j < n; j++) { const i = perm[j]; o[C.key(i)] = val(i); } o.close(); });
      systems.mmapobj = { file, buildMs: ms };
    } catch (e) { errors.push(`mmapobj build: ${e.message}`); }
  } else errors.push(mo.error);

  const lm = C.loadLmdb();
  if (lm.mod) {
    try {
      const file = path.join(dir, 'files-lmdb');
      C.rmrf(file);
      const t0 = process.hrtime.bigint();
      const db = lm.mod.open({ path: file, compression: false, encoding: 'string' });
      db.transactionSync(() => { for (let j = 0; j < n; j++) { const i = perm[j]; db.putSync(C.key(i), val(i)); } });
      await db.close();
      const ms = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
      systems.lmdb = { file, dataFile: path.join(file, 'data.mdb'), buildMs: ms };
    } catch (e) { errors.push(`lmdb build: ${e.message}`); }
  } else errors.push(lm.error);

  const mm = C.loadMmapObject();
  if (mm.mod) {
    try {
      const file = path.join(dir, 'files-mmap-object');
      C.rmrf(file);
      const ms = timeMs(() => { const o = new mm.mod.Create(file, n * 220 + 16 * 1024 * 1024, n); for (let j = 0; j < n; j++) { const i = perm[j]; o[C.key(i)] = val(i); } o.close(); });
      systems['mmap-object'] = { file, buildMs: ms };
    } catch (e) { errors.push(`mmap-object build: ${e.message}`); }
  } else errors.push(mm.error);

  // ---- file bytes per key ----------------------------------------------------
  const size = {};
  for (const [name, s] of Object.entries(systems)) {
    const b = C.fileBytes(s.file);
    size[name] = { bytes: b.size, allocated: b.allocated, perKey: C.round(b.size / n, 2), allocatedPerKey: C.round(b.allocated / n, 2), buildMs: s.buildMs };
  }
  if (systems['mmap-object']) {
    // mmap-object keeps free space inside the file after close; report its used bytes too.
    try {
      const o = new mm.mod.Open(systems['mmap-object'].file);
      const used = o.get_size() - o.get_free_memory();
      size['mmap-object'].usedPerKey = C.round(used / n, 2);
      o.close();
    } catch (e) { errors.push(`mmap-object stats: ${e.message}`); }
  }

  // ---- open time -------------------------------------------------------------
  const openers = [];
  if (systems.mmapobj) {
    openers.push({ id: 'mmapobj.Open', label: 'mmapobj new Open(path)', open: () => new mo.mod.Open(systems.mmapobj.file), close: (o) => o.close(), check: (o) => o[C.key(7)] === val(7) });
    if (mo.mod.SharedMap) openers.push({ id: 'mmapobj.SharedMap.open', label: 'mmapobj SharedMap.open(path)', open: () => mo.mod.SharedMap.open(systems.mmapobj.file), close: (o) => o.close(), check: (o) => o.get(C.key(7)) === val(7) });
  }
  if (systems.lmdb) openers.push({ id: 'lmdb.open', label: 'lmdb-js open({path, readOnly})', open: () => lm.mod.open({ path: systems.lmdb.file, readOnly: true, encoding: 'string', compression: false }), close: (o) => o.close(), check: (o) => o.getString(C.key(7)) === val(7) });
  if (systems['mmap-object']) openers.push({ id: 'mmap-object.Open', label: 'mmap-object 1.5 new Open(path)', open: () => new mm.mod.Open(systems['mmap-object'].file), close: (o) => o.close(), check: (o) => o[C.key(7)] === val(7) });

  const openTimes = new Map(openers.map((o) => [o, []]));
  for (const op of openers) { // warm-up, and a check that the file opens to the right data
    const h = op.open();
    if (!op.check(h)) errors.push(`${op.label}: wrong value after open`);
    await op.close(h);
  }
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < openers.length; j++) {
      const op = openers[(j + round) % openers.length];
      for (let k = 0; k < opensPerRound; k++) {
        const t0 = process.hrtime.bigint();
        const h = op.open();
        const t1 = process.hrtime.bigint();
        openTimes.get(op).push(Number(t1 - t0) / 1000);
        await op.close(h);
      }
    }
  }
  const open = openers.map((op) => { const s = C.summary(openTimes.get(op)); return { id: op.id, label: op.label, medianUs: C.round(s.median, 1), minUs: C.round(s.min, 1), maxUs: C.round(s.max, 1), count: s.n }; });
  C.log(`  open: ${open.map((o) => `${o.id} ${o.medianUs} us`).join(', ')}`);

  // ---- iteration -------------------------------------------------------------
  const its = [];
  const handles = [];
  if (systems.mmapobj) {
    const o = new mo.mod.Open(systems.mmapobj.file); handles.push(() => o.close());
    its.push({ id: 'mmapobj.keys', label: 'mmapobj Open Object.keys(obj)', kind: 'keys', fn: () => Object.keys(o).length });
    its.push({ id: 'mmapobj.forof', label: 'mmapobj Open for (const [k, v] of obj)', kind: 'entries', fn: () => { let c = 0; for (const [k, v] of o) { if (k && v) c++; } return c; } });
    if (mo.mod.SharedMap) {
      const m = mo.mod.SharedMap.open(systems.mmapobj.file); handles.push(() => m.close());
      its.push({ id: 'mmapobj.map.keys', label: 'mmapobj SharedMap keys()', kind: 'keys', fn: () => { let c = 0; for (const k of m.keys()) { if (k) c++; } return c; } });
      its.push({ id: 'mmapobj.map.entries', label: 'mmapobj SharedMap entries()', kind: 'entries', fn: () => { let c = 0; for (const [k, v] of m.entries()) { if (k && v) c++; } return c; } });
    }
  }
  if (systems.lmdb) {
    const db = lm.mod.open({ path: systems.lmdb.file, readOnly: true, encoding: 'string', compression: false }); handles.push(() => db.close());
    its.push({ id: 'lmdb.getKeys', label: 'lmdb-js getKeys()', kind: 'keys', fn: () => { let c = 0; for (const k of db.getKeys()) { if (k) c++; } return c; } });
    its.push({ id: 'lmdb.getRange', label: 'lmdb-js getRange()', kind: 'entries', fn: () => { let c = 0; for (const { key, value } of db.getRange()) { if (key && value) c++; } return c; } });
  }
  if (systems['mmap-object']) {
    const o = new mm.mod.Open(systems['mmap-object'].file); handles.push(() => o.close());
    its.push({ id: 'mmap-object.keys', label: 'mmap-object 1.5 Object.keys(obj)', kind: 'keys', fn: () => Object.keys(o).length });
    its.push({ id: 'mmap-object.forof', label: 'mmap-object 1.5 for (const [k, v] of obj)', kind: 'entries', fn: () => { let c = 0; for (const [k, v] of o) { if (k && v) c++; } return c; } });
  }
  const map = new Map(); for (let i = 0; i < n; i++) map.set(C.key(i), val(i));
  its.push({ id: 'floor.map.keys', label: 'JS Map keys()', kind: 'keys', fn: () => { let c = 0; for (const k of map.keys()) { if (k) c++; } return c; } });
  its.push({ id: 'floor.map.forof', label: 'JS Map for..of', kind: 'entries', fn: () => { let c = 0; for (const [k, v] of map) { if (k && v) c++; } return c; } });

  const itTimes = new Map(its.map((x) => [x, []]));
  const itErr = new Map();
  for (let round = 0; round < rounds; round++) {
    C.gc();
    for (let j = 0; j < its.length; j++) {
      const it = its[(j + round) % its.length];
      if (itErr.has(it)) continue;
      // one pass that took more than 1.5 s is measurement enough (keeps the run short)
      if (itTimes.get(it).length > 0 && itTimes.get(it)[0] * n > 1.5e9) continue;
      try {
        const t0 = process.hrtime.bigint();
        const c = it.fn();
        const ns = Number(process.hrtime.bigint() - t0);
        if (c !== n) itErr.set(it, `produced ${c} keys, want ${n}`);
        itTimes.get(it).push(ns / n);
      } catch (e) { itErr.set(it, e.message); }
    }
  }
  const iterate = its.map((it) => {
    const xs = itTimes.get(it);
    const s = xs.length ? C.summary(xs) : { median: NaN, min: NaN, max: NaN };
    return { id: it.id, label: it.label, kind: it.kind, nsPerKey: C.round(s.median), min: C.round(s.min), max: C.round(s.max), error: itErr.get(it) || null };
  });
  for (const h of handles) { try { await h(); } catch (e) { errors.push(`close: ${e.message}`); } }

  const filesOut = {};
  for (const [name, s] of Object.entries(systems)) filesOut[name] = { path: s.file, dataFile: s.dataFile || s.file };
  return { n, rounds, size, open, iterate, files: filesOut, errors };
}

C.childMain(run);
