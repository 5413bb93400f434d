'use strict';
// Several processes on one file: a reader in another process sees each write as soon as the set
// returns, follows the file as it grows many times over, and a writer killed with SIGKILL leaves a
// file that the next writer takes over with its data.
const assert = require('uvu/assert');
const path = require('path');
const fs = require('fs');
const { fork } = require('child_process');
const { Create, Open, SharedMap } = require('../..');
const { setup, childEnv } = require('./helpers');
const { forkPeer } = require('./fixtures/peerclient');

const t = setup('interprocess');
const { test, fresh } = t;

async function peer() {
  const p = forkPeer(childEnv());
  await p.ready();
  return p;
}

async function ok(p, req) {
  const res = await p.request(req);
  if (res.error) throw new Error(`peer: ${res.error}`);
  return res;
}

test('a reader process sees every set and delete as soon as it returns', async () => {
  const file = fresh();
  const w = new Create(file);
  w.seed = 'x';
  const p = await peer();
  await ok(p, { op: 'open', file });
  for (let i = 0; i < 200; i++) {
    const key = `live:${i}`;
    const value = i % 2 ? `value ${i} \u{1F600}` : i * 1.25;
    w[key] = value;
    const got = await ok(p, { op: 'get', key });
    assert.is(got.value, value, `proxy read of ${key}`);
    assert.is(got.viaMap, value, `SharedMap read of ${key}`);
    if (i % 3 === 0) {
      w[key] = 'overwritten';
      assert.is((await ok(p, { op: 'get', key })).value, 'overwritten');
    }
    if (i % 5 === 0) {
      delete w[key];
      assert.is((await ok(p, { op: 'has', key })).value, false);
    }
  }
  const keys = await ok(p, { op: 'keys' });
  assert.is(keys.value, Object.keys(w).length);
  assert.is(keys.size, Object.keys(w).length);
  await ok(p, { op: 'close' });
  w.close();
});

test('a reader process follows the file as the writer grows it many times over', async () => {
  const file = fresh();
  const w = new Create(file, { fileSize: 64 << 10, buckets: 16 });
  w.first = 'before growth';
  const size0 = fs.statSync(file).size;
  const p = await peer();
  await ok(p, { op: 'open', file });
  const step = 5000;
  for (let from = 0; from < 40000; from += step) {
    for (let i = from; i < from + step; i++) w[`g${i}`] = `gvalue-${i}`;
    const res = await ok(p, { op: 'checkMany', prefix: 'g', from: 0, to: from + step });
    assert.is(res.bad, 0, `reader saw all of 0..${from + step}`);
    assert.is(res.size, from + step + 1);
  }
  const size1 = fs.statSync(file).size;
  assert.ok(size1 >= 8 * size0, `file grew from ${size0} to ${size1}`);
  assert.is((await ok(p, { op: 'get', key: 'first' })).value, 'before growth');
  await ok(p, { op: 'close' });
  w.close();
});

test('a writer in another process; readers here see its data; many readers at once', async () => {
  const file = fresh();
  const writer = await peer();
  await ok(writer, { op: 'create', file });
  await ok(writer, { op: 'setMany', prefix: 'c', from: 0, to: 3000 });
  const r = new Open(file);
  assert.is(Object.keys(r).length, 3000);
  assert.is(r.c2999, 'cvalue-2999');
  const readers = await Promise.all([peer(), peer()]);
  for (const rd of readers) await ok(rd, { op: 'open', file });
  await ok(writer, { op: 'setMany', prefix: 'd', from: 0, to: 2000 });
  for (const rd of readers) {
    const res = await ok(rd, { op: 'checkMany', prefix: 'd', from: 0, to: 2000 });
    assert.is(res.bad, 0);
    assert.is(res.size, 5000);
  }
  assert.is(r.d1999, 'dvalue-1999');
  // A second writer here shares the file with the other process's; one that wants it alone is
  // refused while the other process has it.
  const w2 = new Create(file);
  w2.here = 'written next to the other process';
  assert.is(r.here, 'written next to the other process');
  w2.close();
  let err;
  try {
    new Create(file, { exclusive: true });
  } catch (e) {
    err = e;
  }
  assert.is(err && err.codeName, 'MMAPOBJ_E_LOCKED');
  for (const rd of readers) await ok(rd, { op: 'close' });
  await ok(writer, { op: 'close' });
  r.close();
});

test('a writer killed with SIGKILL: its data stays, the next writer takes over', async () => {
  const file = fresh();
  const writer = await peer();
  await ok(writer, { op: 'create', file });
  await ok(writer, { op: 'setMany', prefix: 'k', from: 0, to: 1000 });
  const killed = new Promise((resolve) => writer.endpoint.on('exit', (code, signal) => resolve(signal)));
  writer.endpoint.kill('SIGKILL');
  assert.is(await killed, 'SIGKILL');
  const r = SharedMap.open(file);
  assert.is(r.size, 1000);
  assert.is(r.get('k999'), 'kvalue-999');
  r.close();
  const w = SharedMap.create(file); // the lock died with the process
  assert.is(w.size, 1000);
  w.verify();
  w.set('after', 'crash');
  w.close();
  const o = new Open(file); // (closed: a reader left to the GC would close its descriptor later,
  assert.is(o.after, 'crash'); // in the middle of another test's count of descriptors)
  o.close();
});

test('child_process.fork of the README writer/reader pair', async () => {
  const file = fresh();
  const script = path.join(t.dir, 'rw.js');
  fs.writeFileSync(
    script,
    `const Shared = require(${JSON.stringify(path.resolve(__dirname, '../..'))});
     const o = new Shared.Create(process.argv[2]);
     o.from_child = 'written by ' + process.pid;
     o.close();`
  );
  const code = await new Promise((resolve) => fork(script, [file], { env: childEnv() }).on('exit', resolve));
  assert.is(code, 0);
  const r = new Open(file);
  assert.match(r.from_child, /^written by \d+$/);
  r.close();
});

test.run();
