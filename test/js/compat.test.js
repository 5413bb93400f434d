'use strict';
// mmap-object 1.5.0's own mocha suite, unchanged, against require('mmapobj/mmap-object'): exactly
// the tests listed in test/compat/expected-failures.js fail, each with its expected message, and
// every other test passes. The suite comes from npm's cache (fetched once; see test/compat/upstream.js).
const { suite } = require('uvu');
const fs = require('fs');
const path = require('path');
const assert = require('uvu/assert');
const { spawnSync } = require('child_process');
const { runUpstream, upstreamReadme } = require('../compat/upstream');
const { tempDir, cleanup, childEnv, ROOT } = require('./helpers');
const EXPECTED = require('../compat/expected-failures');

const test = suite('compat');

test("mmap-object 1.5.0's suite passes but for the tests that cannot carry over", () => {
  const res = runUpstream();
  const failed = res.failures.map((f) => f.title).sort();
  assert.equal(failed, EXPECTED.map((e) => e.title).sort(), JSON.stringify(res.failures, null, 1));
  for (const e of EXPECTED) {
    const f = res.failures.find((x) => x.title === e.title);
    assert.match(String(f.message), e.message, `${e.title}: ${f.message}`);
  }
  assert.equal(res.pending, []);
  // 53 tests: 42 pass, 9 fail, and 2 do not run because their "before all" hook fails.
  assert.is(res.passes.length, 42, res.passes.join('\n'));
  const hooks = res.failures.filter((f) => /"(before|after) all" hook/.test(f.title)).length;
  const failing = res.failures.length - hooks;
  assert.is(res.defined, 53);
  // docs/API.md says so.
  const md = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'API.md'), 'utf8');
  const m = /passes (\d+) of its (\d+) tests; of the (\d+) others\s+(\d+) fail and (\d+) do not run/.exec(md);
  assert.ok(m, "docs/API.md's sentence on the suite");
  assert.equal(m.slice(1).map(Number), [res.passes.length, res.defined, res.defined - res.passes.length, failing,
    res.defined - res.passes.length - failing]);
});

test("mmap-object 1.5.0's README examples run against mmapobj/mmap-object as require('mmap-object')", () => {
  const blocks = [...upstreamReadme().matchAll(/```(?:js|javascript)\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.is(blocks.length, 6);
  const dir = tempDir('upstream-readme');
  try {
    fs.mkdirSync(path.join(dir, 'node_modules', 'mmap-object'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'mmapobj'));
    fs.writeFileSync(path.join(dir, 'node_modules', 'mmap-object', 'index.js'), "module.exports = require('mmapobj/mmap-object');\n");
    const run = (src) => {
      // The README's /tmp/sharedmem becomes a file of this directory; fragments get their `Shared`.
      const code = (src.includes("require('mmap-object')") ? '' : "const Shared = require('mmap-object')\n") +
        src.replaceAll('/tmp/sharedmem', 'sharedmem');
      const env = childEnv({ NO_COLOR: '1' });
      delete env.FORCE_COLOR; // uvu's colours would reach console.log
      const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, env, encoding: 'utf8' });
      assert.is(r.status, 0, `${code}\n${r.stderr}`);
      return r.stdout;
    };
    // Usage: write, erase a key, read.
    assert.is(run(blocks[0]), 'My value is a string value\nMy other value is a buffer value, supporting Unicode™\n');
    // Create a 500K map for 300 objects (kilobytes), then close it with a callback.
    assert.is(run(`${blocks[1]}\nobj.sharedkey = 'shared value'\nconsole.log(obj.get_size())\n${blocks[3]}`), '512000\n');
    assert.is(run(`${blocks[2]}\nconsole.log(obj.sharedkey)`), 'shared value\n');
    // Iteration over 'filename' (written by the usage example; 'useless key' stays: it erased 'useless_key').
    assert.equal(run(blocks[4]).trimEnd().split('\n').sort(),
      ['new_key => a string value', 'new_property => a buffer value, supporting Unicode™', 'useless key => 0']);
    // isData while iterating names: only the data.
    assert.is(run(blocks[5]), 'sharedkey: shared value\n');
  } finally {
    cleanup(dir);
  }
});

test.run();
