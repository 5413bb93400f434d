#!/usr/bin/env node
'use strict';
// Uncontended SharedMap.set of two builds of the package, side by side (issue 12: an uncontended
// set stays within 1.3x of the one-writer library's):
//
//   node bench/compare-set.js OLD_ROOT [NEW_ROOT] [--keys N] [--rounds R]
//
// OLD_ROOT and NEW_ROOT are package roots with a built library (build/libmmapobj.so.1), e.g. an
// export of an older commit built with `node js/install.js`; NEW_ROOT defaults to this checkout.
// Each round runs one child process per root, alternating, pinned to the last CPU (taskset when
// it exists): a fresh file, N inserts of "key:" + 7 digits in random order with 16-byte values,
// N overwrites, N gets, N deletes, each key string built just before its batch. It reports CPU
// time per operation (process.cpuUsage: what another process takes from the CPU does not count),
// the median over the rounds and the new / old ratio.

const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

if (process.argv[2] === '--child') {
  const [root, nArg, file] = process.argv.slice(3);
  const { SharedMap } = require(root);
  const n = Number(nArg);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let s = 12345;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const keys = () => Array.from({ length: n }, (_, i) => 'key:' + (1000000 + perm[i]));
  const cpu = (fn) => {
    const k = keys();
    const c0 = process.cpuUsage();
    fn(k);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  };
  const m = SharedMap.create(file);
  let sink = 0;
  const out = {
    insert: cpu((k) => { for (let i = 0; i < n; i++) m.set(k[i], 'val:' + (100000000000 + i)); }),
    overwrite: cpu((k) => { for (let i = 0; i < n; i++) m.set(k[i], 'VAL:' + (100000000000 + i)); }),
    get: cpu((k) => { for (let i = 0; i < n; i++) sink += m.get(k[i]).length; }),
    delete: cpu((k) => { for (let i = 0; i < n; i++) m.delete(k[i]); }),
  };
  m.close();
  fs.rmSync(file, { force: true });
  if (!sink) process.exit(3);
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const n = opt('--keys', 300000);
const rounds = opt('--rounds', 7);
if (!args[0]) {
  console.error('usage: node bench/compare-set.js OLD_ROOT [NEW_ROOT] [--keys N] [--rounds R]');
  process.exit(2);
}
const roots = { old: path.resolve(args[0]), new: path.resolve(args[1] || path.join(__dirname, '..')) };
const haveTaskset = cp.spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const cpuNo = String(os.cpus().length - 1);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-compare-set-'));
const res = { old: [], new: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const which of r % 2 ? ['new', 'old'] : ['old', 'new']) {
      const root = roots[which];
      const env = { ...process.env, MMAPOBJ_LIBRARY: path.join(root, 'build', 'libmmapobj.so.1') };
      const argv = [__filename, '--child', root, String(n), path.join(tmp, `${which}.mmo`)];
      const p = haveTaskset
        ? cp.spawnSync('taskset', ['-c', cpuNo, process.execPath, ...argv], { env, encoding: 'utf8' })
        : cp.spawnSync(process.execPath, argv, { env, encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`${which} (${root}) failed: ${p.stderr}`);
      res[which].push(JSON.parse(p.stdout));
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`SharedMap, ${n} keys, CPU ns per op, medians of ${rounds} alternating runs` +
  `${haveTaskset ? ` pinned to CPU ${cpuNo}` : ''}; old = ${roots.old}, new = ${roots.new}\n`);
console.log('| op | old | new | new / old | old runs | new runs |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const op of ['insert', 'overwrite', 'get', 'delete']) {
  const o = res.old.map((x) => x[op]);
  const w = res.new.map((x) => x[op]);
  console.log(`| ${op} | ${med(o).toFixed(0)} | ${med(w).toFixed(0)} | ${(med(w) / med(o)).toFixed(2)} | ` +
    `${o.map((x) => x.toFixed(0)).join(', ')} | ${w.map((x) => x.toFixed(0)).join(', ')} |`);
}
