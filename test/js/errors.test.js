'use strict';
// Bad input from JS (issue 5 item 4): every value and key type, wrong constructor arguments, bad
// paths and files, operations after close, a full file. Each gives a clear error, and the file keeps
// all its earlier data.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { SharedMap, Create, Open, MmapObjError, codes } = require('../..');
const { ROOT, setup, thrown } = require('./helpers');

const t = setup('errors');
const { test, fresh } = t;

function headerCodes() {
  const header = fs.readFileSync(path.join(ROOT, 'csrc/include/mmapobj.h'), 'utf8');
  const body = header.slice(header.indexOf('enum mmapobj_code {'));
  const fromHeader = {};
  for (const m of body.slice(0, body.indexOf('};')).matchAll(/(MMAPOBJ_[A-Z_]+)\s*=\s*(-?\d+)/g)) {
    fromHeader[m[1]] = Number(m[2]);
  }
  return fromHeader;
}

test('the code table read from the library is the C enum: every MMAPOBJ_* code of mmapobj.h, same numbers', () => {
  const fromHeader = headerCodes();
  assert.ok(Object.keys(fromHeader).length >= 20);
  assert.equal({ ...require('../../js/native').codes }, fromHeader);
});

test('codes: a frozen object of strings, one per error code of the library and of the package', () => {
  assert.ok(Object.isFrozen(codes));
  const names = Object.keys(headerCodes()).filter((k) => k.startsWith('MMAPOBJ_E_'));
  assert.equal(Object.keys(codes).sort(), [...names, 'MMAPOBJ_E_LOAD', 'MMAPOBJ_E_ABI'].sort());
  const os = { MMAPOBJ_E_NOENT: 'ENOENT', MMAPOBJ_E_ACCESS: 'EACCES', MMAPOBJ_E_NOSPC: 'ENOSPC', MMAPOBJ_E_NOMEM: 'ENOMEM' };
  for (const [name, value] of Object.entries(codes)) assert.is(value, os[name] || name, name);
});

test("MmapObjError in Node's shape: OS code, negative errno, syscall, path; file-level errors name the path", () => {
  const missing = path.join(t.dir, 'no', 'such', 'dir', 'file');
  for (const make of [() => new Open(missing), () => new Create(missing), () => SharedMap.open(missing)]) {
    const e = thrown(make);
    assert.instance(e, MmapObjError);
    assert.instance(e, Error);
    assert.is(e.name, 'MmapObjError');
    assert.is(e.code, 'ENOENT');
    assert.is(e.code, codes.MMAPOBJ_E_NOENT);
    assert.is(e.errno, -require('os').constants.errno.ENOENT);
    assert.is(require('util').getSystemErrorName(e.errno), e.code);
    assert.is(e.codeName, 'MMAPOBJ_E_NOENT');
    assert.match(e.syscall, /^mmapobj_(open|create_ex)$/);
    assert.is(e.path, missing);
    assert.ok(e.message.includes(missing), e.message);
    // Own enumerable properties as on Node's fs errors (name stays on the prototype).
    assert.equal(Object.keys(e).slice(0, 5), ['code', 'errno', 'codeName', 'syscall', 'path']);
  }
});

test('library codes without one OS errno: the library name as code, its number as errno', () => {
  const file = fresh();
  const a = new Create(file, { exclusive: true });
  const e = thrown(() => new Create(file));
  assert.equal(
    { code: e.code, errno: e.errno, codeName: e.codeName, syscall: e.syscall, path: e.path },
    { code: 'MMAPOBJ_E_LOCKED', errno: -105, codeName: 'MMAPOBJ_E_LOCKED', syscall: 'mmapobj_create_ex', path: file }
  );
  assert.is(e.code, codes.MMAPOBJ_E_LOCKED);
  a.close();
  // Closing twice (mmap-object's text) and using a closed map are E_CLOSED.
  const twice = thrown(() => a.close());
  assert.is(twice.message, 'Attempted to close a closed object.');
  assert.equal([twice.code, twice.errno, twice.path], ['MMAPOBJ_E_CLOSED', -303, file]);
  const closed = thrown(() => a.x);
  assert.equal([closed.message, closed.code, closed.errno], ['Cannot read from closed object.', 'MMAPOBJ_E_CLOSED', -303]);
  const r = new Open(file);
  const ro = thrown(() => {
    r.x = 1;
  });
  assert.equal([ro.message, ro.code, ro.errno, ro.key], ['Read-only object.', 'MMAPOBJ_E_READONLY', -302, 'x']);
  r.close();
});

