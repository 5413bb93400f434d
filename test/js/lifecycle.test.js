'use strict';
// Lifecycle: loading the library (resolution order, ABI check, errors listing what was tried),
// close semantics (idempotent SharedMap, mmap-object's close-twice error, close(callback) off the
// main thread), values outliving close, the finalizer safety net, reopening.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');
const { SharedMap, Create, Open, library, mapOf: mapOfObj } = require('../..');
const { ROOT, setup, thrown, childEnv } = require('./helpers');

const t = setup('lifecycle');
const { test, fresh } = t;
const FIX = path.join(__dirname, 'fixtures');

function loadIn(env, script = path.join(FIX, 'load.js')) {
  const out = execFileSync(process.execPath, [script], { env, encoding: 'utf8' });
  return JSON.parse(out);
}

test('library: path, version, abi of the loaded file', () => {
  assert.ok(path.isAbsolute(library.path));
  assert.ok(fs.existsSync(library.path));
  assert.match(path.basename(library.path), /^libmmapobj\.so/);
  assert.match(library.version, /^\d+\.\d+\.\d+$/);
  const header = fs.readFileSync(path.join(ROOT, 'csrc/include/mmapobj.h'), 'utf8');
  assert.is(library.abi, Number(/#define MMAPOBJ_ABI_VERSION (\d+)/.exec(header)[1]));
  const v = ['MAJOR', 'MINOR', 'PATCH'].map((p) => new RegExp(`#define MMAPOBJ_VERSION_${p} (\\d+)`).exec(header)[1]);
  assert.is(library.version, v.join('.'));
  assert.ok(Object.isFrozen(library));
});

test('native.js: struct mmapobj_status and enum mmapobj_kind as the C compiler sees mmapobj.h', () => {
  const { STATUS, KIND } = require('../../js/native');
  const src = path.join(t.dir, 'layout.c');
  fs.writeFileSync(
    src,
    `#include <stdio.h>
     #include <stddef.h>
     #include <mmapobj.h>
     int main(void) {
       printf("{\\"size\\":%zu,\\"kind\\":%zu,\\"code\\":%zu,\\"number\\":%zu,\\"len\\":%zu,",
              sizeof(mmapobj_status), offsetof(mmapobj_status, kind), offsetof(mmapobj_status, code),
              offsetof(mmapobj_status, number), offsetof(mmapobj_status, len));
       printf("\\"NONE\\":%d,\\"STRING\\":%d,\\"NUMBER\\":%d,\\"BYTES\\":%d}", MMAPOBJ_KIND_NONE,
              MMAPOBJ_KIND_STRING, MMAPOBJ_KIND_NUMBER, MMAPOBJ_KIND_BYTES);
       return 0;
     }`
  );
  const exe = path.join(t.dir, 'layout');
  execFileSync('cc', ['-std=c11', '-I', path.join(ROOT, 'csrc', 'include'), '-o', exe, src]);
  const c = JSON.parse(execFileSync(exe, { encoding: 'utf8' }));
  assert.equal({ ...STATUS }, { size: c.size, kind: c.kind, code: c.code, number: c.number, len: c.len });
  assert.equal({ ...KIND }, { NONE: c.NONE, STRING: c.STRING, NUMBER: c.NUMBER, BYTES: c.BYTES });
  // map.js reads the status block's fields by index: they must be aligned for that.
  assert.is(STATUS.kind % 4 + STATUS.code % 4 + STATUS.len % 4 + STATUS.number % 8, 0);
});

test('MMAPOBJ_LIBRARY selects the file; a missing one is an error naming it', () => {
  const r = loadIn({ ...process.env, MMAPOBJ_LIBRARY: library.path });
  assert.ok(r.ok);
  assert.is(r.library.path, fs.realpathSync(library.path));
  const bad = path.join(t.dir, 'nope', 'libmmapobj.so.1');
  const r2 = loadIn({ ...process.env, MMAPOBJ_LIBRARY: bad });
  assert.not.ok(r2.ok);
  // Load failures are MmapObjErrors too, with the package's own code (no library number).
  assert.equal(
    { name: r2.name, code: r2.code, codeName: r2.codeName, errno: r2.errno },
    { name: 'MmapObjError', code: 'MMAPOBJ_E_LOAD', codeName: 'MMAPOBJ_E_LOAD', errno: undefined }
  );
  assert.ok(r2.message.includes(bad), r2.message);
  assert.ok(r2.message.includes('MMAPOBJ_LIBRARY'), r2.message);
});

test('a library with another ABI version is refused, naming the file and the expected version', () => {
  const so = path.join(t.dir, 'libfake.so');
  execFileSync('cc', ['-shared', '-fPIC', '-o', so, path.join(FIX, 'fakeabi.c')]);
  const r = loadIn({ ...process.env, MMAPOBJ_LIBRARY: so });
  assert.not.ok(r.ok);
  assert.is(r.code, 'MMAPOBJ_E_ABI');
  assert.is(r.name, 'MmapObjError');
  assert.is(r.path, so);
  assert.ok(r.message.includes(so), r.message);
  assert.match(r.message, /ABI version 999/);
  assert.match(r.message, new RegExp(`expects ABI version ${library.abi}`));
});

test('MMAPOBJ_LIBRARY pointing at a non-library or another library: clear errors', () => {
  const text = path.join(t.dir, 'not-a-library.so');
  fs.writeFileSync(text, 'hello');
  const r = loadIn({ ...process.env, MMAPOBJ_LIBRARY: text });
  assert.not.ok(r.ok);
  assert.is(r.code, 'MMAPOBJ_E_LOAD');
  assert.ok(r.message.includes(`cannot load ${text}`), r.message);
  const other = path.join(t.dir, 'libother.so');
  fs.writeFileSync(path.join(t.dir, 'other.c'), 'int something_else(void) { return 1; }\n');
  execFileSync('cc', ['-shared', '-fPIC', '-o', other, path.join(t.dir, 'other.c')]);
  const r2 = loadIn({ ...process.env, MMAPOBJ_LIBRARY: other });
  assert.not.ok(r2.ok);
  assert.is(r2.code, 'MMAPOBJ_E_LOAD');
  assert.ok(r2.message.includes(`${other} (env MMAPOBJ_LIBRARY) is not libmmapobj`), r2.message);
});

test('no library anywhere: the error lists every path tried', () => {
  // A copy of the package's js/ without a build/ directory next to it.
  const pkg = path.join(t.dir, 'pkg');
  fs.mkdirSync(path.join(pkg, 'js'), { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, 'js'))) {
    fs.copyFileSync(path.join(ROOT, 'js', f), path.join(pkg, 'js', f));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  const script = path.join(pkg, 'probe.js');
  fs.writeFileSync(
    script,
    "try { const { library } = require('./js/index.js'); console.log(JSON.stringify({ ok: true, library })) }" +
      ' catch (e) { console.log(JSON.stringify({ ok: false, message: e.message, code: e.code })) }'
  );
  const env = { ...process.env };
  delete env.MMAPOBJ_LIBRARY;
  // Keep the dynamic loader from finding an installed libmmapobj.so.1 for this probe.
  env.LD_LIBRARY_PATH = '';
  const r = loadIn(env, script);
  if (r.ok) {
    // A system-wide libmmapobj.so.1 is installed on this machine: the fallback found it.
    assert.not.ok(r.library.path.startsWith(pkg), r.library.path);
    return;
  }
  assert.is(r.code, 'MMAPOBJ_E_LOAD');
  assert.ok(r.message.includes(path.join(pkg, 'build', 'libmmapobj.so.1')), r.message);
  // With a libmmapobj.so.1 where the dynamic loader looks, the same copy finds and uses it.
  const sysdir = path.join(t.dir, 'syslib');
  fs.mkdirSync(sysdir);
  fs.copyFileSync(library.path, path.join(sysdir, 'libmmapobj.so.1'));
  const r3 = loadIn({ ...env, LD_LIBRARY_PATH: sysdir }, script);
  assert.ok(r3.ok, r3.message);
  assert.is(r3.library.path, path.join(sysdir, 'libmmapobj.so.1'));
  assert.is(r3.library.kind, 'system');
  assert.ok(r.message.includes('libmmapobj.so.1 (system'), r.message);
  const target = `linux-${process.arch}`;
  assert.ok(r.message.includes(path.join(pkg, 'prebuilds', target, 'libmmapobj.so.1')), r.message);
  assert.ok(r.message.includes(path.join(pkg, 'js', 'build.js')), r.message);
  // A prebuild for this platform wins over the system library; the package's own build wins
  // over both.
  fs.mkdirSync(path.join(pkg, 'prebuilds', target), { recursive: true });
  fs.copyFileSync(library.path, path.join(pkg, 'prebuilds', target, 'libmmapobj.so.1'));
  const r4 = loadIn({ ...env, LD_LIBRARY_PATH: sysdir }, script);
  assert.ok(r4.ok, r4.message);
  assert.is(r4.library.kind, 'prebuild');
  assert.is(r4.library.path, path.join(pkg, 'prebuilds', target, 'libmmapobj.so.1'));
  fs.mkdirSync(path.join(pkg, 'build'));
  fs.copyFileSync(library.path, path.join(pkg, 'build', 'libmmapobj.so.1'));
  const r5 = loadIn({ ...env, LD_LIBRARY_PATH: sysdir }, script);
  assert.ok(r5.ok, r5.message);
  assert.is(r5.library.kind, 'build');
  assert.is(r5.library.path, path.join(pkg, 'build', 'libmmapobj.so.1'));
});

test('SharedMap.close is idempotent; Proxy close twice throws mmap-object text', () => {
  const m = SharedMap.create(fresh());
  m.close();
  m.close();
  assert.is(m.closed, true);
  const o = new Create(fresh());
  o.close();
  assert.is(thrown(() => o.close()).message, 'Attempted to close a closed object.');
});

test('close(callback): closed at once, callback(null) later, file usable afterwards', async () => {
  const file = fresh();
  const o = new Create(file);
  for (let i = 0; i < 1000; i++) o[`k${i}`] = `v${i}`;
  const err = await new Promise((resolve) => {
    o.close(resolve);
    // Marked closed before the callback runs: no lookup can race the close.
    assert.is(o.isClosed(), true);
    assert.is(thrown(() => o.k1).message, 'Cannot read from closed object.');
  });
  assert.is(err, null);
  const r = new Open(file);
  assert.is(r.k999, 'v999');
  await new Promise((resolve, reject) => r.close((e) => (e ? reject(e) : resolve())));
  // The writer lock was released by the async close.
  const again = new Create(file);
  assert.is(again.k0, 'v0');
  again.close();
  // Closing a closed Proxy with a callback reports the error to the callback.
  const e2 = await new Promise((resolve) => again.close(resolve));
  assert.is(e2.message, 'Attempted to close a closed object.');
  // SharedMap: callback form on a closed map calls back with null.
  const m = SharedMap.create(fresh());
  m.close();
  assert.is(await new Promise((resolve) => m.close(resolve)), null);
});

test('close() without a callback: closed when it returns, and a promise already resolved', async () => {
  for (const make of [(f) => SharedMap.create(f), (f) => new Create(f)]) {
    const file = fresh();
    const m = make(file);
    const p = m.close();
    assert.instance(p, Promise);
    // The writer lock is free at once (mmap-object's synchronous close), before any await.
    const again = SharedMap.create(file);
    again.close();
    assert.is(await p, undefined);
  }
  // A closed SharedMap: still a resolved promise. The callback form returns nothing.
  const m = SharedMap.create(fresh());
  m.close();
  assert.instance(m.close(), Promise);
  const r = SharedMap.create(fresh());
  assert.is(r.close(() => {}), undefined);
  // A Create closed twice throws mmap-object's text at once (no rejected promise to forget).
  const o = new Create(fresh());
  await o.close();
  assert.is(thrown(() => o.close()).message, 'Attempted to close a closed object.');
});

test('Symbol.dispose and Symbol.asyncDispose close SharedMap, Create and Open once', async () => {
  assert.type(Symbol.dispose, 'symbol');
  const file = fresh();
  for (const make of [() => SharedMap.create(file), () => new Create(file)]) {
    const m = make();
    m[Symbol.dispose]();
    assert.ok(m.isClosed());
    SharedMap.create(file).close(); // the writer lock is free
    m[Symbol.dispose](); // already closed: nothing happens (no "Attempted to close" from `using`)
  }
  for (const make of [() => SharedMap.open(file), () => new Open(file), () => SharedMap.create(file)]) {
    const m = make();
    const p = m[Symbol.asyncDispose]();
    assert.ok(m.isClosed(), 'closed at once');
    assert.instance(p, Promise);
    assert.is(await p, undefined);
    assert.is(await m[Symbol.asyncDispose](), undefined);
  }
  // Not stored data: the symbols are not enumerated on Create/Open objects.
  const o = new Create(file);
  o.k = 'v';
  assert.equal(Object.keys(o), ['k']);
  assert.type(o[Symbol.dispose], 'function');
  o[Symbol.dispose]();
});

test('structuredClone and postMessage of a map throw a DataCloneError instead of giving {}', () => {
  const { MessageChannel } = require('worker_threads');
  const file = fresh();
  const w = SharedMap.create(file);
  w.set('k', 'v');
  const objects = [w, SharedMap.open(file), new Open(file)];
  const ch = new MessageChannel();
  try {
    for (const m of objects) {
      for (const send of [(x) => structuredClone(x), (x) => ch.port1.postMessage(x), (x) => structuredClone({ nested: [x] })]) {
        const e = thrown(() => send(m));
        assert.is(e.name, 'DataCloneError');
        assert.match(e.message, /could not be cloned/);
        if (m instanceof SharedMap) assert.match(e.message, /SharedMap.*cannot be cloned: post its path/);
      }
    }
    ch.port1.postMessage({ path: w.path }); // what to send instead
  } finally {
    ch.port1.close();
    for (const m of objects) m.close();
  }
});

test('close(callback) on many objects at once (more than the async queue holds)', async () => {
  const file = fresh();
  new Create(file).close();
  const maps = [];
  for (let i = 0; i < 600; i++) maps.push(i % 2 ? SharedMap.open(file) : new Open(file));
  const results = await Promise.all(maps.map((m) => new Promise((resolve) => m.close(resolve))));
  assert.is(results.length, 600);
  assert.ok(results.every((e) => e === null));
  assert.ok(maps.every((m) => m.isClosed()));
  const w = new Create(file); // no reader left behind: a writer can take the file and shrink it
  w.close();
});

test('a closing writer shrinks the file when no reader has it open', () => {
  const file = fresh();
  const o = new Create(file, 4 << 20);
  o.k = 'v';
  assert.ok(fs.statSync(file).size >= 4 << 20);
  o.close();
  assert.ok(fs.statSync(file).size < 4 << 20, `size after close ${fs.statSync(file).size}`);
});

test('values handed out before close stay valid after close', () => {
  const file = fresh();
  const m = SharedMap.create(file);
  m.set('s', 'string value');
  m.set('b', Buffer.from('bytes value'));
  m.set('nul', 'a\0b');
  const s = m.get('s');
  const b = m.get('b');
  const nul = m.get('nul');
  const entries = [...m];
  m.close();
  global.gc && global.gc();
  assert.is(s, 'string value');
  assert.is(b.toString(), 'bytes value');
  assert.is(nul, 'a\0b');
  assert.is(entries.length, 3);
});

test('a map dropped without close is closed by the garbage collector', () => {
  const file = fresh();
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(FIX, 'finalize.js'), file], {
    env: childEnv(),
    encoding: 'utf8',
  });
  assert.is(out.trim(), 'reclaimed open');
});

