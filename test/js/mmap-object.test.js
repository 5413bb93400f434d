'use strict';
// mmap-object 1.5 compatibility: require('mmapobj/mmap-object') (sizes in kilobytes) and the
// behaviours that both entries share with mmap-object, each checked against mmap-object 1.5's own
// text (quoted from its README, its mmap-object.cc or its test suite).
const { suite } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const main = require('../..');
const { tempDir, cleanup, thrown, childEnv, ROOT } = require('./helpers');

const test = suite('mmap-object');
let dir;
let n = 0;
const fresh = () => path.join(dir, `m${n++}`);
let Shared; // require('mmapobj/mmap-object'), resolved through the package's "exports"

test.before(() => {
  dir = tempDir('mmap-object');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'mmapobj'));
  Shared = require(require.resolve('mmapobj/mmap-object', { paths: [dir] }));
});
test.after(() => cleanup(dir));

// mmap-object.cc's methodList, the names that are methods and never data.
const METHOD_LIST = ['bucket_count', 'close', 'get_free_memory', 'get_size', 'isClosed', 'isData', 'isOpen',
  'load_factor', 'max_bucket_count', 'max_load_factor', 'propertyIsEnumerable', 'toString',
  'fileFormatVersion', 'valueOf'];

// ---- the drop-in entry: units and signatures ---------------------------------------------------

test('mmapobj/mmap-object exports Create and Open; Open and the prototypes are the main entry\'s', () => {
  assert.equal(Object.keys(Shared).filter((k) => k !== 'default').sort(), ['Create', 'Open']);
  assert.is(Shared.default, Shared);
  assert.is(Shared.Open, main.Open);
  assert.is(Shared.Create.prototype, main.Create.prototype);
  const o = new Shared.Create(fresh());
  assert.ok(o instanceof Shared.Create);
  assert.ok(o instanceof main.Create);
  assert.is(Object.getPrototypeOf(o), Object.getPrototypeOf(new main.Create(fresh())));
  o.close();
  // "Create must be called as a constructor."
  assert.is(thrown(() => Shared.Create(fresh())).message, 'Create must be called as a constructor.');
});

test("sizes are kilobytes: `new Create('/tmp/sharedmem', 500, 300)` is a 500K map for 300 objects", () => {
  const file = fresh();
  const o = new Shared.Create(file, 500, 300);
  assert.is(fs.statSync(file).size, 500 * 1024);
  assert.is(o.get_size(), 500 * 1024);
  assert.ok(o.bucket_count() >= 300);
  o.close();
  // The main entry keeps the seed's bytes.
  const b = new main.Create(fresh(), 500000, 300);
  assert.is(b.get_size(), 500000);
  b.close();
});

test('max_file_size is kilobytes: (2048, 0, 1048576) caps at 1 GiB, not 1 MiB', () => {
  const o = new Shared.Create(fresh(), 2048, 0, 1048576);
  assert.is(main.mapOf(o).stats().maxFileSize, 1024 * 1024 * 1024);
  // 600 keys of 2 KB: past what a 1 MiB cap would hold ("File grew too large." at the 509th key).
  const v = 'x'.repeat(2000);
  for (let i = 0; i < 600; i++) o[`key${i}`] = v;
  assert.is(Object.keys(o).length, 600);
  o.close();
});

test("defaults are mmap-object's: 5 MB file, 1024 buckets, 5000 MB max_file_size", () => {
  const o = new Shared.Create(fresh());
  const s = main.mapOf(o).stats();
  assert.is(s.fileSize, 5 << 20);
  assert.is(s.maxFileSize, 5000 * 1024 * 1024);
  assert.ok(s.bucketCount >= 1024);
  o.close();
  const z = new Shared.Create(fresh(), 0, 0, 0);
  assert.is(main.mapOf(z).stats().maxFileSize, 5000 * 1024 * 1024, '0 selects the default');
  z.close();
});

