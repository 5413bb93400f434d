'use strict';
// Iteration: the Map protocol of SharedMap (keys/values/entries/forEach/Symbol.iterator), batches
// larger than one buffer, values larger than the buffer, early exit, writes during iteration.
const assert = require('uvu/assert');
const path = require('path');
const { execFileSync } = require('child_process');
const { SharedMap, Create, Open } = require('../..');
const { setup, thrown, childEnv } = require('./helpers');

const t = setup('iteration');
const { test, fresh } = t;

function build(count, valueOf = (i) => `value-${i}`) {
  const file = fresh();
  const w = SharedMap.create(file, { buckets: count });
  const expected = new Map();
  for (let i = 0; i < count; i++) {
    const v = valueOf(i);
    w.set(`key:${i}`, v);
    expected.set(`key:${i}`, v);
  }
  return { file, w, expected };
}

test('empty map iterates nothing', () => {
  const w = SharedMap.create(fresh());
  assert.equal([...w], []);
  assert.equal([...w.keys()], []);
  assert.equal(w.keysArray(), []);
  assert.is(w.size, 0);
  let calls = 0;
  w.forEach(() => calls++);
  assert.is(calls, 0);
  w.close();
});

test('keys/values/entries/forEach/iterator agree with what was written (many batches)', () => {
  // ~40k entries of ~120 bytes: several times the 256 KiB batch buffer.
  const { file, w, expected } = build(40000, (i) => (i % 3 === 0 ? i * 1.5 : `v${i}`.padEnd(100, '.')));
  for (const m of [w, SharedMap.open(file)]) {
    assert.is(m.size, expected.size);
    const keys = [...m.keys()];
    assert.is(keys.length, expected.size);
    assert.is(new Set(keys).size, expected.size, 'each key once');
    for (const k of keys) assert.ok(expected.has(k));
    const entries = new Map(m.entries());
    assert.equal(entries, expected);
    assert.equal(new Map(m), expected);
    const values = [...m.values()];
    assert.is(values.length, expected.size);
    const seen = new Map();
    m.forEach(function (v, k, map) {
      assert.is(map, m);
      assert.is(this.tag, 'thisArg');
      seen.set(k, v);
    }, { tag: 'thisArg' });
    assert.equal(seen, expected);
    const { keys: ks, values: vs } = m.entriesArrays();
    assert.is(ks.length, vs.length);
    ks.forEach((k, i) => assert.is(vs[i], expected.get(k)));
    if (m !== w) m.close();
  }
  w.close();
});

test('values larger than the batch buffer', () => {
  const w = SharedMap.create(fresh());
  const big = 'B'.repeat(3 << 20);
  const bytes = Buffer.alloc(1 << 20, 7);
  w.set('small', 's');
  w.set('big', big);
  w.set('bytes', bytes);
  const m = new Map(w.entries());
  assert.is(m.get('big'), big);
  assert.ok(m.get('bytes').equals(bytes));
  assert.is(m.get('small'), 's');
  assert.equal(new Set(w.keys()), new Set(['small', 'big', 'bytes']));
  w.close();
});

test('break out of for..of closes the iterator; the map closes fine afterwards', () => {
  const { w } = build(5000);
  let count = 0;
  for (const [k] of w) {
    assert.type(k, 'string');
    if (++count === 10) break;
  }
  assert.is(count, 10);
  const it = w.keys();
  it.next();
  assert.equal(it.return(), { value: undefined, done: true });
  assert.equal(it.next(), { value: undefined, done: true });
  // An iterator left half-way is closed by close().
  const open = w.entries();
  open.next();
  w.close();
  const e = thrown(() => {
    for (let i = 0; i < 10000; i++) open.next();
  });
  assert.is(e.message, 'Cannot read from closed object.');
});

test('iterating a closed map throws', () => {
  const w = SharedMap.create(fresh());
  w.close();
  for (const f of [() => w.keys(), () => [...w], () => w.forEach(() => {}), () => w.keysArray()]) {
    assert.is(thrown(f).message, 'Cannot read from closed object.');
  }
});

test('writes during iteration: keys present throughout are produced exactly once', () => {
  const { w, expected } = build(20000);
  const produced = new Map();
  let i = 0;
  for (const [k, v] of w) {
    produced.set(k, (produced.get(k) || 0) + 1);
    // Add new keys (forcing table growth) and delete added ones as we go.
    w.set(`new:${i}`, i);
    if (i % 2) w.delete(`new:${i - 1}`);
    i++;
    if (!k.startsWith('new:')) assert.is(v, expected.get(k));
  }
  for (const k of expected.keys()) assert.is(produced.get(k), 1, k);
  for (const [k, c] of produced) assert.is(c, 1, `${k} produced once`);
  w.close();
});

test('Proxy: Object.keys and for..of over many keys, on Create and Open', () => {
  const { file, w, expected } = build(30000);
  w.close();
  const o = new Create(file);
  const r = new Open(file);
  for (const obj of [o, r]) {
    const keys = Object.keys(obj);
    assert.is(keys.length, expected.size);
    assert.equal(new Set(keys), new Set(expected.keys()));
    let count = 0;
    for (const [k, v] of obj) {
      assert.is(v, expected.get(k));
      count++;
    }
    assert.is(count, expected.size);
    const entries = Object.entries(obj);
    assert.is(entries.length, expected.size);
    for (const [k, v] of entries) assert.is(v, expected.get(k));
  }
  r.close();
  o.close();
});