test('Create on an existing file keeps its data; reopen many times', () => {
  const file = fresh();
  for (let round = 0; round < 20; round++) {
    const o = new Create(file);
    assert.is(Object.keys(o).length, round);
    o[`r${round}`] = round;
    o.close();
  }
  const r = SharedMap.open(file);
  assert.is(r.size, 20);
  assert.is(r.get('r19'), 19);
  r.verify();
  r.close();
});

test('a reader and a writer of the same file in one process; closing one leaves the other', () => {
  const file = fresh();
  const w = new Create(file);
  const r = new Open(file);
  const r2 = new Open(file);
  w.k = 'v';
  r2.close();
  assert.is(r.k, 'v');
  w.k2 = 'still the writer';
  assert.is(r.k2, 'still the writer');
  r.close();
  w.k3 = 'after reader closed';
  w.close();
  const again = new Create(file);
  assert.is(again.k3, 'after reader closed');
  again.close();
});

test('a reader whose file outgrew its address reservation reopens by itself', () => {
  const file = fresh();
  const w1 = SharedMap.create(file, { fileSize: 64 << 10, maxFileSize: 1 << 20 });
  w1.set('a', 'A');
  w1.close();
  const r = SharedMap.open(file); // reserves address space for the file's max size: 1 MiB
  const o = new Open(file);
  const it = r.keys();
  it.next();
  const w = SharedMap.create(file, { maxFileSize: 64 << 20 }); // a later writer raises the limit
  for (let i = 0; i < 20000; i++) w.set(`k${i}`, 'x'.repeat(200));
  assert.ok(fs.statSync(file).size > 1 << 20);
  assert.is(r.get('k19999'), 'x'.repeat(200));
  assert.is(r.has('k0'), true);
  assert.is(r.size, 20001);
  assert.is(o.k123, 'x'.repeat(200));
  assert.is(Object.keys(o).length, 20001);
  assert.is(r.keysArray().length, 20001);
  // An iteration that was running when the reader reopened says so.
  const e = thrown(() => [...it]);
  assert.match(e.message, /reopened/);
  r.close();
  o.close();
  w.close();
});