test('the callback of a second close gets the same error', async () => {
  const file = fresh();
  const o = new Create(file);
  o.close();
  const err = await new Promise((resolve) => o.close(resolve));
  assert.instance(err, MmapObjError);
  assert.equal([err.message, err.code, err.errno], ['Attempted to close a closed object.', 'MMAPOBJ_E_CLOSED', -303]);
});

test('Open of files that are not mmapobj files', () => {
  const cases = [];
  const empty = fresh();
  fs.writeFileSync(empty, '');
  cases.push([empty, 'MMAPOBJ_E_TOOSMALL']);
  const junk = fresh();
  fs.writeFileSync(junk, Buffer.alloc(20000, 'junk'));
  cases.push([junk, 'MMAPOBJ_E_BADMAGIC']);
  cases.push(['/dev/null', 'MMAPOBJ_E_NOTREG']);
  cases.push([t.dir, 'MMAPOBJ_E_NOTREG']);
  for (const [file, codeName] of cases) {
    const e = thrown(() => new Open(file));
    assert.instance(e, MmapObjError);
    assert.is(e.codeName, codeName, `${file}: ${e.message}`);
    assert.ok(e.message.includes(file), e.message);
  }
  // Create refuses to take over a file that is not an mmapobj file (and leaves it alone).
  const e = thrown(() => new Create(junk));
  assert.is(e.codeName, 'MMAPOBJ_E_BADMAGIC');
  assert.is(fs.readFileSync(junk).toString('utf8', 0, 4), 'junk');
});

test('Create in a directory that cannot be written names the path', () => {
  // Running as root ignores permission bits, so use a place nobody can create files in.
  const file = '/proc/mmapobj-test-cannot-create';
  const e = thrown(() => new Create(file));
  assert.instance(e, MmapObjError);
  assert.ok(e.message.includes(file), e.message);
  assert.ok(['MMAPOBJ_E_ACCESS', 'MMAPOBJ_E_NOENT', 'MMAPOBJ_E_IO'].includes(e.codeName), e.codeName);
});

