'use strict';
// Concurrent stress (the JS twin of test/c/test_concurrency.c): one writer process sets,
// overwrites and deletes self-checking values while it grows the file many times over, and two
// reader processes look up and iterate as fast as they can. Fails on any torn, mixed, foreign or
// stale value, any crash, or a reader that stops following the file. MMAPOBJ_TEST_LONG=1 runs
// for a minute instead of a few seconds.
const assert = require('uvu/assert');
const path = require('path');
const { spawn } = require('child_process');
const { setup, childEnv } = require('./helpers');

const t = setup('stress');
const { test } = t;
const FIX = path.join(__dirname, 'fixtures');
const MS = process.env.MMAPOBJ_TEST_LONG ? 60000 : 3000;

function run(script, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(FIX, script), ...args], { env: childEnv() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

async function waitFor(file) {
  const { SharedMap } = require('../..');
  for (let i = 0; i < 3000; i++) {
    try {
      const m = SharedMap.open(file);
      const started = m.get('_started');
      m.close();
      if (started !== undefined) return;
    } catch (_) {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the writer did not start');
}

test(`one writer, two readers, ${MS} ms: every value checked, nothing torn, mixed or stale`, async () => {
  const file = path.join(t.dir, 'stress.mmo');
  const writer = run('stress-writer.js', [file, String(MS)]);
  await waitFor(file);
  const readers = [run('stress-reader.js', [file]), run('stress-reader.js', [file])];
  const w = await writer;
  assert.is(w.code, 0, `writer: ${w.signal || ''} ${w.err}`);
  const ws = JSON.parse(w.out);
  assert.ok(ws.grownTo >= 8 * ws.startedAt, `file grew from ${ws.startedAt} to ${ws.grownTo}`);
  for (const rp of readers) {
    const r = await rp;
    const rs = r.out ? JSON.parse(r.out) : {};
    assert.is(r.code, 0, `reader: ${rs.error || ''} ${r.signal || ''} ${r.err}`);
    assert.ok(rs.reads > 1000, `reads checked: ${rs.reads}`);
    assert.ok(rs.iterated > 0, 'the reader iterated');
    assert.equal(rs.final, ws.final, 'after the writer finished, the reader sees its final state');
    console.log(`    stress reader: ${rs.reads} values checked (${rs.iterated} by iteration), writer ops ${ws.ops}`);
  }
});

test.run();