/**
 * Readers of `file` (a SharedMap and an Open object) whose reservation (1 MiB) the file then
 * outgrows: a later writer raises max_file_size and writes `keys` more keys. Their next call meets
 * MMAPOBJ_E_RESERVE.
 */
function outgrown(file, keys = 20000) {
  const w1 = SharedMap.create(file, { fileSize: 64 << 10, maxFileSize: 1 << 20 });
  w1.set('a', 'A');
  w1.close();
  const r = SharedMap.open(file); // reserves address space for the file's max size: 1 MiB
  const o = new Open(file);
  const w = SharedMap.create(file, { maxFileSize: 64 << 20 }); // a later writer raises the limit
  for (let i = 0; i < keys; i++) w.set(`k${i}`, 'x'.repeat(200));
  assert.ok(fs.statSync(file).size > 1 << 20);
  return { r, o, w, close: () => [r, o, w].forEach((m) => m.close()) };
}

test('after E_RESERVE, every path reopens by itself as its first call (SharedMap and Open)', () => {
  const count = (it) => {
    let n = 0;
    for (const x of it) n += x === undefined ? 0 : 1;
    return n;
  };
  const paths = {
    'for..of SharedMap': (r) => count(r),
    'for..of Open': (r, o) => count(o),
    'keys()': (r) => count(r.keys()),
    'values()': (r) => count(r.values()),
    'entries()': (r) => count(r.entries()),
    'forEach': (r) => {
      let n = 0;
      r.forEach(() => n++);
      return n;
    },
    'Open forEach over entries': (r, o) => count(mapOfObj(o).entries()),
    'keysArray()': (r) => r.keysArray().length,
    'entriesArrays()': (r) => r.entriesArrays().values.length,
    'Object.keys(Open)': (r, o) => Object.keys(o).length,
    'verify()': (r) => r.verify() && r.size,
    'keys() not yet started when get() reopened': (r) => {
      const it = r.keys();
      assert.is(r.get('k1'), 'x'.repeat(200));
      return count(it);
    },
  };
  for (const [name, call] of Object.entries(paths)) {
    const m = outgrown(fresh());
    let n;
    try {
      n = call(m.r, m.o);
    } catch (e) {
      throw new Error(`${name}: ${e.code} ${e.message}`);
    }
    assert.is(n, 20001, name);
    m.close();
  }
});