test('read-only directory and unreadable files: clear errors naming the path', () => {
  // Permission bits do not apply to root: run the probe as nobody when the tests run as root.
  const base = fs.mkdtempSync(path.join(require('os').tmpdir(), 'mmapobj-perm-'));
  try {
    fs.chmodSync(base, 0o755);
    const roDir = path.join(base, 'ro');
    fs.mkdirSync(roDir, { mode: 0o555 });
    fs.chmodSync(roDir, 0o555);
    const secret = path.join(base, 'secret.mmo');
    const w = new Create(secret);
    w.k = 'v';
    w.close();
    fs.chmodSync(secret, 0o600);
    const readonlyFile = path.join(base, 'readonly.mmo');
    const w2 = new Create(readonlyFile);
    w2.k = 'kept';
    w2.close();
    fs.chmodSync(readonlyFile, 0o444);
    // A world-readable copy of the package for the probe (the checkout may be under /root).
    const { library } = require('../..');
    const pkg = path.join(base, 'pkg');
    fs.cpSync(path.join(ROOT, 'js'), path.join(pkg, 'js'), { recursive: true });
    for (const dep of ['koffi', '@koromix']) {
      fs.cpSync(path.join(ROOT, 'node_modules', dep), path.join(pkg, 'node_modules', dep), { recursive: true });
    }
    const lib = path.join(pkg, 'libmmapobj.so.1');
    fs.copyFileSync(library.path, lib);
    fs.chmodSync(base, 0o755);
    const probe = `
      const { Create, Open } = require(${JSON.stringify(path.join(pkg, 'js', 'index.js'))});
      const out = [];
      for (const [what, make] of [
        ['create in read-only dir', () => new Create(${JSON.stringify(path.join(roDir, 'x.mmo'))})],
        ['open unreadable file', () => new Open(${JSON.stringify(secret)})],
        ['create on read-only file', () => new Create(${JSON.stringify(readonlyFile)})],
      ]) {
        try { make(); out.push([what, 'no error']); } catch (e) { out.push([what, e.codeName, e.message]); }
      }
      const r = new Open(${JSON.stringify(readonlyFile)});
      out.push(['read-only file still readable', r.k]);
      r.close();
      console.log(JSON.stringify(out));`;
    const asRoot = process.getuid && process.getuid() === 0;
    const cmd = asRoot ? 'setpriv' : process.execPath;
    const args = asRoot
      ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', probe]
      : ['-e', probe];
    const r = require('child_process').spawnSync(cmd, args, {
      encoding: 'utf8',
      cwd: base,
      env: { ...process.env, MMAPOBJ_LIBRARY: lib },
    });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out[0].slice(0, 2), ['create in read-only dir', 'MMAPOBJ_E_ACCESS']);
    assert.ok(out[0][2].includes(path.join(roDir, 'x.mmo')), out[0][2]);
    assert.equal(out[1].slice(0, 2), ['open unreadable file', 'MMAPOBJ_E_ACCESS']);
    assert.ok(out[1][2].includes(secret), out[1][2]);
    assert.equal(out[2].slice(0, 2), ['create on read-only file', 'MMAPOBJ_E_ACCESS']);
    assert.ok(out[2][2].includes(readonlyFile), out[2][2]);
    assert.equal(out[3], ['read-only file still readable', 'kept']);
    assert.not.ok(fs.existsSync(path.join(roDir, 'x.mmo')));
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('wrong path arguments', () => {
  for (const p of [undefined, null, 42, {}, [], Symbol('p'), Buffer.from('x')]) {
    for (const make of [() => new Create(p), () => new Open(p), () => SharedMap.create(p), () => SharedMap.open(p)]) {
      const e = thrown(make);
      assert.instance(e, TypeError);
      assert.is(e.code, 'ERR_INVALID_ARG_TYPE');
      assert.match(e.message, /path must be a string/);
    }
  }
  for (const [p, text] of [['', /must not be empty/], [fresh() + '\0x', /NUL/], ['\uD800', /lone surrogate/]]) {
    const e = thrown(() => new Open(p));
    assert.instance(e, TypeError);
    assert.is(e.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(e.message, text);
  }
  // file: URLs work
  const file = fresh();
  const o = new Create(require('url').pathToFileURL(file));
  o.k = 'v';
  o.close();
  assert.is(new Open(file).k, 'v');
});

test('wrong sizes: a non-number is a TypeError, a bad number a RangeError', () => {
  const cases = [[-1, RangeError], [NaN, RangeError], [1.5, RangeError], [Infinity, RangeError], [2 ** 60, RangeError],
    ['100', TypeError], ['1000', TypeError], [true, TypeError], [10n, TypeError], [{}, TypeError]];
  for (const [v, type] of cases) {
    const code = type === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE';
    const text = type === TypeError ? /must be a number/ : /must be a non-negative integer/;
    // (an object as the first size is the options form: only the later positions for it)
    for (const args of typeof v === 'object' ? [[0, v], [0, 0, v]] : [[v], [0, v], [0, 0, v]]) {
      const e = thrown(() => new Create(fresh(), ...args));
      assert.instance(e, type, `${String(v)} at ${args.length}`);
      assert.is(e.code, code);
      assert.match(e.message, text);
    }
    const e = thrown(() => SharedMap.create(fresh(), { fileSize: v }));
    assert.instance(e, type);
    assert.is(e.code, code);
    assert.match(e.message, /fileSize/);
  }
  let e = thrown(() => new Create(fresh(), { filesize: 10 }));
  assert.instance(e, TypeError);
  assert.is(e.code, 'ERR_INVALID_ARG_VALUE');
  assert.match(e.message, /unknown option "filesize"/);
  e = thrown(() => SharedMap.create(fresh(), 'big'));
  assert.is(e.code, 'ERR_INVALID_ARG_TYPE');
  assert.match(e.message, /options must be an object/);
  // Sizes the library refuses are RangeErrors too, naming the file: a max size smaller than the
  // file needs (any unit mix-up: 1 byte)...
  for (const max of [1, 100]) {
    const file = fresh();
    e = thrown(() => new Create(file, 0, 0, max));
    assert.instance(e, RangeError);
    assert.is(e.code, 'ERR_OUT_OF_RANGE');
    assert.is(e.path, file);
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /max_size/);
    assert.not.ok(fs.existsSync(file));
  }
  // ... and a file size above the maximum: refused, and no file is left.
  const big = fresh();
  e = thrown(() => new Create(big, 2 ** 50));
  assert.instance(e, RangeError);
  assert.is(e.code, 'ERR_OUT_OF_RANGE');
  assert.ok(e.message.includes(big), e.message);
  assert.not.ok(fs.existsSync(big));
  // Sizes that are fine: the old positional form and the options form.
  new Create(fresh(), 500000, 300).close();
  new Create(fresh(), { fileSize: 500000, buckets: 300, maxFileSize: 1 << 30 }).close();
  new Create(fresh(), undefined, 300).close();
});

test('SharedMap key types', () => {
  const w = SharedMap.create(fresh());
  w.set('k', 'v');
  // Strings, and Buffers/Uint8Arrays of a key's bytes; nothing else (other typed arrays neither).
  for (const key of [1, undefined, null, Symbol('s'), {}, ['k'], new Uint16Array(1), new DataView(new ArrayBuffer(1)), 1n, true]) {
    for (const op of ['get', 'has', 'delete']) {
      const e = thrown(() => w[op](key));
      assert.instance(e, TypeError);
      assert.is(e.code, 'ERR_INVALID_ARG_TYPE');
      assert.match(e.message, /keys must be strings or Buffers\/Uint8Arrays/);
    }
    assert.match(thrown(() => w.set(key, 1)).message, /keys must be strings/);
  }
  assert.is(w.get(Buffer.from('k')), 'v');
  assert.equal([...w], [['k', 'v']]);
  w.close();
});

test('huge and odd keys', () => {
  const w = SharedMap.create(fresh());
  const huge = 'h'.repeat(4 << 20);
  w.set(huge, 'huge key');
  assert.is(w.get(huge), 'huge key');
  assert.is(w.get(huge.slice(1)), undefined);
  const hugeValue = '\u00e9'.repeat(16 << 20); // 32 MiB of UTF-8
  w.set('hv', hugeValue);
  assert.is(w.get('hv'), hugeValue);
  const hugeBytes = Buffer.alloc(48 << 20, 0x5a);
  w.set('hb', hugeBytes);
  assert.ok(w.get('hb').equals(hugeBytes));
  w.close();
});

test('a write that would pass maxFileSize: "File grew too large.", nothing lost, still usable', () => {
  const file = fresh();
  const o = new Create(file, { maxFileSize: 1 << 20 });
  o.small = 'kept';
  const e = thrown(() => {
    o.big = 'x'.repeat(2 << 20);
  });
  assert.instance(e, MmapObjError);
  assert.is(e.message, 'File grew too large.');
  assert.is(e.code, 'MMAPOBJ_E_FULL');
  assert.is(e.syscall, 'mmapobj_set');
  assert.is(e.key, 'big');
  assert.is(o.big, undefined);
  assert.is(o.small, 'kept');
  o.after = 'still writable';
  o.close();
  const r = new Open(file);
  assert.equal({ ...r }, { small: 'kept', after: 'still writable' });
  r.close();
});

test('a second writer next to an exclusive one is refused, naming the file', () => {
  const file = fresh();
  const a = new Create(file, { exclusive: true });
  a.x = 1;
  const e = thrown(() => new Create(file));
  assert.is(e.codeName, 'MMAPOBJ_E_LOCKED');
  assert.ok(e.message.includes(file), e.message);
  assert.is(a.x, 1);
  a.close();
  const b = new Create(file);
  assert.is(b.x, 1, 'Create on an existing file keeps its data');
  b.close();
});

test('a writer stuck in the middle of a write: reader calls give MMAPOBJ_E_BUSY, then serve again', () => {
  const file = fresh();
  const w = SharedMap.create(file); // alive: this process holds the writer lock
  for (let i = 0; i < 10; i++) w.set(`k${i}`, `v${i}`);
  const r = SharedMap.open(file);
  // Make the header's seq (offset 64, docs/FORMAT.md) odd, as a writer stopped mid-write leaves it.
  const fd = fs.openSync(file, 'r+');
  const seq = Buffer.alloc(8);
  fs.readSync(fd, seq, 0, 8, 64);
  const even = seq.readBigUInt64LE(0);
  assert.is(even % 2n, 0n);
  seq.writeBigUInt64LE(even + 1n);
  fs.writeSync(fd, seq, 0, 8, 64);
  const it = r.keys();
  try {
    // Each call gives up after about a second.
    for (const [call, syscall] of [[() => r.get('k1'), 'mmapobj_get'], [() => it.next(), 'mmapobj_iter_batch']]) {
      const e = thrown(call);
      assert.instance(e, MmapObjError);
      assert.equal([e.code, e.errno, e.codeName, e.syscall], ['MMAPOBJ_E_BUSY', -305, 'MMAPOBJ_E_BUSY', syscall]);
      assert.ok(e.message.includes(file), e.message);
    }
  } finally {
    seq.writeBigUInt64LE(even);
    fs.writeSync(fd, seq, 0, 8, 64);
    fs.closeSync(fd);
  }
  assert.is(r.get('k1'), 'v1');
  assert.is(r.keysArray().length, 10);
  assert.is([...it].length, 10, 'the iteration goes on where it was');
  r.close();
  w.close();
});

test('every operation after close throws the mmap-object text; the file keeps its data', () => {
  const file = fresh();
  const o = new Create(file);
  o.a = 'A';
  o.n = 1;
  const m = SharedMap.create(fresh());
  o.close();
  m.close();
  const R = 'Cannot read from closed object.';
  const W = 'Cannot write to closed object.';
  const D = 'Cannot delete from closed object.';
  assert.is(thrown(() => o.a).message, R);
  assert.is(thrown(() => 'a' in o).message, R);
  assert.is(thrown(() => Object.keys(o)).message, R);
  assert.is(thrown(() => [...o]).message, R);
  assert.is(thrown(() => JSON.stringify(o)).message, R);
  assert.is(thrown(() => o.get_size()).message, R);
  assert.is(o.isData('a'), true, "isData looks at the name only (mmap-object's)");
  assert.is(
    thrown(() => {
      o.a = 'x';
    }).message,
    W
  );
  assert.is(
    thrown(() => {
      delete o.a;
    }).message,
    D
  );
  assert.is(thrown(() => o.close()).message, 'Attempted to close a closed object.');
  assert.is(o.isClosed(), true);
  assert.type(o.toString, 'function', 'Object.prototype members stay reachable');
  assert.is(thrown(() => m.get('a')).message, R);
  assert.is(thrown(() => m.has('a')).message, R);
  assert.is(thrown(() => m.size).message, R);
  assert.is(thrown(() => m.set('a', 1)).message, W);
  assert.is(thrown(() => m.delete('a')).message, D);
  assert.is(thrown(() => m.stats()).message, R);
  const e = thrown(() => m.get('a'));
  assert.instance(e, MmapObjError);
  assert.is(e.codeName, 'MMAPOBJ_E_CLOSED');
  m.close(); // idempotent for SharedMap
  const r = new Open(file);
  assert.equal({ ...r }, { a: 'A', n: 1 });
  r.close();
});

test('read-only handle: writes throw, nothing changes', () => {
  const file = fresh();
  const w = SharedMap.create(file);
  w.set('k', 'v');
  const r = SharedMap.open(file);
  let e = thrown(() => r.set('k', 'x'));
  assert.is(e.message, 'Read-only object.');
  assert.is(e.codeName, 'MMAPOBJ_E_READONLY');
  e = thrown(() => r.delete('k'));
  assert.is(e.message, 'Cannot delete from read-only object.');
  e = thrown(() => r.clear());
  assert.is(e.message, 'Cannot delete from read-only object.');
  assert.is(r.get('k'), 'v');
  r.close();
  w.close();
});

test('bad callbacks', () => {
  const m = SharedMap.create(fresh());
  for (const e of [thrown(() => m.close('not a function')), thrown(() => m.forEach(null))]) {
    assert.instance(e, TypeError);
    assert.is(e.code, 'ERR_INVALID_ARG_TYPE');
  }
  assert.match(thrown(() => m.close('not a function')).message, /callback must be a function/);
  assert.match(thrown(() => m.forEach(null)).message, /not a function/);
  m.close();
});

test('methods called on the wrong object, constructors called wrongly', () => {
  let e = thrown(() => Create.prototype.isOpen.call({}));
  assert.instance(e, TypeError);
  assert.is(e.code, 'ERR_INVALID_THIS');
  assert.match(e.message, /must be called on a Create or Open object/);
  e = thrown(() => new SharedMap());
  assert.is(e.code, 'ERR_ILLEGAL_CONSTRUCTOR');
  assert.match(e.message, /SharedMap.create/);
  e = thrown(() => Create(fresh()));
  assert.is(e.code, 'ERR_CONSTRUCT_CALL_REQUIRED');
});

test.run();
