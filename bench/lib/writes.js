'use strict';
// Child process: write throughput. For each system, in rounds (candidates
// rotated each round): a fresh store, insert n keys in random order, overwrite
// them all (random order, new 16-byte values), delete them all. Each stage is
// one timed batch. mmap-object growing from its default size needs ~25-50 us
// per set: its stages stop after capMs and report the ops they did.

const fs = require('fs');
const path = require('path');
const C = require('./common');

const val1 = (i) => 'val:' + (100000000000 + i);
const val2 = (i) => 'VAL:' + (100000000000 + i);

function candidates(a, errors) {
  const { n, dir } = a;
  const out = [];
  const mo = C.loadMmapobj();
  const presize = { fileSize: 8192 + n * 96 + (1 << 20), buckets: n };
  if (mo.mod) {
    const Mo = mo.mod;
    out.push({
      id: 'mmapobj.create.grow', label: 'mmapobj Create obj[k]=v, default size (grows)', group: 'mmapobj',
      open: (f) => ({ o: new Mo.Create(f) }), close: (c) => c.o.close(),
      pre: 'const o = C.o;', set: 'o[k] = v', del: 'delete o[k]',
    });
    out.push({
      id: 'mmapobj.create.presized', label: 'mmapobj Create obj[k]=v, pre-sized', group: 'mmapobj',
      open: (f) => ({ o: new Mo.Create(f, presize) }), close: (c) => c.o.close(),
      pre: 'const o = C.o;', set: 'o[k] = v', del: 'delete o[k]',
    });
    if (Mo.SharedMap) {
      out.push({
        id: 'mmapobj.sharedmap.grow', label: 'mmapobj SharedMap.set, default size (grows)', group: 'mmapobj',
        open: (f) => ({ m: Mo.SharedMap.create(f) }), close: (c) => c.m.close(),
        pre: 'const m = C.m;', set: 'm.set(k, v)', del: 'm.delete(k)',
      });
    }
  } else errors.push(mo.error);

  out.push({
    id: 'floor.map', label: 'JS Map.set / delete', group: 'floor',
    open: () => ({ m: new Map() }), close: () => {},
    pre: 'const m = C.m;', set: 'm.set(k, v)', del: 'm.delete(k)',
  });

  const lm = C.loadLmdb();
  if (lm.mod) {
    out.push({
      id: 'lmdb.putSync', label: 'lmdb-js putSync in transactionSync', group: 'peer', dirStore: true,
      open: (f) => { const root = lm.mod.open({ path: f, compression: false }); return { root, d: root.openDB('s', { encoding: 'string' }) }; },
      close: (c) => c.root.close(),
      wrap: (c, fn) => c.root.transactionSync(fn),
      pre: 'const d = C.d;', set: 'd.putSync(k, v)', del: 'd.removeSync(k)',
    });
  } else errors.push(lm.error);

  const mm = C.loadMmapObject();
  if (mm.mod) {
    const est = n * 220 + 16 * 1024 * 1024;
    out.push({
      id: 'mmap-object.presized', label: 'mmap-object 1.5 o[k]=v, pre-sized', group: 'peer',
      open: (f) => ({ o: new mm.mod.Create(f, est, n) }), close: (c) => c.o.close(),
      pre: 'const o = C.o;', set: 'o[k] = v', del: 'delete o[k]',
    });
    out.push({
      id: 'mmap-object.grow', label: 'mmap-object 1.5 o[k]=v, default size (grows)', group: 'peer', capped: true,
      open: (f) => ({ o: new mm.mod.Create(f) }), close: (c) => c.o.close(),
      pre: 'const o = C.o;', set: 'o[k] = v', del: 'delete o[k]',
    });
  } else errors.push(mm.error);
  return out;
}

function run(a) {
  const { n, rounds, capMs, dir } = a;
  const errors = [];
  const cands = candidates(a, errors);
  for (const e of errors) C.log(`  note: ${e}`);
  const perm = C.permutation(n, 0x85ebca6b);
  // Only the known-slow candidate stops at capMs; the others always do all n keys
  // (the 60 s bound only guards against a hang).
  const capFor = (c) => (c.capped ? capMs : 60000) * 1e6;
  const stats = new Map(cands.map((c) => [c, { insert: [], overwrite: [], delete: [], done: [], error: null, setLoop: C.makeWriteLoop(c.pre, c.set), delLoop: C.makeWriteLoop(c.pre, c.del) }]));

  for (let round = 0; round < rounds; round++) {
    C.log(`  writes ${n} keys: round ${round + 1}/${rounds}`);
    for (let j = 0; j < cands.length; j++) {
      const c = cands[(j + round) % cands.length];
      const st = stats.get(c);
      if (st.error) continue;
      const f = path.join(dir, `w-${c.id}`);
      C.rmrf(f);
      C.gc();
      let ctx = null;
      try {
        ctx = c.open(f);
        const wrap = c.wrap ? (fn) => c.wrap(ctx, fn) : (fn) => fn();
        // insert (fresh keys, random order)
        let keys = C.freshKeys(perm, 0, n, 0);
        let vals = new Array(n);
        for (let i = 0; i < n; i++) vals[i] = val1(perm[i]);
        const ins = wrap(() => st.setLoop(ctx, keys, vals, capFor(c)));
        const done = ins.done;
        st.insert.push(ins.ns / done);
        st.done.push(done);
        // overwrite the keys inserted, another random order
        const perm2 = C.permutation(done, 0x27d4eb2f + round);
        keys = new Array(done); vals = new Array(done);
        for (let i = 0; i < done; i++) { const x = perm[perm2[i]]; keys[i] = C.key(x); vals[i] = val2(x); }
        const ow = wrap(() => st.setLoop(ctx, keys, vals, capFor(c)));
        st.overwrite.push(ow.ns / ow.done);
        // delete them all, a third order
        const perm3 = C.permutation(done, 0x165667b1 + round);
        keys = new Array(done);
        for (let i = 0; i < done; i++) keys[i] = C.key(perm[perm3[i]]);
        const de = wrap(() => st.delLoop(ctx, keys, null, capFor(c)));
        st.delete.push(de.ns / de.done);
      } catch (e) {
        st.error = e.message;
        C.log(`  ERROR ${c.label}: ${e.message}`);
      }
      try { if (ctx) c.close(ctx); } catch (e) { errors.push(`${c.label} close: ${e.message}`); }
      C.rmrf(f);
      if (fs.existsSync(f + '-lock')) C.rmrf(f + '-lock');
    }
  }
  const results = cands.map((c) => {
    const st = stats.get(c);
    const s = (xs) => { if (!xs.length) return null; const m = C.summary(xs); return { median: C.round(m.median), min: C.round(m.min), max: C.round(m.max), rounds: xs.map((x) => C.round(x, 2)) }; };
    const partial = st.done.length > 0 && Math.min(...st.done) < n;
    return {
      id: c.id, label: c.label, group: c.group,
      insert: s(st.insert), overwrite: s(st.overwrite), delete: s(st.delete),
      keysDone: st.done, partial, error: st.error,
    };
  });
  return { n, rounds, capMs, results, errors };
}

C.childMain(run);
