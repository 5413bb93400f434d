'use strict';
// Several writers on one file (issue 12): writer handles in one thread, in worker threads and in
// other processes write at once; SharedMap#transaction; the exclusive option.
const { suite } = require('uvu');
const assert = require('uvu/assert');
const path = require('path');
const { fork } = require('child_process');
const { Worker } = require('worker_threads');
const { Create, Open, SharedMap } = require('../..');
const { tempDir, cleanup, thrown, childEnv } = require('./helpers');

const test = suite('writers');
let dir;
let n = 0;
const fresh = () => path.join(dir, `w${n++}`);
const CHILD = path.join(__dirname, 'fixtures', 'writer-child.js');

test.before(() => {
  dir = tempDir('writers');
});
test.after(() => cleanup(dir));

/** Forks writer-child.js; resolves messages in order through next(). */
function child(args) {
  const p = fork(CHILD, args, { env: childEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return endpoint(p, 'process');
}

function worker(args) {
  return endpoint(new Worker(CHILD, { workerData: args }), 'worker');
}

function endpoint(p, kind) {
  const queue = [];
  const waiting = [];
  const push = (msg) => (waiting.length ? waiting.shift()(msg) : queue.push(msg));
  p.on('message', push);
  const exited = new Promise((resolve) =>
    p.on('exit', (code, signal) => {
      push({ error: `${kind} exited (${signal || code})` });
      resolve(signal || code);
    })
  );
  return {
    p,
    exited,
    async next(deadlineMs = 60000) {
      const msg = await new Promise((resolve, reject) => {
        if (queue.length) return resolve(queue.shift());
        const t = setTimeout(() => reject(new Error(`${kind}: no message within ${deadlineMs} ms`)), deadlineMs);
        waiting.push((m) => {
          clearTimeout(t);
          resolve(m);
        });
      });
      if (msg.error) throw new Error(`${kind}: ${msg.error}`);
      return msg;
    },
    send: (msg) => (p.send ? p.send(msg) : p.postMessage(msg)),
  };
}

test('two SharedMap writers in one thread both write, and each sees the other', () => {
  const file = fresh();
  const a = SharedMap.create(file);
  const b = SharedMap.create(file); // was MMAPOBJ_E_LOCKED
  for (let i = 0; i < 2000; i++) (i % 2 ? a : b).set(`k${i}`, i % 3 ? `v${i}` : i);
  for (let i = 0; i < 2000; i += 4) assert.ok((i % 8 ? a : b).delete(`k${i}`));
  assert.is(a.size, 1500);
  assert.is(b.size, 1500);
  assert.is(a.get('k3'), 3);
  assert.is(b.get('k5'), 'v5');
  assert.is(a.get('k4'), undefined);
  b.set('k4', 'back');
  assert.is(a.get('k4'), 'back');
  a.verify();
  a.close();
  b.set('after', 'a closed');
  b.verify();
  b.close();
  const r = SharedMap.open(file);
  assert.is(r.size, 1502);
  r.close();
});

test('two Create objects on one file in one thread both work (mmap-object style)', () => {
  const file = fresh();
  const a = new Create(file);
  const b = new Create(file);
  a.one = 'from a';
  b.two = 'from b';
  assert.is(b.one, 'from a');
  assert.is(a.two, 'from b');
  assert.equal(Object.keys(a).sort(), ['one', 'two']);
  delete b.one;
  assert.is(a.one, undefined);
  a.close();
  b.close();
});

test('exclusive: true keeps the file to one writer; the others get E_LOCKED naming the file', () => {
  const file = fresh();
  const x = SharedMap.create(file, { exclusive: true });
  x.set('mode', 'exclusive');
  for (const attempt of [
    () => SharedMap.create(file),
    () => SharedMap.create(file, { exclusive: true }),
    () => new Create(file),
    () => new Create(file, { exclusive: true }),
    () => new Create(file, 0, 0, 0, { exclusive: true }),
  ]) {
    const e = thrown(attempt);
    assert.is(e.codeName, 'MMAPOBJ_E_LOCKED');
    assert.ok(e.message.includes(file), e.message);
  }
  const r = new Open(file); // readers are welcome
  assert.is(r.mode, 'exclusive');
  x.close();
  // shared writers keep an exclusive one out the same way
  const s = new Create(file, 1 << 20, 100, 1 << 30); // positional sizes, shared
  const e = thrown(() => new Create(file, 1 << 20, 100, 1 << 30, { exclusive: true }));
  assert.is(e.codeName, 'MMAPOBJ_E_LOCKED');
  assert.ok(e.message.includes(file), e.message);
  s.close();
  const y = new Create(file, { exclusive: true, maxFileSize: 1 << 30 });
  assert.is(y.mode, 'exclusive');
  y.close();
  r.close();
  // the option is checked
  const bad = thrown(() => SharedMap.create(file, { exclusive: 'yes' }));
  assert.instance(bad, TypeError);
  assert.match(bad.message, /exclusive/);
});

test('transaction: returns fn result, nests, releases on exception (writes made stay)', () => {
  const file = fresh();
  const m = SharedMap.create(file);
  const other = SharedMap.create(file);
  assert.is(m.transaction(() => 42), 42);
  const r = m.transaction(() => {
    m.set('a', 1);
    // a nested call runs inside the outer one, also through another handle of the same file
    const inner = other.transaction(() => {
      other.set('b', m.get('a') + 1);
      return m.transaction(() => 'inner');
    });
    other.set('c', 3);
    return inner;
  });
  assert.is(r, 'inner');
  assert.equal([m.get('a'), m.get('b'), m.get('c')], [1, 2, 3]);
  const boom = new Error('boom');
  const e = thrown(() =>
    m.transaction(() => {
      m.set('made', 'before the throw');
      throw boom;
    })
  );
  assert.is(e, boom);
  assert.is(m.get('made'), 'before the throw');
  // the lock was released: a writer of another thread or process could take it; here, another
  // transaction on the other handle works and so does a plain set
  assert.is(other.transaction(() => other.get('made')), 'before the throw');
  other.set('d', 4);
  // fn must be a function, and synchronous
  assert.instance(thrown(() => m.transaction()), TypeError);
  const async = thrown(() => m.transaction(async () => m.set('async', 1)));
  assert.instance(async, TypeError);
  assert.match(async.message, /synchronous|Promise/);
  m.set('after', 'async refused'); // and the lock is free again
  // readers and closed maps
  const rd = SharedMap.open(file);
  assert.is(thrown(() => rd.transaction(() => 1)).codeName, 'MMAPOBJ_E_READONLY');
  rd.close();
  other.close();
  m.close();
  assert.is(thrown(() => m.transaction(() => 1)).codeName, 'MMAPOBJ_E_CLOSED');
});

test('a counter incremented through transaction by several processes loses nothing', async () => {
  const file = fresh();
  const m = SharedMap.create(file);
  const K = 3;
  const N = 300;
  const kids = [];
  for (let i = 0; i < K; i++) kids.push(child(['counter', file, String(N), String(i)]));
  // meanwhile this process reads: the counter never goes back
  let last = 0;
  let wentBack = null;
  const poll = setInterval(() => {
    const c = m.get('counter') || 0;
    if (c < last && !wentBack) wentBack = `counter went back from ${last} to ${c}`;
    last = c;
  }, 1);
  try {
    for (const k of kids) assert.is((await k.next()).done, N);
  } finally {
    clearInterval(poll);
  }
  assert.is(wentBack, null);
  assert.is(m.get('counter'), K * N);
  const seen = new Set();
  for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) seen.add(m.get(`c:${i}:${j}`));
  assert.is(seen.size, K * N, 'every increment read a distinct previous value');
  m.verify();
  m.close();
});

test('writer processes on disjoint keys, with this process reading as they go', async () => {
  const file = fresh();
  SharedMap.create(file).close();
  const r = SharedMap.open(file);
  const K = 3;
  const N = 5000;
  const kids = [];
  for (let i = 0; i < K; i++) kids.push(child(['disjoint', file, String(N), String(i)]));
  let checked = 0;
  const bad = [];
  const check = () => {
    for (const [k, v] of r) {
      const [, id, j] = k.split(':');
      const [vid, vj, ver] = v.split(':');
      if (vid !== id || vj !== j || !(Number(ver) >= 1)) bad.push(`key ${k} holds ${v}`);
      checked++;
    }
  };
  const poll = setInterval(check, 2);
  const finals = [];
  try {
    for (const k of kids) finals.push((await k.next()).final);
  } finally {
    clearInterval(poll);
  }
  check();
  assert.equal(bad, []);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < 50; j++) assert.is(r.get(`d:${i}:${j}`), `${i}:${j}:${finals[i][j]}`);
  }
  assert.is(r.size, K * 50);
  assert.ok(checked > 0);
  r.verify();
  r.close();
});

