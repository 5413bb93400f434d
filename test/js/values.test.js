'use strict';
// Values and keys round-trip exactly: strings (NUL, astral, empty, long), numbers bit for bit,
// bytes as new Buffers; other types throw a TypeError naming the type and write nothing.
const assert = require('uvu/assert');
const { SharedMap, Create, Open } = require('../..');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup, thrown } = require('./helpers');

const t = setup('values');
const { test, fresh } = t;

/** Writes key=value with a writer, reads it back from the writer and from a reader. */
function roundTrip(key, value) {
  const file = fresh();
  const w = SharedMap.create(file);
  w.set(key, value);
  const fromWriter = w.get(key);
  const r = SharedMap.open(file);
  const fromReader = r.get(key);
  const iterated = [...r.entries()];
  r.close();
  w.close();
  return { fromWriter, fromReader, iterated };
}

const STRINGS = {
  ascii: 'hello world',
  empty: '',
  'NUL inside': 'a\0b\0',
  'only NUL': '\0',
  latin1: 'caf\u00e9 \u00ff',
  bmp: '\u65e5\u672c\u8a9e \u20ac',
  astral: '\u{1F600} \u{10FFFF} \u{1D11E}',
  'astral + NUL': '\u{1F600}\0\u{1F601}',
  U_FFFD: '\uFFFD',
  long: 'x'.repeat(1 << 20) + '\u{1F600}',
  'long with NUL (beyond the kept scratch buffer)': 'y'.repeat(20 << 20) + '\0' + 'z'.repeat(1000),
  'medium with NUL': '\0'.repeat(300000),
};

for (const [name, s] of Object.entries(STRINGS)) {
  test(`string value round-trips exactly: ${name}`, () => {
    const { fromWriter, fromReader, iterated } = roundTrip('k', s);
    assert.is(fromWriter, s);
    assert.is(fromReader, s);
    assert.equal(iterated, [['k', s]]);
  });
}

const NUMBERS = [0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 1 / 3, Number.MAX_VALUE, Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 5e-324, -2.2250738585072014e-308, 12345678.9];

test('numbers round-trip bit-exactly (including -0 and NaN)', () => {
  const file = fresh();
  const w = SharedMap.create(file);
  NUMBERS.forEach((x, i) => w.set(`n${i}`, x));
  const r = SharedMap.open(file);
  const bits = (x) => Buffer.from(new Float64Array([x]).buffer).toString('hex');
  NUMBERS.forEach((x, i) => {
    assert.ok(Object.is(w.get(`n${i}`), x), `writer n${i}=${x}`);
    assert.ok(Object.is(r.get(`n${i}`), x), `reader n${i}=${x}`);
    assert.is(bits(r.get(`n${i}`)), bits(x));
  });
  const fromIter = new Map(r.entries());
  NUMBERS.forEach((x, i) => assert.ok(Object.is(fromIter.get(`n${i}`), x), `iterated n${i}`));
  r.close();
  w.close();
});

test('Buffer and Uint8Array values come back as new Buffers that survive close', () => {
  const file = fresh();
  const w = SharedMap.create(file);
  const bytes = Buffer.from([0, 1, 2, 255, 0, 128]);
  w.set('buf', bytes);
  const u8 = new Uint8Array([9, 8, 7, 6, 5]);
  w.set('u8', u8.subarray(1, 4)); // a view with an offset: only its bytes
  w.set('empty', Buffer.alloc(0));
  const big = Buffer.alloc(3 << 20, 0xab);
  w.set('big', big);
  const a = w.get('buf');
  assert.ok(Buffer.isBuffer(a));
  assert.equal([...a], [...bytes]);
  assert.ok(a.buffer !== bytes.buffer, 'a new Buffer, not the one written');
  assert.equal([...w.get('u8')], [8, 7, 6]);
  assert.is(w.get('empty').length, 0);
  assert.ok(Buffer.isBuffer(w.get('empty')));
  const r = SharedMap.open(file);
  const fromReader = r.get('buf');
  const bigBack = r.get('big');
  const iterated = Object.fromEntries(r.entries());
  r.close();
  w.close();
  // Still valid and unchanged after both handles are closed.
  assert.equal([...fromReader], [...bytes]);
  assert.ok(bigBack.equals(big));
  assert.ok(iterated.buf.equals(bytes));
  assert.equal([...iterated.u8], [8, 7, 6]);
  fromReader[0] = 42; // writable memory of its own
  assert.is(fromReader[0], 42);
});

test('two reads of a bytes value give two independent Buffers', () => {
  const w = SharedMap.create(fresh());
  w.set('b', Buffer.from('abc'));
  const x = w.get('b');
  const y = w.get('b');
  x[0] = 0x7a;
  assert.is(y.toString(), 'abc');
  w.close();
});