test('after E_RESERVE mid-iteration: that iteration says so clearly; the next one reads everything', () => {
  const out = JSON.parse(execFileSync(process.execPath, [path.join(FIX, 'reserve-mid.js'), fresh()], { env: childEnv(), encoding: 'utf8' }));
  assert.equal(out, {
    first: true,
    grown: true,
    error: {
      name: 'MmapObjError',
      code: 'MMAPOBJ_E_RESERVE',
      message:
        'Iteration interrupted: the reader reopened the file (it outgrew the address space reserved for it); ' +
        'start the iteration again',
    },
    after: 25000,
  });
});

test('no descriptor leak over many opens, closes and abandoned iterations', async () => {
  const file = fresh();
  const w = SharedMap.create(file);
  for (let i = 0; i < 2000; i++) w.set(`k${i}`, i);
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 500; i++) {
    const r = i % 2 ? SharedMap.open(file) : new Open(file);
    const it = (r instanceof SharedMap ? r : mapOfObj(r)).keys();
    it.next(); // left half-way: close() must close it
    if (i % 3 === 0) r.close();
    else await new Promise((resolve) => r.close(resolve));
  }
  for (let i = 0; i < 200; i++) {
    const c = SharedMap.create(fresh());
    c.set('x', 1);
    c.close();
  }
  assert.is(fds(), before);
  w.close();
});

