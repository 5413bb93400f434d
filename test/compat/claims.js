'use strict';
// Checks what README.md and docs/API.md say about mmap-object 1.5 against a built mmap-object, and
// the same points against mmapobj. mmap-object needs Boost and node-gyp to build, so this is a
// script, not part of `npm test`:
//
//   node test/compat/claims.js [path/to/mmap-object.node | path/to/mmap-object package]
//
// Without an argument it uses MMAPOBJ_UPSTREAM_TARGET or bench/node_modules/mmap-object (which
// `npm run bench` builds). Every check runs in its own process, because some of them crash
// mmap-object (that is one of the claims). Exit code 1 if any claim does not hold.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');

// Each check: a title (the claim, as the docs make it), the code run with `M` (the module under test)
// and `file` (a fresh path), and what the claim expects of its outcome:
// { out: value printed as JSON } or { signal: 'SIGSEGV' } or { error: /message/ }.
const MMAP_OBJECT_CHECKS = [
  {
    title: 'Object.keys, JSON.stringify, spread and for…of list the stored keys',
    code: `const w = new M.Create(file); w.x = 1; w.y = 'two';
      out([Object.keys(w).sort(), Object.keys(JSON.parse(JSON.stringify(w))).sort(),
        Object.keys({ ...w }).sort(), [...w].map((e) => e[0]).sort()]);`,
    expect: { out: [['x', 'y'], ['x', 'y'], ['x', 'y'], ['x', 'y']] },
  },
  {
    title: 'for…in lists its method names as well',
    code: `const w = new M.Create(file); w.x = 1; const k = []; for (const n in w) k.push(n);
      out(k.includes('x') && k.includes('close') && k.includes('get_size'));`,
    expect: { out: true },
  },
  {
    title: "`in`, hasOwnProperty and Object.hasOwn say true for a key that is not there ('zz' in o)",
    code: `const w = new M.Create(file); w.x = 1; out(['zz' in w, w.hasOwnProperty('zz'), Object.hasOwn(w, 'zz')]);`,
    expect: { out: [true, true, true] },
  },
  {
    title: 'isData(x) is "x is not a method name": true for a key that is not stored',
    code: `const w = new M.Create(file); out([w.isData('missing'), w.isData('close'), w.isData(w.close), w.isData(null)]);`,
    expect: { out: [true, false, false, true] },
  },
  {
    title: 'fileFormatVersion() is the number 1',
    code: `const w = new M.Create(file); out(w.fileFormatVersion());`,
    expect: { out: 1 },
  },
  {
    title: 'get_size() is the size of the file (5 MB for a new default file)',
    code: `const w = new M.Create(file); w.x = 1; out([w.get_size(), require('fs').statSync(file).size]);`,
    expect: { out: [5242880, 5242880] },
  },
  {
    title: 'file_size is in kilobytes: new Create(path, 500) makes a 512,000-byte file',
    code: `const w = new M.Create(file, 500); out(require('fs').statSync(file).size);`,
    expect: { out: 512000 },
  },
  {
    title: "a size that is not a number is converted with ToInt32 ('1000' is 1000 KB)",
    code: `const w = new M.Create(file, '1000'); out(require('fs').statSync(file).size);`,
    expect: { out: 1024000 },
  },
  {
    title: 'storing a value of another type (a boolean) crashes the process',
    code: `const w = new M.Create(file); w.flag = true; out('survived');`,
    expect: { signal: 'SIGSEGV' },
  },
  {
    title: 'so does storing undefined, or an object',
    code: `const w = new M.Create(file); try { w.u = undefined; } catch (e) {} w.o = {}; out('survived');`,
    expect: { signal: 'SIGSEGV' },
  },
  {
    title: "Open of a file that is not Boost's layout says \"Can't open file <path>: boost::interprocess_exception::library_error\"",
    code: `require('fs').writeFileSync(file, 'CORRUPTION'); new M.Open(file);`,
    expect: { error: /^Can't open file .*: boost::interprocess_exception::library_error$/ },
  },
  {
    title: 'an informational method after close crashes the process',
    code: `const w = new M.Create(file); w.close(); out(w.get_size());`,
    expect: { signal: 'SIGSEGV' },
  },
  {
    title: 'a string value or key is cut at its first NUL',
    code: `const w = new M.Create(file); w.s = 'a\\0b'; w['k\\0x'] = 'v'; out([w.s, Object.keys(w).sort()]);`,
    expect: { out: ['a', ['k', 's']] },
  },
  {
    title: 'a lone surrogate is stored as U+FFFD replacement characters',
    code: `const w = new M.Create(file); w.s = '\\uD800'; out(/^\\uFFFD+$/.test(w.s));`,
    expect: { out: true },
  },
  {
    title: 'a bytes value read earlier changes when the key is written again (it is the mapped memory)',
    code: `const w = new M.Create(file); w.b = Buffer.from([1, 2]); const b = w.b; w.b = Buffer.from([9, 9]);
      out([...b]);`,
    expect: { out: [9, 9] },
  },
  {
    title: 'two Creates of one file in one process both write it',
    code: `const a = new M.Create(file); const b = new M.Create(file); a.x = 1; b.y = 2; out([b.x, a.y]);`,
    expect: { out: [1, 2] },
  },
  {
    title: 'Object.keys of a closed object is [] (no error)',
    code: `const w = new M.Create(file); w.x = 1; w.close(); out(Object.keys(w));`,
    expect: { out: [] },
  },
  {
    title: 'reading a closed object says "Cannot read from closed object."',
    code: `const w = new M.Create(file); w.x = 1; w.close(); w.x;`,
    expect: { error: /^Cannot read from closed object\.$/ },
  },
  {
    title: 'closing twice says "Attempted to close a closed object."',
    code: `const w = new M.Create(file); w.close(); w.close();`,
    expect: { error: /^Attempted to close a closed object\.$/ },
  },
  {
    title: 'an Open descriptor is non-writable and non-configurable',
    code: `const w = new M.Create(file); w.x = 1; const r = new M.Open(file);
      const d = Object.getOwnPropertyDescriptor(r, 'x'); out([d.writable, d.configurable]);`,
    expect: { out: [false, false] },
  },
  {
    title: 'delete of a method gives false in sloppy mode',
    code: `const w = new M.Create(file); out(Function('o', 'return delete o.close')(w));`,
    expect: { out: false },
  },
  {
    title: 'assigning to a method name stores nothing that property access or Object.keys shows',
    code: `const w = new M.Create(file); w.close = 'x'; out([typeof w.close, Object.keys(w)]);`,
    expect: { out: ['function', []] },
  },
  {
    title: 'close() returns undefined',
    code: `const w = new M.Create(file); out(w.close() === undefined);`,
    expect: { out: true },
  },
  {
    title: 'iteration has one cursor per object: a second for…of over it ends the first',
    code: `const w = new M.Create(file); w.a = 1; w.b = 2; w.c = 3; let n = 0;
      for (const e of w) { [...w]; if (++n > 10) break; } out(n);`,
    expect: { out: 1 },
  },
  {
    title: 'Open of a missing file says "<path>: No such file or directory" (its test also accepts "<path> does not exist.")',
    code: `new M.Open(file);`,
    expect: { error: /: No such file or directory$/ },
  },
  {
    title: 'the file grows one item at a time: by twice the size of the write that did not fit',
    code: `const w = new M.Create(file); const fs = require('fs'); const sizes = [];
      for (let i = 0; i < 60; i++) {
        w['key' + i] = 'v'.repeat(100000);
        const s = fs.statSync(file).size;
        if (s !== sizes[sizes.length - 1]) sizes.push(s);
      }
      const steps = sizes.slice(1).map((s, i) => s - sizes[i]);
      out(steps.length >= 3 && steps.every((d) => d >= 200000 && d < 201000));`,
    expect: { out: true },
    // Growing often aborts mmap-object ("terminate called after throwing an instance of
    // 'boost::interprocess::lock_exception'"): tried up to 10 times.
    attempts: 10,
  },
  {
    title: 'growing the file can abort the process (boost::interprocess::lock_exception)',
    code: `const w = new M.Create(file); for (let i = 0; i < 60; i++) w['key' + i] = 'v'.repeat(100000); out('grew');`,
    expect: { signal: 'SIGABRT' },
    attempts: 20,
  },
  {
    title: 'a damaged file can crash the reader (64 flipped bytes, up to 20 different damages)',
    code: `const fs = require('fs'); const w = new M.Create(file);
      for (let i = 0; i < 200; i++) w['key' + i] = 'value ' + i;
      w.close();
      const buf = fs.readFileSync(file);
      let x = ((attempt + 1) * 2654435761) >>> 0;
      for (let i = 0; i < 64; i++) { x = (x * 1103515245 + 12345) >>> 0; buf[x % 20000] ^= 0xff; }
      fs.writeFileSync(file, buf);
      try { const r = new M.Open(file); for (let i = 0; i < 200; i++) r['key' + i]; Object.keys(r); } catch (e) {}
      out('no crash');`,
    expect: { signal: 'SIGSEGV' },
    attempts: 20,
  },
  {
    title: "its files are Boost's layout: mmapobj's Open says the file appears to be corrupt (bad magic)",
    code: `const w = new M.Create(file); w.x = 1; w.close();
      try { new (require(${JSON.stringify(ROOT)}).Open)(file); out('opened'); } catch (e) { out(e.message); }`,
    expect: { out: /appears to be corrupt \(not an mmapobj file/ },
  },
];

function childSource(modulePath, check, file, attempt) {
  return `'use strict';
    const M = require(${JSON.stringify(modulePath)});
    const file = ${JSON.stringify(file)};
    const attempt = ${attempt};
    const out = (v) => process.stdout.write(JSON.stringify(v));
    try { ${check.code} } catch (e) { process.stdout.write('!ERR ' + e.message); }`;
}

function judge(check, r) {
  const e = check.expect;
  if (e.signal) return { ok: r.signal === e.signal, got: r.signal || `exit ${r.status}: ${r.stdout}` };
  if (r.signal) return { ok: false, got: r.signal };
  if (e.error) {
    const msg = r.stdout.startsWith('!ERR ') ? r.stdout.slice(5) : null;
    return { ok: msg !== null && e.error.test(msg), got: msg === null ? `no error: ${r.stdout}` : msg };
  }
  if (r.stdout.startsWith('!ERR ')) return { ok: false, got: r.stdout };
  const got = JSON.parse(r.stdout);
  if (e.out instanceof RegExp) return { ok: e.out.test(String(got)), got };
  return { ok: JSON.stringify(got) === JSON.stringify(e.out), got };
}

function run(modulePath, checks) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-claims-'));
  const results = [];
  try {
    checks.forEach((check, i) => {
      // A check with `attempts` holds if one of that many runs gives the expected outcome (each run
      // sees its index as `attempt`).
      let verdict;
      let runs = 0;
      for (let attempt = 0; attempt < (check.attempts || 1); attempt++) {
        const file = path.join(dir, `f${i}-${attempt}`);
        const r = spawnSync(process.execPath, ['-e', childSource(modulePath, check, file, attempt)], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 60000,
        });
        verdict = judge(check, r);
        runs++;
        if (verdict.ok) break;
      }
      results.push({ title: check.title, ...verdict, runs });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

function findMmapObject(arg) {
  const candidates = [arg, process.env.MMAPOBJ_UPSTREAM_TARGET, path.join(ROOT, 'bench', 'node_modules', 'mmap-object')];
  for (const c of candidates) {
    if (!c) continue;
    try {
      return require.resolve(path.resolve(c));
    } catch (_) {
      // next
    }
  }
  return null;
}

/**
 * Runs the copy script of docs/API.md ("Copying an mmap-object file") in a fresh directory where
 * require('mmap-object') is `mmapObjectModule` (a built mmap-object, or anything with its API):
 * writes a file with it, copies it, and returns {printed, copied: [key, value][], expected}.
 */
function runCopyScript(mmapObjectModule) {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8');
  const block = [...md.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('copy-mmap-object.js'));
  if (!block) throw new Error('docs/API.md has no copy-mmap-object.js block');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-copy-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules', 'mmap-object'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'mmap-object', 'index.js'),
      `module.exports = require(${JSON.stringify(mmapObjectModule)});\n`);
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'mmapobj'));
    fs.writeFileSync(path.join(dir, 'copy-mmap-object.js'), block);
    const entries = [['text', 'caf\u00e9 \u{1F600}'], ['n', -1.5], ['bytes', [0, 1, 254, 255]], ['', 'empty key'], ['7', 'seven']];
    const write = `const M = require('mmap-object'); const o = new M.Create('old.bin');
      for (const [k, v] of ${JSON.stringify(entries)}) o[k] = Array.isArray(v) ? Buffer.from(v) : v;
      o.close();`;
    const opts = { cwd: dir, encoding: 'utf8', timeout: 60000 };
    let r = spawnSync(process.execPath, ['-e', write], opts);
    if (r.status !== 0) throw new Error(`writing old.bin failed: ${r.stderr}`);
    r = spawnSync(process.execPath, ['copy-mmap-object.js', 'old.bin', 'new.mmo'], opts);
    if (r.status !== 0) throw new Error(`copy-mmap-object.js failed: ${r.stderr}`);
    const read = `const m = require('mmapobj').SharedMap.open('new.mmo');
      const out = [...m].map(([k, v]) => [k, Buffer.isBuffer(v) ? [...v] : v]);
      process.stdout.write(JSON.stringify(out)); m.close();`;
    const r2 = spawnSync(process.execPath, ['-e', read], opts);
    if (r2.status !== 0) throw new Error(`reading new.mmo failed: ${r2.stderr}`);
    const sort = (a) => [...a].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    return { printed: r.stdout, copied: sort(JSON.parse(r2.stdout)), expected: sort(entries) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { MMAP_OBJECT_CHECKS, run, runCopyScript };

if (require.main === module) {
  const target = findMmapObject(process.argv[2]);
  if (!target) {
    console.error('No built mmap-object found: pass the path of mmap-object.node or of its package ' +
      '(`npm run bench` builds one in bench/node_modules/mmap-object when Boost is installed).');
    process.exit(2);
  }
  console.log(`mmap-object under test: ${target}`);
  const results = run(target, MMAP_OBJECT_CHECKS);
  for (const r of results) {
    const note = r.runs > 1 ? ` (${r.runs} runs)` : '';
    console.log(`${r.ok ? 'holds ' : 'FALSE '} ${r.title}${note}${r.ok ? '' : `\n        got: ${JSON.stringify(r.got)}`}`);
  }
  const copy = runCopyScript(target);
  const copyOk = JSON.stringify(copy.copied) === JSON.stringify(copy.expected);
  results.push({ ok: copyOk });
  console.log(`${copyOk ? 'holds ' : 'FALSE '} docs/API.md's copy script copies an mmap-object file into an mmapobj file` +
    `${copyOk ? '' : `\n        got: ${JSON.stringify(copy.copied)}`}\n        (${copy.printed.trim()})`);
  const bad = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - bad} of ${results.length} claims about mmap-object 1.5 hold`);
  process.exitCode = bad ? 1 : 0;
}