test('overwriting changes kind freely', () => {
  const w = SharedMap.create(fresh());
  w.set('k', 'str');
  assert.is(w.get('k'), 'str');
  w.set('k', 42);
  assert.is(w.get('k'), 42);
  w.set('k', Buffer.from('b'));
  assert.ok(w.get('k').equals(Buffer.from('b')));
  w.set('k', 'a\0b');
  assert.is(w.get('k'), 'a\0b');
  w.set('k', 'plain');
  assert.is(w.get('k'), 'plain');
  assert.is(w.size, 1);
  w.close();
});

const BAD_VALUES = [
  [undefined, 'undefined'],
  [null, 'null'],
  [true, 'boolean'],
  [10n, 'bigint'],
  [Symbol('s'), 'symbol'],
  [() => 1, 'function'],
  [{ a: 1 }, 'Object'],
  [[1, 2], 'Array'],
  [new Date(0), 'Date'],
  [new Float64Array(2), 'Float64Array'],
  [new ArrayBuffer(4), 'ArrayBuffer'],
  [new DataView(new ArrayBuffer(4)), 'DataView'],
  [new Map(), 'Map'],
  [Object.create(null), 'object'],
  [new String('boxed'), 'String'],
];

for (const [value, typeName] of BAD_VALUES) {
  test(`a ${typeName} value throws a TypeError naming it and writes nothing`, () => {
    const w = SharedMap.create(fresh());
    w.set('k', 'before');
    const e = thrown(() => w.set('k', value));
    assert.instance(e, TypeError);
    assert.ok(e.message.includes(`type ${typeName}`), e.message);
    assert.ok(e.message.includes('"k"'), e.message);
    assert.is(w.get('k'), 'before');
    const e2 = thrown(() => w.set('new', value));
    assert.instance(e2, TypeError);
    assert.is(w.has('new'), false);
    assert.is(w.size, 1);
    w.close();
  });
}

test('keys: empty, NUL inside, astral, long, numeric-looking, U+FFFD', () => {
  const keys = ['', 'a\0b', '\0', '\0\0x', '\u{1F600}', 'k'.repeat(100000), '123', '-0', '\uFFFD', 'caf\u00e9'];
  const file = fresh();
  const w = SharedMap.create(file);
  keys.forEach((k, i) => w.set(k, i));
  assert.is(w.size, keys.length);
  const r = SharedMap.open(file);
  keys.forEach((k, i) => {
    assert.is(w.get(k), i, `writer ${JSON.stringify(k.slice(0, 10))}`);
    assert.is(r.get(k), i, `reader ${JSON.stringify(k.slice(0, 10))}`);
    assert.ok(r.has(k));
  });
  assert.is(r.get('a'), undefined, 'the key "a\\0b" is not "a"');
  assert.is(r.has('a'), false);
  assert.equal(new Set(r.keys()), new Set(keys));
  assert.is(w.delete('a\0b'), true);
  assert.is(r.get('a\0b'), undefined);
  assert.is(w.delete('a\0b'), false);
  r.close();
  w.close();
});

test('keys with lone surrogates: set throws a clear TypeError, get/has/delete find nothing', () => {
  const w = SharedMap.create(fresh());
  w.set('\uFFFD', 'replacement char'); // what a lone surrogate would turn into as UTF-8
  for (const k of ['\uD800', 'a\uDC00', '\uDBFF\uDBFF', 'x\uD83D']) {
    const e = thrown(() => w.set(k, 1));
    assert.instance(e, TypeError);
    assert.match(e.message, /lone surrogate/);
    assert.is(w.get(k), undefined, 'no alias of U+FFFD');
    assert.is(w.has(k), false);
    assert.is(w.delete(k), false);
  }
  assert.is(w.get('\uFFFD'), 'replacement char');
  assert.is(w.size, 1);
  w.close();
});

test('string values with lone surrogates are refused (they could not round-trip)', () => {
  const w = SharedMap.create(fresh());
  w.set('k', 'ok');
  const e = thrown(() => w.set('k', 'bad \uD800 value'));
  assert.instance(e, TypeError);
  assert.match(e.message, /lone surrogate/);
  assert.match(e.message, /toWellFormed/);
  assert.is(w.get('k'), 'ok');
  w.close();
});