test('flush, verify and stats', () => {
  const m = SharedMap.create(fresh());
  m.set('s', 'x').set('n', 1).set('b', Buffer.alloc(3));
  m.flush();
  assert.is(m.verify(), true);
  const s = m.stats();
  assert.is(s.count, 3);
  assert.is(s.countString, 1);
  assert.is(s.countNumber, 1);
  assert.is(s.countBytes, 1);
  assert.is(s.writable, true);
  assert.is(s.writerPid, process.pid);
  assert.is(m.fileFormatVersion(), `${s.formatMajor}.${s.formatMinor}`);
  const r = SharedMap.open(m.path);
  assert.is(r.stats().writable, false);
  r.flush(); // a no-op on a reader
  r.close();
  m.close();
});

test('process exit with open maps is clean', () => {
  const file = fresh();
  const r = spawnSync(
    process.execPath,
    ['-e', `const {Create}=require(${JSON.stringify(ROOT)}); const o=new Create(${JSON.stringify(file)}); o.k='v'; o.close(()=>{}); const p=new Create(${JSON.stringify(file + '2')}); p.x=1;`],
    { env: childEnv(), encoding: 'utf8' }
  );
  assert.is(r.status, 0, r.stderr);
  const o = new Open(file);
  assert.is(o.k, 'v');
  o.close();
  const p = new Create(file + '2');
  assert.is(p.x, 1);
  p.close();
});

test.run();