test('"File grew too large." past max_file_size in kilobytes (mmap-object\'s test: 40, 20, 40)', () => {
  const o = new Shared.Create(fresh(), 40, 20, 40);
  let i;
  const e = thrown(() => {
    for (i = 0; i < 20; i++) o[`key${i}`] = new Array(1000).join('big');
  });
  assert.is(e.message, 'File grew too large.');
  assert.ok(i > 5, `${i} keys fit`);
  assert.is(o[`key${i}`], undefined, 'the failed write wrote nothing');
  assert.is(o.key0, new Array(1000).join('big'), 'what was written stays');
  o.close();
});

test('a max_file_size below what the file needs is a limit on growth, as in mmap-object', () => {
  // mmap-object's "avoids getting too big when rewriting the same key over and over": 2K, 2, 2K.
  const file = fresh();
  const o = new Shared.Create(file, 2, 2, 2);
  for (let i = 0; i < 200002; i++) o.key = `a chunk of data: ${i}`;
  assert.is(o.key, 'a chunk of data: 200001');
  const cap = main.mapOf(o).stats().maxFileSize;
  assert.ok(fs.statSync(file).size <= cap, 'the file stayed within the limit');
  assert.ok(cap < 64 * 1024, `the limit stays small (${cap}), not the default`);
  o.close();
  // file_size above max_file_size: the file keeps the size it has and does not grow.
  const p = new Shared.Create(fresh(), 64, 0, 32);
  assert.ok(main.mapOf(p).stats().maxFileSize >= p.get_size());
  p.close();
  // The main entry refuses such sizes (bytes, no guessing).
  const e = thrown(() => new main.Create(fresh(), 0, 2, 2048));
  assert.instance(e, RangeError);
  assert.is(e.code, 'ERR_OUT_OF_RANGE');
});

test('size arguments: fractions are dropped as ToInt32 did; non-numbers and negatives are refused', () => {
  const o = new Shared.Create(fresh(), 40.9);
  assert.is(o.get_size(), 40 * 1024);
  o.close();
  let e = thrown(() => new Shared.Create(fresh(), '1000'));
  assert.instance(e, TypeError);
  assert.match(e.message, /file_size must be a number \(kilobytes\), got string/);
  e = thrown(() => new Shared.Create(fresh(), { fileSize: 1 }));
  assert.instance(e, TypeError);
  for (const bad of [-1, NaN, Infinity]) {
    e = thrown(() => new Shared.Create(fresh(), 0, 0, bad));
    assert.instance(e, RangeError);
    assert.match(e.message, /max_file_size must be a non-negative number of kilobytes/);
  }
  const u = new Shared.Create(fresh(), undefined, null, undefined);
  assert.is(u.get_size(), 5 << 20);
  u.close();
});

