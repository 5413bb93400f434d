'use strict';
// Node smoke test of the Windows build, run by node.exe under Wine (test/run-wine.sh): two node.exe
// processes, each the writer of its own map and a live reader of the other's.
//
//   node node-smoke.js one|two DIR
//
// `one` creates DIR/one.mmo as its only writer ({ exclusive: true }), `two` creates DIR/two.mmo
// (shared: other writers may join); each sets values of every kind, opens the other's file as soon
// as it exists and checks the other's values, then writes an acknowledgement into its own map and
// waits (live, through its reader handle) for the other's acknowledgement. So values cross both
// ways between processes that are both running. `two` also checks that a second writer of one.mmo
// is refused while `one` holds it exclusively; `one` joins two.mmo as a second writer and sets a
// key there, which `two` reads through its own writer handle. Prints one line per step; exits 0
// when every check passed. Every wait is bounded.

const fs = require('fs');
const path = require('path');
const { Create, Open, library } = require('mmapobj');

const [role, dir] = process.argv.slice(2);
if ((role !== 'one' && role !== 'two') || !dir) {
  console.error('usage: node node-smoke.js one|two DIR');
  process.exit(2);
}
const other = role === 'one' ? 'two' : 'one';
const mine = path.join(dir, `${role}.mmo`);
const theirs = path.join(dir, `${other}.mmo`);

function log(msg) {
  console.log(`${role}: ${msg}`);
}

function check(cond, what) {
  if (!cond) {
    console.error(`${role}: FAIL: ${what}`);
    process.exit(1);
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits (bounded) until fn() returns a value other than undefined. */
function waitFor(what, fn, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    check(Date.now() < end, `${what}: not within ${seconds} s`);
    sleep(20);
  }
}

log(`platform ${process.platform}-${process.arch}, node ${process.version}, library ${library.path} ${library.version}`);
check(process.platform === 'win32', 'runs as a Windows process');

const w = role === 'one' ? new Create(mine, { exclusive: true }) : new Create(mine);
w.from = role;
w.number = role === 'one' ? 1.5 : -2.25;
w.bytes = Buffer.from(role === 'one' ? [1, 2, 3] : [250, 0, 7, 9]);
w.text = `héllo from ${role} ✓ \u{1F600}`;
log(`created ${mine} and wrote 4 values`);

// the other's file, opened as soon as it exists
const r = waitFor(`${theirs} to exist and open`, () => {
  if (!fs.existsSync(theirs)) return undefined;
  try {
    const o = new Open(theirs);
    return o.from === other ? o : (o.close(), undefined);
  } catch (e) {
    return undefined; // still being created
  }
});
check(r.from === other, `their from is ${other}`);
check(r.number === (other === 'one' ? 1.5 : -2.25), `their number (${r.number})`);
check(Buffer.compare(r.bytes, Buffer.from(other === 'one' ? [1, 2, 3] : [250, 0, 7, 9])) === 0, 'their bytes');
check(r.text === `héllo from ${other} ✓ \u{1F600}`, `their text (${r.text})`);
// (their acknowledgement and done flag may be there already)
const keys = Object.keys(r).filter((k) => k !== 'ack' && k !== 'done' && k !== 'joined');
check(keys.sort().join(',') === 'bytes,from,number,text', `their keys (${Object.keys(r)})`);
log(`opened ${theirs} and read its 4 values`);

if (role === 'two') {
  let refused = null;
  try {
    new Create(theirs).close();
  } catch (e) {
    refused = e;
  }
  check(refused && refused.code === 'MMAPOBJ_E_LOCKED', `a second writer of ${theirs} is refused (${refused && refused.code})`);
  log(`a second writer of ${theirs} got ${refused.code}`);
} else {
  const joined = new Create(theirs); // two.mmo is shared: a second writer joins it
  joined.joined = 'one wrote this into two.mmo';
  joined.close();
  log(`joined ${theirs} as a second writer and set a key`);
}

if (role === 'two') {
  waitFor('one to join as a writer', () => (w.joined === 'one wrote this into two.mmo' ? true : undefined));
  log(`read the key one set in ${mine}: ${w.joined}`);
}

// acknowledge, then wait for theirs: seen live through the reader handle
w.ack = `${role} saw ${other}`;
waitFor(`${other}'s acknowledgement`, () => (r.ack === `${other} saw ${role}` ? true : undefined));
log(`saw ${other}'s acknowledgement live: ${r.ack}`);

// the last one to see the other's acknowledgement must not close before the other has seen its
// own: wait until the other says it is done reading
w.done = 1;
waitFor(`${other} to finish`, () => (r.done === 1 ? true : undefined));
r.close();
w.close();
log('OK');
