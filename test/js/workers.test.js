'use strict';
// worker_threads: the package loads in workers; a reader in a worker sees the main thread's writes
// at once; a writer in a worker; several workers reading while the main thread writes.
const assert = require('uvu/assert');
const path = require('path');
const { Worker } = require('worker_threads');
const { Create, Open } = require('../..');
const { setup } = require('./helpers');
const { workerPeer } = require('./fixtures/peerclient');

const t = setup('workers');
const { test, fresh } = t;

async function ok(p, req) {
  const res = await p.request(req);
  if (res.error) throw new Error(`worker: ${res.error}`);
  return res;
}

async function worker() {
  const p = workerPeer();
  await p.ready();
  return p;
}

function exited(p) {
  return new Promise((resolve) => p.endpoint.on('exit', resolve));
}

test('a reader in a worker sees the main thread writes as soon as they return', async () => {
  const file = fresh();
  const w = new Create(file);
  const p = await worker();
  await ok(p, { op: 'open', file });
  for (let i = 0; i < 100; i++) {
    w[`t${i}`] = `thread value ${i}`;
    const got = await ok(p, { op: 'get', key: `t${i}` });
    assert.is(got.value, `thread value ${i}`);
    assert.is(got.viaMap, `thread value ${i}`);
  }
  const done = exited(p);
  await ok(p, { op: 'close' });
  assert.is(await done, 0);
  w.close();
});

test('a writer in a worker, readers in the main thread and in other workers', async () => {
  const file = fresh();
  const writer = await worker();
  await ok(writer, { op: 'create', file });
  await ok(writer, { op: 'setMany', prefix: 'm', from: 0, to: 2000 });
  const r = new Open(file);
  assert.is(r.m1999, 'mvalue-1999');
  const readers = await Promise.all([worker(), worker()]);
  for (const rd of readers) await ok(rd, { op: 'open', file });
  await ok(writer, { op: 'setMany', prefix: 'n', from: 0, to: 2000 });
  const checks = await Promise.all(readers.map((rd) => ok(rd, { op: 'checkMany', prefix: 'n', from: 0, to: 2000 })));
  for (const c of checks) {
    assert.is(c.bad, 0);
    assert.is(c.size, 4000);
  }
  assert.is(Object.keys(r).length, 4000);
  for (const p of [...readers, writer]) {
    const done = exited(p);
    await ok(p, { op: 'close' });
    assert.is(await done, 0);
  }
  r.close();
  // The worker's writer is gone with its close: the file can be had alone.
  const again = new Create(file, { exclusive: true });
  assert.is(again.n0, 'nvalue-0');
  again.close();
});

/** The descriptors of this process open on `file` (by inode: a new file's name may read "(deleted)"). */
function fdsOn(file) {
  const fs = require('fs');
  const { dev, ino } = fs.statSync(file);
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      const st = fs.statSync(`/proc/self/fd/${fd}`);
      return st.dev === dev && st.ino === ino;
    } catch (_) {
      return false;
    }
  });
}

test('worker.terminate() releases the worker handles and its writer lock (issue 9 defect 6)', async () => {
  const file = fresh();
  const wk = new Worker(
    `const { parentPort } = require('worker_threads');
     const { Create, Open, SharedMap } = require(${JSON.stringify(path.resolve(__dirname, '../..'))});
     const o = new Create(${JSON.stringify(file)});
     o.left = 'by a terminated worker';
     const r = new Open(${JSON.stringify(file)});
     const it = SharedMap.open(${JSON.stringify(file)}).keys(); // an iterator left half-way
     it.next();
     // closes with a callback (in a worker the close runs at once, the callback later)
     for (let i = 0; i < 20; i++) SharedMap.open(${JSON.stringify(file)}).close(() => {});
     SharedMap.open(${JSON.stringify(file)}).close((err) => parentPort.postMessage(err === null ? 'ready' : String(err)));
     setInterval(() => {}, 1000); // never ends by itself`,
    { eval: true }
  );
  const ready = await new Promise((resolve, reject) => {
    wk.once('message', resolve);
    wk.once('error', reject);
  });
  assert.is(ready, 'ready');
  assert.ok(fdsOn(file).length >= 3);
  await wk.terminate();
  // The library closed what the worker left open when its thread ended.
  assert.equal(fdsOn(file), []);
  const w = new Create(file); // MMAPOBJ_E_LOCKED while the worker's writer handle stays open
  assert.is(w.left, 'by a terminated worker');
  w.close();
});

for (const how of ['ends', 'calls process.exit()']) {
  test(`a worker that ${how} without closing releases its writer lock`, async () => {
    const file = fresh();
    const tail = {
      ends: '',
      'calls process.exit()': 'process.exit(0);',
    }[how];
    const code = await new Promise((resolve, reject) => {
      const wk = new Worker(
        `const { Create } = require(${JSON.stringify(path.resolve(__dirname, '../..'))});
         const o = new Create(${JSON.stringify(file)});
         o.left = 'by a worker';
         ${tail}`,
        { eval: true }
      );
      wk.on('error', reject);
      wk.on('exit', resolve);
    });
    assert.is(code, 0);
    const w = new Create(file, { exclusive: true }); // MMAPOBJ_E_LOCKED if the worker's handle were still open
    assert.is(w.left, 'by a worker');
    w.close();
  });
}

test.run();