test('entriesArrays with a value budget; enumeration of a map of huge values', () => {
  const w = SharedMap.create(fresh());
  const big = Buffer.alloc(20 << 20, 1);
  for (let i = 0; i < 4; i++) w.set(`big${i}`, big);
  for (let i = 0; i < 100; i++) w.set(`small${i}`, `s${i}`);
  const all = w.entriesArrays();
  assert.is(all.keys.length, 104);
  assert.is(all.values.length, 104);
  const some = w.entriesArrays(1 << 20);
  assert.is(some.keys.length, 104);
  assert.ok(some.values.length < 104, `values read: ${some.values.length}`);
  some.values.forEach((v, i) => assert.equal(v, all.values[i]));
  const o = new Open(w.path);
  assert.is(Object.keys(o).length, 104);
  assert.is(Object.entries(o).length, 104);
  const d = Object.getOwnPropertyDescriptor(o, 'big2');
  assert.ok(d.value.equals(big));
  const copy = { ...o };
  assert.is(copy.small7, 's7');
  assert.ok(copy.big3.equals(big));
  o.close();
  w.close();
});

test('entriesArrays(valueBudget): the budget is checked per entry, 0 reads no value', () => {
  const w = SharedMap.create(fresh());
  for (let i = 0; i < 300; i++) w.set(`key:${i}`, i % 5 === 0 ? i : `v${'\u00e9'.repeat(i % 40)}`);
  w.set('bytes', Buffer.alloc(3000, 7));
  const all = w.entriesArrays();
  assert.is(all.values.length, 301);
  // What the library copies per entry read with its value (the iter_batch layout).
  const cost = (k, v) => 4 + Buffer.byteLength(k) + 1 + (typeof v === 'number' ? 8 : 4 + Buffer.byteLength(v));
  const sums = [0];
  all.keys.forEach((k, i) => sums.push(sums[i] + cost(k, all.values[i])));
  const expectLen = (budget) => sums.filter((s, i) => i > 0 && s <= budget).length;
  assert.is(w.entriesArrays(0).values.length, 0);
  assert.is(w.entriesArrays(0).keys.length, 301);
  for (const budget of [1, sums[1] - 1, sums[1], sums[37], sums[37] + 1, sums[200] - 1, sums[301] - 1, sums[301], 1e9]) {
    const some = w.entriesArrays(budget);
    assert.equal(some.keys, all.keys);
    assert.is(some.values.length, expectLen(budget), `budget ${budget}`);
    some.values.forEach((v, i) => assert.equal(v, all.values[i]));
  }
  for (const bad of ['100', null, {}, 10n]) {
    const e = thrown(() => w.entriesArrays(bad));
    assert.instance(e, TypeError);
    assert.is(e.code, 'ERR_INVALID_ARG_TYPE');
  }
  for (const bad of [-1, NaN]) {
    const e = thrown(() => w.entriesArrays(bad));
    assert.instance(e, RangeError);
    assert.is(e.code, 'ERR_OUT_OF_RANGE');
  }
  assert.is(w.entriesArrays(undefined).values.length, 301);
  w.close();
});

test('keys and values of every short length, ASCII or not, decode exactly', () => {
  const w = SharedMap.create(fresh());
  const expected = new Map();
  for (let n = 0; n <= 20; n++) {
    for (const unit of ['a', '\0', '\u007f', '\u00e9', '\u20ac', '\u{1F600}']) {
      const k = `${n}:` + unit.repeat(n);
      const v = unit.repeat(n) + '!'.repeat(n % 3);
      expected.set(k, v);
      w.set(k, v);
    }
  }
  assert.equal(new Map(w.entries()), expected);
  assert.equal(new Set(w.keys()), new Set(expected.keys()));
  w.close();
});

test('nested iteration over the same map', () => {
  const { w } = build(300);
  let pairs = 0;
  for (const a of w.keys()) {
    for (const b of w.keys()) {
      if (a === b) pairs++;
    }
  }
  assert.is(pairs, 300);
  w.close();
});

test('iterators inherit %IteratorPrototype% (iterator helpers on Node 22+)', () => {
  const { w } = build(50);
  const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
  const o = new Open(w.path);
  for (const it of [w.keys(), w.values(), w.entries(), w[Symbol.iterator](), o[Symbol.iterator]()]) {
    assert.is(Object.getPrototypeOf(Object.getPrototypeOf(it)), IteratorPrototype);
    assert.is(it[Symbol.iterator](), it);
    assert.is(Object.prototype.toString.call(it), '[object SharedMap Iterator]');
    it.return();
  }
  if (typeof IteratorPrototype.toArray === 'function') {
    assert.is(w.keys().filter((k) => k.endsWith('7')).toArray().length, 5);
    assert.equal(w.values().take(2).toArray().length, 2);
  }
  o.close();
  w.close();
});

test('an iterator keeps its map alive: SharedMap.open(p).keys() with a gc part-way (issue 9 defect 5)', () => {
  const file = fresh();
  const w = SharedMap.create(file, { buckets: 6000 });
  // 6,000 keys of ~70 bytes: several batches of the 256 KiB scratch buffer.
  for (let i = 0; i < 6000; i++) w.set(`key:${i}:${'k'.repeat(60)}`, `value-${i}`);
  w.close();
  for (const mode of ['keys', 'values', 'entries']) {
    const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures', 'iterator-gc.js'), file, mode], {
      env: childEnv(),
      encoding: 'utf8',
    });
    assert.equal(JSON.parse(out), { n: 6000, leaked: 0 }, mode);
  }
});

test.run();