test('Proxy: values through property access, numeric property names', () => {
  const file = fresh();
  const o = new Create(file);
  o.s = 'str';
  o['with space'] = 'x\0y';
  o[1] = 'one';
  o[2.5] = -0;
  o.b = new Uint8Array([1, 2]);
  assert.is(o.s, 'str');
  assert.is(o['1'], 'one');
  assert.ok(Object.is(o['2.5'], -0));
  const r = new Open(file);
  assert.is(r[1], 'one');
  assert.is(r['with space'], 'x\0y');
  assert.equal([...r.b], [1, 2]);
  const e = thrown(() => {
    o.bad = { x: 1 };
  });
  assert.instance(e, TypeError);
  assert.is(o.bad, undefined);
  r.close();
  o.close();
});

test('keys that are not UTF-8, written by the CLI: reachable as bytes (get/has/set/delete, keys/entries asBuffer)', () => {
  const file = fresh();
  const cli = path.join(ROOT, 'build', 'csrc', 'tools', 'mmapobj');
  // \xff alone, an overlong '/', a lone surrogate's UTF-8 form, a NUL inside, and valid UTF-8.
  const raw = [Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x61, 0, 0xfe])];
  const lines = raw.map((k, i) => JSON.stringify({ key_base64: k.toString('base64'), string: `v${i}` }));
  lines.push(JSON.stringify({ key: 'plain', number: 7 }));
  const load = spawnSync(cli, ['load', '-q', file], { input: lines.join('\n') + '\n', encoding: 'utf8' });
  assert.is(load.status, 0, load.stderr);
  const r = SharedMap.open(file);
  raw.forEach((k, i) => {
    assert.is(r.get(k), `v${i}`);
    assert.is(r.has(k), true);
    assert.is(r.get(new Uint8Array(k)), `v${i}`, 'a plain Uint8Array');
  });
  // A view into a larger buffer: its own bytes only.
  const big = Buffer.concat([Buffer.from('xx'), raw[0], Buffer.from('yy')]);
  assert.is(r.get(big.subarray(2, 3)), 'v0');
  assert.is(r.get(Buffer.from('plain')), 7);
  assert.is(r.get(Buffer.from([0xff, 0xff])), undefined);
  assert.is(r.has(Buffer.alloc(0)), false);
  // As strings those keys read with U+FFFD and are not found under that name...
  assert.ok(r.keysArray().includes('\ufffd'));
  assert.is(r.get('\ufffd'), undefined);
  // ...as Buffers they are exact.
  const keys = [...r.keys({ asBuffer: true })];
  assert.is(keys.length, 5);
  for (const k of [...raw, Buffer.from('plain')]) assert.ok(keys.some((b) => Buffer.isBuffer(b) && b.equals(k)), k.toString('hex'));
  const entries = new Map([...r.entries({ asBuffer: true })].map(([k, v]) => [k.toString('hex'), v]));
  raw.forEach((k, i) => assert.is(entries.get(k.toString('hex')), `v${i}`));
  assert.is(entries.get(Buffer.from('plain').toString('hex')), 7);
  assert.equal([...r.keys({ asBuffer: false })].length, 5);
  for (const bad of [null, 1, 'asBuffer']) assert.is(thrown(() => r.keys(bad)).code, 'ERR_INVALID_ARG_TYPE');
  assert.is(thrown(() => r.entries({ asbuffer: true })).code, 'ERR_INVALID_ARG_VALUE');
  assert.is(thrown(() => r.keys({ asBuffer: 1 })).code, 'ERR_INVALID_ARG_TYPE');
  // A reader cannot write with bytes keys either; errors show the key's bytes.
  const e = thrown(() => r.set(raw[0], 'x'));
  assert.is(e.code, 'MMAPOBJ_E_READONLY');
  assert.ok(Buffer.isBuffer(e.key));
  r.close();
  // The writer: set, overwrite and delete by bytes; the CLI reads what JS wrote.
  const w = SharedMap.create(file);
  w.set(raw[0], 'replaced').set(Buffer.from([0x80]), Buffer.from([1, 2])).set(new Uint8Array([0xfe, 0]), 1.5);
  assert.is(w.get(raw[0]), 'replaced');
  assert.equal(w.get(Buffer.from([0x80])), Buffer.from([1, 2]));
  assert.is(w.get(Buffer.from([0xfe, 0])), 1.5);
  assert.is(w.delete(raw[1]), true);
  assert.is(w.delete(raw[1]), false);
  assert.is(w.size, 6);
  w.close();
  const got = spawnSync(cli, ['get', '--key-base64', file, Buffer.from([0x80]).toString('base64')], { encoding: 'utf8' });
  assert.is(got.status, 0, got.stderr);
  assert.is(got.stdout.trim(), Buffer.from([1, 2]).toString('base64'));
  const full = spawnSync(cli, ['get', '--key-base64', file, raw[0].toString('base64')], { encoding: 'utf8' });
  assert.is(full.stdout.trim(), 'replaced');
});

test.run();
