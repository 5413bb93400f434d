'use strict';
// Shared pieces of the benchmark children: key/value shapes, the seeded
// permutation, statistics, loop factories and loading of every candidate
// (mmapobj from the repo root, the peers from bench/node_modules, koffi for
// the call floor). Each candidate that cannot be loaded is reported with the
// reason, never silently dropped.

const fs = require('fs');
const path = require('path');

const BENCH_DIR = path.resolve(__dirname, '..');
const ROOT_DIR = path.resolve(BENCH_DIR, '..');

// ---- keys and values ------------------------------------------------------
// Keys are "key:" + 7 digits (11 bytes). Hits are indices [0, n), misses are
// indices [n, 2n): the same shape, never present. Every call builds a new
// string by concatenation, so no key string is internalised or has a cached
// hash when a candidate sees it.
const KEY_BASE = 1000000;
function key(i) { return 'key:' + (KEY_BASE + i); }

const FILL_1K = 'x'.repeat(1024 - 16);
const VALUE_KINDS = {
  // 16-byte ASCII strings
  str16: { label: '16 B string', make: (i) => 'val:' + (100000000000 + i), bytes: 16 },
  // IEEE-754 doubles
  num: { label: 'number', make: (i) => i + 0.5, bytes: 8 },
  // 1 KiB strings (distinct per key: the first 16 bytes carry the index)
  str1k: { label: '1 KiB string', make: (i) => 'val:' + (100000000000 + i) + FILL_1K, bytes: 1024 },
};

// xorshift32: deterministic, so every run and every candidate sees the same order.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}
function permutation(n, seed) {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = r() % (i + 1);
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

// Fresh key strings for `count` lookups following perm from `from` (wrapping);
// `offset` n selects the miss family.
function freshKeys(perm, from, count, offset) {
  const n = perm.length;
  const out = new Array(count);
  let j = from % n;
  for (let i = 0; i < count; i++) {
    out[i] = 'key:' + (KEY_BASE + offset + perm[j]);
    if (++j === n) j = 0;
  }
  return out;
}

// ---- statistics -------------------------------------------------------------
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  return { median: quantile(s, 0.5), min: s[0], max: s[s.length - 1], n: s.length };
}
function round(x, d = 1) {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

// ---- timing -----------------------------------------------------------------
const GROUP = 64; // lookups per sub-batch; p99 is taken over these groups

// One loop per candidate, generated from its expression so that every
// candidate gets its own monomorphic code (a shared loop calling a function
// parameter would charge the floors an indirect call they do not have).
// `pre` runs once and binds locals from C; `expr` uses them and `k`.
function makeLookupLoop(pre, expr) {
  // eslint-disable-next-line no-new-func
  return new Function('C', 'keys', 'times', 'G', `
    ${pre}
    let sink = 0, found = 0, i = 0, g = 0;
    const n = keys.length;
    const start = process.hrtime.bigint();
    let t0 = start;
    while (i < n) {
      const end = i + G < n ? i + G : n;
      for (; i < end; i++) {
        const k = keys[i];
        const v = ${expr};
        if (v !== undefined && v !== null) {
          found++;
          sink += typeof v === 'string' ? v.length : (typeof v === 'number' ? 1 : 2);
        }
      }
      const t1 = process.hrtime.bigint();
      if (times !== null) times[g++] = Number(t1 - t0);
      t0 = t1;
    }
    return { ns: Number(t0 - start), found, sink };
  `);
}

// Loop for write operations; stops early when capNs is exceeded (checked
// every 256 ops) so that a peer that is 100x slower cannot eat the run.
function makeWriteLoop(pre, stmt) {
  // eslint-disable-next-line no-new-func
  return new Function('C', 'keys', 'vals', 'capNs', `
    ${pre}
    const n = keys.length;
    const start = process.hrtime.bigint();
    let i = 0;
    for (; i < n; i++) {
      const k = keys[i];
      const v = vals === null ? undefined : vals[i];
      ${stmt};
      if ((i & 255) === 255 && Number(process.hrtime.bigint() - start) > capNs) { i++; break; }
    }
    return { ns: Number(process.hrtime.bigint() - start), done: i };
  `);
}

function gc() { if (typeof global.gc === 'function') { global.gc(); global.gc(); } }

// ---- loading candidates -----------------------------------------------------
function tryRequire(what, fn) {
  try { return { mod: fn(), error: null }; } catch (e) {
    const msg = String(e && e.message || e).split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 6).join(' ');
    return { mod: null, error: `${what}: ${msg}` };
  }
}

function loadMmapobj() {
  return tryRequire('mmapobj (repo root package)', () => {
    const m = require(ROOT_DIR);
    if (typeof m.Create !== 'function' || typeof m.Open !== 'function') throw new Error('Create/Open not exported');
    return m;
  });
}
function loadLmdb() {
  return tryRequire('lmdb', () => require(require.resolve('lmdb', { paths: [BENCH_DIR] })));
}
function loadMmapObject() {
  return tryRequire('mmap-object', () => require(require.resolve('mmap-object', { paths: [BENCH_DIR] })));
}
function loadKoffi() {
  return tryRequire('koffi', () => require(require.resolve('koffi', { paths: [ROOT_DIR, BENCH_DIR] })));
}
function peerVersion(name) {
  // Read package.json directly: some packages do not export it.
  for (const dir of name === 'koffi' ? [ROOT_DIR, BENCH_DIR] : [BENCH_DIR]) {
    try { return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { /* next */ }
  }
  return null;
}

// The empty C function of the koffi floor (compiled by run.js into a .so).
function loadNop(koffi) {
  const so = process.env.MMAPOBJ_BENCH_NOP;
  if (!so || !fs.existsSync(so)) return { fn: null, error: 'koffi floor: nop library was not built (see the cc message above)' };
  try {
    const lib = koffi.load(so);
    return { fn: lib.func('int mmapobj_bench_nop(const char *key)'), error: null };
  } catch (e) { return { fn: null, error: `koffi floor: ${e.message}` }; }
}

function rmrf(p) { try { fs.rmSync(p, { recursive: true, force: true }); } catch { /* ignore */ } }

function fileBytes(p) {
  // Apparent size and allocated bytes of a file, or the sum over a directory.
  const st = fs.statSync(p);
  if (!st.isDirectory()) return { size: st.size, allocated: st.blocks * 512 };
  let size = 0, allocated = 0;
  for (const f of fs.readdirSync(p)) {
    const s = fs.statSync(path.join(p, f));
    if (s.isFile()) { size += s.size; allocated += s.blocks * 512; }
  }
  return { size, allocated };
}

// Children report one JSON document through the file named by argv.
function childMain(fn) {
  const args = JSON.parse(process.argv[2]);
  Promise.resolve(fn(args)).then((res) => {
    fs.writeFileSync(args.resultFile, JSON.stringify(res));
    process.exit(0);
  }, (e) => {
    console.error(e && e.stack || e);
    process.exit(1);
  });
}

function log(...a) { process.stderr.write(a.join(' ') + '\n'); }

module.exports = {
  BENCH_DIR, ROOT_DIR, KEY_BASE, key, VALUE_KINDS, rng, permutation, freshKeys,
  quantile, summary, round, GROUP, makeLookupLoop, makeWriteLoop, gc,
  loadMmapobj, loadLmdb, loadMmapObject, loadKoffi, loadNop, peerVersion, rmrf, fileBytes,
  childMain, log,
};
