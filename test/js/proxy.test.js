'use strict';
// The Create/Open Proxy: mmap-object's API and texts, methods that cannot be deleted or
// overwritten, and enumeration (Object.keys, for..in, in, hasOwnProperty, descriptors, JSON, spread).
const assert = require('uvu/assert');
const path = require('path');
const { Create, Open, SharedMap, mapOf } = require('../..');
const { setup, thrown } = require('./helpers');

const t = setup('proxy');
const { test, fresh } = t;

const METHODS = ['close', 'isOpen', 'isClosed', 'get_free_memory', 'get_size', 'bucket_count',
  'max_bucket_count', 'load_factor', 'max_load_factor', 'fileFormatVersion', 'isData', 'toString',
  'valueOf', 'propertyIsEnumerable'];

function filled() {
  const file = fresh();
  const o = new Create(file);
  o.first = 'value for first';
  o.second = 0.207879576;
  o[12345] = 'numberkey';
  o.b = Buffer.from('bytes');
  return { file, o };
}

test('Create/Open without new throw mmap-object texts', () => {
  const file = fresh();
  let e = thrown(() => Create(file));
  assert.instance(e, TypeError);
  assert.is(e.message, 'Create must be called as a constructor.');
  e = thrown(() => Open(file));
  assert.is(e.message, 'Open must be called as a constructor.');
});

test('property get/set/delete and undefined for missing keys', () => {
  const { o } = filled();
  assert.is(o.first, 'value for first');
  assert.is(o['second'], 0.207879576);
  assert.is(o[12345], 'numberkey');
  assert.is(o.nothing, undefined);
  o.samekey = 'first value';
  o.samekey = o.samekey + ' and a new value too';
  assert.is(o.samekey, 'first value and a new value too');
  assert.is(delete o.samekey, true);
  assert.is(o.samekey, undefined);
  assert.is(delete o.never_there, true);
  o.close();
});

test('methods: present, non-enumerable, not deletable, not overwritable, shadow stored keys', () => {
  const { file, o } = filled();
  for (const m of METHODS) {
    assert.type(o[m], 'function', m);
    assert.ok(m in o, `${m} in obj`);
    assert.is(Object.prototype.propertyIsEnumerable.call(o, m), false);
    let e = thrown(() => {
      o[m] = 'x';
    });
    assert.instance(e, TypeError);
    assert.match(e.message, /method/);
    e = thrown(() => {
      delete o[m];
    });
    assert.instance(e, TypeError);
    assert.type(o[m], 'function');
  }
  assert.not.ok(Object.keys(o).some((k) => METHODS.includes(k)));
  // The prototypes themselves cannot be changed either.
  const desc = Object.getOwnPropertyDescriptor(Create.prototype, 'close');
  assert.is(desc.writable, false);
  assert.is(desc.configurable, false);
  assert.is(desc.enumerable, false);
  // A stored key named like a method is shadowed through the Proxy, reachable through SharedMap.
  mapOf(o).set('close', 'stored under a method name');
  assert.type(o.close, 'function');
  assert.is(mapOf(o).get('close'), 'stored under a method name');
  assert.is(o.isData('close'), false);
  assert.is(o.isData('first'), true);
  assert.is(o.isData('missing'), true, "isData is mmap-object's: not a method name");
  assert.not.ok(Object.keys(o).includes('close'));
  o.close();
  const r = SharedMap.open(file);
  assert.is(r.get('close'), 'stored under a method name');
  r.close();
});

