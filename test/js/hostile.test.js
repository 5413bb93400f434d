'use strict';
// Damaged files through the JS API: bit flips, junk and truncations of a valid file. Opening and
// using them gives values or MmapObjErrors, never a crash (the child process must exit 0). The C
// side has the full fuzzer; this checks the binding's handling of every error path it meets.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { SharedMap } = require('../..');
const { setup, childEnv } = require('./helpers');

const t = setup('hostile');
const { test } = t;

function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

test('bit flips, junk and truncations: values or MmapObjErrors, no crash', () => {
  const good = path.join(t.dir, 'good.mmo');
  const w = SharedMap.create(good, { fileSize: 64 << 10, buckets: 64 });
  for (let i = 0; i < 300; i++) w.set(`key:${i}`, i % 3 ? `value ${i}`.repeat(1 + (i % 7)) : i % 2 ? i : Buffer.alloc(i % 50, i));
  w.close();
  const bytes = fs.readFileSync(good);
  const r = rng(20261125);
  const files = [];
  for (let i = 0; i < 60; i++) {
    const b = Buffer.from(bytes);
    const kind = i % 4;
    if (kind === 0) {
      // flips anywhere past the checksummed identity block
      for (let j = 0; j < 1 + r(40); j++) b[64 + r(b.length - 64)] ^= 1 << r(8);
    } else if (kind === 1) {
      // junk over a range of the data region
      const at = 8192 + r(b.length - 8192);
      for (let j = at; j < Math.min(b.length, at + 1 + r(512)); j++) b[j] = r(256);
    } else if (kind === 2) {
      // flips in the header's reader-hot and writer fields
      for (let j = 0; j < 1 + r(4); j++) b[64 + r(192)] ^= 1 << r(8);
    }
    const f = path.join(t.dir, `bad${i}.mmo`);
    // kind 3: truncated somewhere
    fs.writeFileSync(f, kind === 3 ? b.subarray(0, r(b.length)) : b);
    files.push(f);
  }
  const res = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'hostile-child.js'), ...files], {
    env: childEnv(),
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.is(res.signal, null, `the child died of ${res.signal}: ${res.stderr}`);
  assert.is(res.status, 0, res.stderr);
  const counts = JSON.parse(res.stdout);
  assert.is(counts.files, 60);
  assert.ok(counts.refused > 0, 'some damaged files are refused at open');
  assert.ok(counts.opened > 0, 'some open');
  assert.ok(counts.errors + counts.verifyFailed > 0, 'damage is reported');
  console.log(`    hostile: ${JSON.stringify(counts)}`);
});

test('a damaged table that lists a record twice: enumeration lists the key once', () => {
  const file = path.join(t.dir, 'twice.mmo');
  const w = SharedMap.create(file, { buckets: 8 });
  w.set('a', 'A');
  w.set('b', 'B');
  w.close();
  // docs/FORMAT.md: table_ref at byte 72 (offset in bits 0..47, log2 of the slot count in 56..63),
  // slots (u64) from the table's byte 16; 0 is an empty slot.
  const b = fs.readFileSync(file);
  const ref = b.readBigUInt64LE(72);
  const off = Number(ref & 0xffffffffffffn);
  const slots = 2 ** Number(ref >> 56n);
  const at = (i) => off + 16 + 8 * i;
  let used = -1;
  let empty = -1;
  for (let i = 0; i < slots; i++) {
    const v = b.readBigUInt64LE(at(i));
    if (v > 1n && used < 0) used = i;
    if (v === 0n && empty < 0) empty = i;
  }
  assert.ok(used >= 0 && empty >= 0);
  b.writeBigUInt64LE(b.readBigUInt64LE(at(used)), at(empty));
  fs.writeFileSync(file, b);
  const { Open } = require('../..');
  const o = new Open(file);
  const m = SharedMap.open(file);
  assert.is([...m.keys()].length, 3, 'the C iterator does produce the record twice');
  assert.equal(Object.keys(o).sort(), ['a', 'b']);
  assert.equal({ ...o }, { a: 'A', b: 'B' });
  o.close();
  m.close();
});

test.run();