test('the ESM twin: import { Create, Open } from "mmapobj/mmap-object"', () => {
  const file = fresh();
  const src = `
    import Shared, { Create, Open } from 'mmapobj/mmap-object';
    import * as mainEntry from 'mmapobj';
    const o = new Create(${JSON.stringify(file)}, 500, 300);
    o.k = 'v';
    const r = new Open(${JSON.stringify(file)});
    console.log(JSON.stringify({ same: Shared.Create === Create, open: Open === mainEntry.Open,
      size: o.get_size(), k: r.k }));
    r.close(); o.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { cwd: dir, env: childEnv(), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { same: true, open: true, size: 512000, k: 'v' });
});

// ---- behaviours of both entries ------------------------------------------------------------------

for (const [name, M] of [['mmapobj', () => main], ['mmapobj/mmap-object', () => Shared]]) {
  test(`${name}: Open's texts: does not exist / not a regular file / empty file / appears to be corrupt`, () => {
    const { Open } = M();
    const missing = path.join(dir, 'no_file_at_all');
    // mmap-object's suite: /.tmp.no_file_at_all does not exist.|...: No such file or directory/
    let e = thrown(() => new Open(missing));
    assert.is(e.message, `${missing} does not exist.`);
    assert.instance(e, main.MmapObjError);
    assert.is(e.path, missing);
    assert.is(e.code, 'ENOENT', "the error keeps Node's shape");
    assert.is(e.syscall, 'mmapobj_open');
    assert.is(thrown(() => new Open('/dev/null')).message, '/dev/null is not a regular file.');
    assert.is(thrown(() => new Open(dir)).message, `${dir} is not a regular file.`);
    const empty = fresh();
    fs.writeFileSync(empty, '');
    assert.is(thrown(() => new Open(empty)).message, `${empty} is an empty file.`);
    // mmap-object's suite writes 'CORRUPTION' and 300 bytes of junk (badfile.bin).
    for (const junk of ['CORRUPTION', Buffer.alloc(300, 0xa5), Buffer.alloc(64 * 1024, 7)]) {
      const bad = fresh();
      fs.writeFileSync(bad, junk);
      e = thrown(() => new Open(bad));
      assert.match(e.message, new RegExp(`^File ${bad} appears to be corrupt \\(.+\\)\\.$`));
      assert.instance(e, main.MmapObjError);
      assert.type(e.detail, 'string', "the library's own text stays in detail");
      assert.ok(e.stack.includes('appears to be corrupt'), 'the stack shows the new text');
    }
  });

  test(`${name}: delete of a symbol says "Symbol properties are not supported for delete."`, () => {
    const { Create } = M();
    const o = new Create(fresh());
    let e = thrown(() => {
      delete o[Symbol('first')];
    });
    assert.is(e.message, 'Symbol properties are not supported for delete.');
    e = thrown(() => {
      o[Symbol('first')] = 'what';
    });
    assert.is(e.message, 'Symbol properties are not supported.');
    o.close();
  });

  test(`${name}: isData(x) is "x is not one of the object's method names"`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const w = new Create(file);
    w.first = 'value for first';
    const r = new Open(file);
    for (const o of [w, r]) {
      // mmap-object's suite, "can differentiate between library methods and data":
      assert.is(o.isData(o.first), true);
      assert.is(o.isData('first'), true);
      assert.is(o.isData(o.close), false);
      assert.is(o.isData('close'), false);
      assert.is(o.isData(''), true);
      assert.is(o.isData(), true);
      assert.is(o.isData(undefined), true);
      assert.is(o.isData(null), true);
      assert.is(o.isData(o), true);
      assert.is(o.isData(Symbol('close')), true);
      // Any string that is not a method name, stored or not; every method and its name.
      assert.is(o.isData('never stored'), true);
      assert.is(o.isData('constructor'), true);
      for (const m of METHOD_LIST) {
        assert.is(o.isData(m), false, m);
        assert.is(o.isData(o[m]), false, `${m} function`);
      }
      assert.is(o.isData(function close() {}), false, 'a function is recognised by its name');
      assert.is(o.isData(() => {}), true);
    }
    r.close();
    w.close();
    assert.is(w.isData('close'), false, 'after close too (it looks at the name only)');
  });

  test(`${name}: fileFormatVersion() is the number 1`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const w = new Create(file);
    const r = new Open(file);
    assert.is(w.fileFormatVersion(), 1);
    assert.is(r.fileFormatVersion(), 1);
    assert.is(main.mapOf(r).fileFormatVersion(), '1.0', 'SharedMap keeps "major.minor"');
    r.close();
    w.close();
  });

  test(`${name}: toString, valueOf, propertyIsEnumerable are methods whatever keys are stored`, () => {
    const { Create, Open } = M();
    const file = fresh();
    // Another process writes keys with those names (and an ordinary one).
    const code = `
      const m = require('mmapobj').SharedMap.create(${JSON.stringify(file)});
      for (const k of ['toString', 'valueOf', 'propertyIsEnumerable', 'close']) m.set(k, 'stored ' + k);
      m.set('a', 1);
      m.close();`;
    const r0 = spawnSync(process.execPath, ['-e', code], { cwd: dir, env: childEnv(), encoding: 'utf8' });
    assert.is(r0.status, 0, r0.stderr);
    const r = new Open(file);
    const w = new Create(file);
    for (const o of [r, w]) {
      assert.is(String(o), '[object Object]');
      assert.is(`${o}`, '[object Object]');
      assert.is(o + 1, '[object Object]1');
      assert.is(o.hasOwnProperty('a'), true);
      assert.is(o.propertyIsEnumerable('a'), true);
      assert.is(o.propertyIsEnumerable('toString'), false);
      assert.is(o.toString, Object.prototype.toString);
      assert.is(o.isData('valueOf'), false);
      assert.equal(Object.keys(o), ['a'], 'shadowed keys are not listed');
      assert.equal(main.mapOf(o).get('toString'), 'stored toString', 'SharedMap reaches them');
    }
    const e = thrown(() => {
      w.toString = 'x';
    });
    assert.instance(e, TypeError);
    r.close();
    w.close();
  });

  test(`${name}: delete of a method deletes nothing: false in sloppy mode, TypeError in strict mode`, () => {
    const { Create } = M();
    const o = new Create(fresh());
    // eslint-disable-next-line no-new-func
    const sloppyDelete = new Function('o', 'k', 'return delete o[k];');
    for (const m of METHOD_LIST) {
      assert.is(sloppyDelete(o, m), false, m);
      assert.type(o[m], 'function');
      assert.instance(thrown(() => delete o[m]), TypeError, 'this file is strict');
    }
    o.close();
  });

  test(`${name}: close twice, with and without a callback: "Attempted to close a closed object."`, async () => {
    const { Create, Open } = M();
    const file = fresh();
    new Create(file).close();
    const a = new Open(file);
    a.close();
    assert.is(thrown(() => a.close()).message, 'Attempted to close a closed object.');
    const b = new Open(file);
    b.close();
    const err = await new Promise((resolve) => b.close(resolve));
    assert.instance(err, Error);
    assert.is(err.message, 'Attempted to close a closed object.');
    const c = new Open(file);
    const first = await new Promise((resolve) => c.close(resolve));
    assert.is(first, null, 'an asynchronous close reports no error');
  });

  test(`${name}: reading, writing, deleting after close; read-only texts`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const w = new Create(file);
    w.first = 'value';
    const r = new Open(file);
    assert.is(thrown(() => {
      r.my_string_property = 'my value';
    }).message, 'Read-only object.');
    assert.is(thrown(() => {
      delete r.first;
    }).message, 'Cannot delete from read-only object.');
    assert.is(thrown(() => {
      delete r[12345];
    }).message, 'Cannot delete from read-only object.');
    r.close();
    assert.is(thrown(() => r.first).message, 'Cannot read from closed object.');
    // mmap-object checks read-only before closed, and both before the key and the value.
    assert.is(thrown(() => {
      r.first = 'again';
    }).message, 'Read-only object.');
    assert.is(thrown(() => {
      r[Symbol('s')] = 'x';
    }).message, 'Read-only object.');
    assert.is(thrown(() => {
      delete r.first;
    }).message, 'Cannot delete from read-only object.');
    w.close();
    assert.is(thrown(() => w.first).message, 'Cannot read from closed object.');
    assert.is(thrown(() => {
      w.second = 'something';
    }).message, 'Cannot write to closed object.');
    assert.is(thrown(() => {
      delete w.first;
    }).message, 'Cannot delete from closed object.');
    assert.is(thrown(() => {
      w[Symbol('s')] = 'x';
    }).message, 'Cannot write to closed object.');
    assert.is(thrown(() => {
      w.close = 'x';
    }).message, 'Cannot write to closed object.');
    assert.is(thrown(() => {
      w.flag = true;
    }).message, 'Cannot write to closed object.');
    assert.is(w.isClosed(), true);
    assert.is(w.isOpen(), false);
  });

  test(`${name}: values: strings, numbers, Buffers and any ArrayBufferView; others "Value must be a string, buffer, or number."`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const o = new Create(file);
    o.s = 'some value';
    o.n = 0.207879576;
    o.b = Buffer.from([0x62, 0x0, 0x66]);
    o.f = new Float64Array([1.5]);
    o.d = new DataView(new ArrayBuffer(2));
    assert.is(o.s, 'some value');
    assert.is(o.n, 0.207879576);
    assert.ok(o.b.equals(Buffer.from([0x62, 0x0, 0x66])));
    assert.ok(Buffer.isBuffer(o.f));
    assert.is(o.f.readDoubleLE(0), 1.5, 'the bytes of a Float64Array, read back as a Buffer');
    assert.ok(o.d.equals(Buffer.alloc(2)));
    for (const bad of [true, null, undefined, {}, [], 10n, () => 1, Symbol('v'), new Number(1)]) {
      const e = thrown(() => {
        o.bad = bad;
      });
      assert.instance(e, TypeError);
      assert.ok(e.message.startsWith('Value must be a string, buffer, or number.'), e.message);
      assert.match(e.message, /key "bad"/);
    }
    assert.is(o.bad, undefined, 'nothing was written');
    o.close();
    const r = new Open(file);
    assert.is(thrown(() => {
      r.bad = true;
    }).message, 'Read-only object.', 'the read-only check comes first, as in mmap-object');
    r.close();
  });

  test(`${name}: numeric property names are the keys of their strings`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const o = new Create(file);
    o[1] = 'what';
    o[12345] = 'numberkey';
    o['12346'] = 'numberkey2';
    assert.is(o[1], 'what');
    assert.is(o['1'], 'what');
    const r = new Open(file);
    assert.is(r['12345'], 'numberkey');
    assert.is(r[12346], 'numberkey2');
    assert.equal(Object.keys(r).sort(), ['1', '12345', '12346']);
    r.close();
    o.close();
  });

  test(`${name}: the iterator protocol (mmap-object's test counts next() calls to done)`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const w = new Create(file);
    for (let i = 0; i < 6; i++) w[`k${i}`] = i;
    const r = new Open(file);
    const iterator = r[Symbol.iterator]();
    let count = 0;
    let done;
    do {
      const step = iterator.next();
      if (!step.done) assert.is(r[step.value[0]], step.value[1]);
      count++;
      done = step.done;
    } while (!done);
    assert.is(count, 7);
    const seen = [];
    for (const [key, value] of r) seen.push(`${key}=${value}`);
    assert.is(seen.length, 6);
    r.close();
    w.close();
  });

  test(`${name}: enumerability: data enumerable (writable on Create only), methods not`, () => {
    const { Create, Open } = M();
    const file = fresh();
    const w = new Create(file);
    w.akey = 'avalue';
    const r = new Open(file);
    assert.is(w.propertyIsEnumerable('akey'), true);
    assert.is(Object.getOwnPropertyDescriptor(w, 'akey').writable, true);
    assert.is(r.propertyIsEnumerable('akey'), true);
    assert.is(Object.getOwnPropertyDescriptor(r, 'akey').writable, false);
    for (const m of METHOD_LIST) {
      assert.is(w.propertyIsEnumerable(m), false, m);
      assert.is(r.propertyIsEnumerable(m), false, m);
    }
    const forIn = [];
    for (const k in r) forIn.push(k);
    assert.equal(forIn, ['akey'], 'for…in lists data only (mmap-object listed its methods too)');
    assert.equal(JSON.parse(JSON.stringify(r)), { akey: 'avalue' });
    assert.equal({ ...r }, { akey: 'avalue' });
    assert.is('akey' in r, true);
    assert.is('zz' in r, false, "mmap-object's `in` said true here");
    r.close();
    w.close();
  });
}

test.run();