test('informational methods', () => {
  const file = fresh();
  const o = new Create(file, 1 << 20, 300);
  const s = mapOf(o).stats();
  assert.is(o.get_size(), s.fileSize);
  assert.ok(o.get_size() >= 1 << 20);
  const free0 = o.get_free_memory();
  assert.ok(free0 > 0);
  o.big = 'D'.repeat(20000);
  assert.ok(free0 - o.get_free_memory() >= 20000, 'storing 20 kB uses free memory');
  assert.ok(o.bucket_count() >= 300);
  assert.ok(o.max_bucket_count() >= o.bucket_count());
  assert.is(o.load_factor(), 1 / o.bucket_count());
  assert.ok(o.max_load_factor() > 0 && o.max_load_factor() <= 1);
  assert.is(o.fileFormatVersion(), 1);
  assert.is(o.isOpen(), true);
  assert.is(o.isClosed(), false);
  o.close();
  assert.is(o.isOpen(), false);
  assert.is(o.isClosed(), true);
});

test('enumeration on Create: keys, for..in, in, hasOwnProperty, descriptors, JSON, spread', () => {
  const { o } = filled();
  const expected = ['first', 'second', '12345', 'b'].sort();
  assert.equal(Object.keys(o).sort(), expected);
  const forIn = [];
  for (const k in o) forIn.push(k);
  assert.equal(forIn.sort(), expected);
  assert.ok('first' in o);
  assert.not.ok('nope' in o);
  assert.ok(o.hasOwnProperty('first'));
  assert.not.ok(o.hasOwnProperty('nope'));
  assert.not.ok(o.hasOwnProperty('close'), 'methods are inherited');
  assert.ok(Object.prototype.hasOwnProperty.call(o, '12345'));
  assert.ok(Object.hasOwn(o, 'second'));
  assert.ok(o.propertyIsEnumerable('first'));
  const d = Object.getOwnPropertyDescriptor(o, 'first');
  assert.equal(d, { value: 'value for first', writable: true, enumerable: true, configurable: true });
  assert.is(Object.getOwnPropertyDescriptor(o, 'nope'), undefined);
  const plain = { ...o };
  assert.equal(Object.keys(plain).sort(), expected);
  assert.is(plain.second, 0.207879576);
  assert.ok(plain.b.equals(Buffer.from('bytes')));
  const json = JSON.parse(JSON.stringify(o));
  assert.is(json.first, 'value for first');
  assert.is(json[12345], 'numberkey');
  assert.equal(Object.entries(o).length, 4);
  assert.equal(Object.values(o).filter((v) => v === 'numberkey'), ['numberkey']);
  const copy = Object.assign({}, o);
  assert.is(copy.first, 'value for first');
  o.close();
});

test('enumeration on Open: read-only descriptors, same keys, live', () => {
  const { file, o } = filled();
  const r = new Open(file);
  assert.equal(Object.keys(r).sort(), Object.keys(o).sort());
  const d = Object.getOwnPropertyDescriptor(r, 'first');
  assert.is(d.writable, false);
  assert.is(d.enumerable, true);
  assert.ok(r.propertyIsEnumerable('first'));
  o.later = 'added after open';
  assert.ok(Object.keys(r).includes('later'));
  assert.is(r.later, 'added after open');
  delete o.later;
  assert.not.ok('later' in r);
  r.close();
  o.close();
});

test('descriptors after Object.keys see later writes (no stale snapshot)', () => {
  const { o } = filled();
  const keys = Object.keys(o);
  o[keys[0]] = 'changed';
  assert.is(Object.getOwnPropertyDescriptor(o, keys[0]).value, 'changed');
  assert.is(o[keys[0]], 'changed');
  // A write through the SharedMap (or any other map of this thread) drops the snapshot too.
  const again = Object.keys(o);
  mapOf(o).set(again[0], 'via SharedMap');
  assert.is(Object.getOwnPropertyDescriptor(o, again[0]).value, 'via SharedMap');
  const third = Object.keys(o);
  delete o[third[0]];
  assert.is(Object.getOwnPropertyDescriptor(o, third[0]), undefined);
  o.close();
});