test('worker threads write one file at once, counting through transaction', async () => {
  const file = fresh();
  const m = SharedMap.create(file);
  const K = 3;
  const N = 200;
  const ws = [];
  for (let i = 0; i < K; i++) ws.push(worker(['counter', file, String(N), `w${i}`]));
  for (let i = 0; i < N; i++) m.transaction(() => m.set('counter', (m.get('counter') || 0) + 1));
  for (const w of ws) assert.is((await w.next()).done, N);
  for (const w of ws) assert.is(await w.exited, 0);
  assert.is(m.get('counter'), (K + 1) * N);
  m.close();
});

test('a writer SIGKILLed inside a transaction blocks the others only briefly', async () => {
  const file = fresh();
  SharedMap.create(file).close();
  const holder = child(['hold', file]);
  // the holder sets 'holder' inside its transaction: a reader sees it at once
  let holderEnded = null;
  holder.exited.then((how) => (holderEnded = how));
  const m = SharedMap.open(file);
  for (let t = 0; m.get('holder') === undefined; t++) {
    if (holderEnded !== null) throw new Error(`the holder ended (${holderEnded}) before taking the lock`);
    if (t > 6000) throw new Error('the holder did not take the lock within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const setter = child(['setone', file, 'waiter']);
  assert.ok((await setter.next()).opened);
  setter.send({ go: true });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.is(m.get('waiter'), undefined, 'the setter waits for the holder');
  holder.p.kill('SIGKILL');
  assert.is(await holder.exited, 'SIGKILL');
  const { ms } = await setter.next(60000); // a hang detector, not a timing assertion
  assert.is(m.get('waiter'), 'got through');
  assert.is(m.get('holder'), 'was here');
  m.close();
  const w = SharedMap.create(file);
  w.verify();
  w.close();
  void ms;
});

test.run();