test('Open is read-only with mmap-object texts; Symbol properties are refused', () => {
  const { file, o } = filled();
  const r = new Open(file);
  let e = thrown(() => {
    r.my_string_property = 'my value';
  });
  assert.is(e.message, 'Read-only object.');
  e = thrown(() => {
    delete r.first;
  });
  assert.is(e.message, 'Cannot delete from read-only object.');
  e = thrown(() => {
    delete r[12345];
  });
  assert.is(e.message, 'Cannot delete from read-only object.');
  e = thrown(() => {
    o[Symbol('first')] = 'what';
  });
  assert.is(e.message, 'Symbol properties are not supported.');
  e = thrown(() => {
    delete o[Symbol('first')];
  });
  assert.is(e.message, 'Symbol properties are not supported for delete.');
  e = thrown(() => {
    Object.defineProperty(o, Symbol('x'), { value: 1 });
  });
  assert.is(e.message, 'Symbol properties are not supported.');
  assert.is(o[Symbol('unknown')], undefined, 'reading an unknown symbol is undefined');
  assert.is(r.first, 'value for first');
  r.close();
  o.close();
});

test('prototypes: instanceof, all Creates share one, Object.prototype methods reachable', () => {
  const a = new Create(fresh());
  const b = new Create(fresh());
  assert.ok(a instanceof Create);
  assert.not.ok(a instanceof Open);
  assert.is(Object.getPrototypeOf(a), Object.getPrototypeOf(b));
  assert.is(Object.getPrototypeOf(a), Create.prototype);
  assert.is(a.close, b.close);
  assert.type(a.toString, 'function');
  assert.is(String(a), '[object Object]');
  assert.is(`${a.missing}`, 'undefined');
  a.hasOwnProperty = 'stored hasOwnProperty';
  assert.is(a.hasOwnProperty, 'stored hasOwnProperty', 'stored keys shadow Object.prototype names');
  delete a.hasOwnProperty;
  assert.type(a.hasOwnProperty, 'function');
  const r = new Open(a.isOpen() && mapOf(a).path);
  assert.ok(r instanceof Open);
  assert.is(Object.getPrototypeOf(r), Open.prototype);
  r.close();
  a.close();
  b.close();
});

test('defineProperty stores data values; accessors, non-configurable and freeze are refused', () => {
  const { o } = filled();
  Object.defineProperty(o, 'defined', { value: 'via defineProperty', writable: true, enumerable: true, configurable: true });
  assert.is(o.defined, 'via defineProperty');
  let e = thrown(() => Object.defineProperty(o, 'acc', { get: () => 1 }));
  assert.instance(e, TypeError);
  e = thrown(() => Object.defineProperty(o, 'nc', { value: 'x', configurable: false }));
  assert.instance(e, TypeError);
  assert.is(o.nc, undefined);
  e = thrown(() => Object.freeze(o));
  assert.instance(e, TypeError);
  e = thrown(() => Object.setPrototypeOf(o, null));
  assert.instance(e, TypeError);
  assert.is(Object.isExtensible(o), true);
  o.close();
});

test('for..of gives [key, value] pairs; spread of entries', () => {
  const { o } = filled();
  const seen = {};
  for (const [key, value] of o) seen[key] = value;
  assert.equal(Object.keys(seen).sort(), ['12345', 'b', 'first', 'second']);
  assert.is(seen.first, 'value for first');
  assert.is([...o].length, 4);
  o.close();
});

test('util.inspect shows a summary, not internals', () => {
  const { o } = filled();
  const s = require('util').inspect(o);
  assert.match(s, /^Create\(/);
  assert.match(s, /value for first/);
  o.close();
  assert.match(require('util').inspect(o), /\[closed\]/);
});

test('a Create object works as a prototype-less record in common idioms', () => {
  const { o } = filled();
  const m = new Map(Object.entries(o));
  assert.is(m.get('first'), 'value for first');
  assert.is(Reflect.ownKeys(o).length, 4);
  assert.ok(Array.isArray(Object.getOwnPropertyNames(o)));
  assert.is(typeof o.then, 'undefined', 'not a thenable unless a key "then" is stored');
  o.close();
});

test.run();
