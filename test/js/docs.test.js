'use strict';
// The examples of the seed README (mmap-object's) and of docs/API.md run, each in a fresh
// directory, against this package (resolved as 'mmapobj' through a node_modules link).
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup, childEnv } = require('./helpers');
const { runCopyScript } = require('../compat/claims');
const EXPECTED_UPSTREAM_FAILURES = require('../compat/expected-failures');

const t = setup('docs', { linkPackage: true });
const { test } = t;
let n = 0;

/** Runs JS source as a CommonJS script in a fresh directory; returns stdout. */
function runExample(src, cwd = path.join(t.dir, `ex${n++}`)) {
  fs.mkdirSync(cwd, { recursive: true });
  const file = path.join(cwd, 'example.js');
  fs.writeFileSync(file, src);
  const env = childEnv({ NODE_PATH: path.join(t.dir, 'node_modules') });
  delete env.FORCE_COLOR; // uvu's colours would reach console.log of the examples
  env.NO_COLOR = '1';
  const r = spawnSync(process.execPath, [file], { cwd, env, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`example failed (${r.status}):\n${src}\n--- stderr:\n${r.stderr}`);
  return r.stdout;
}

function jsBlocks(markdown) {
  return [...markdown.matchAll(/```(?:js|javascript)\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('seed README (mmap-object): write then read a file', () => {
  // The README's usage example, split in its two halves as it is written.
  const write = `
    const Shared = require('mmapobj')
    const shared_object = new Shared.Create('filename')
    shared_object['new_key'] = 'some value'
    shared_object.new_property = 'some other value'
    shared_object.close()`;
  const read = `
    const Shared = require('mmapobj')
    const shared_object = new Shared.Open('filename')
    console.log(\`My value is \${shared_object.new_key}\`)
    console.log(shared_object.new_property)
    shared_object.close()`;
  const cwd = path.join(t.dir, 'readme');
  assert.is(runExample(write, cwd), '');
  assert.is(runExample(read, cwd), 'My value is some value\nsome other value\n');
});

test('seed README (mmap-object): API examples', () => {
  const out = runExample(`
    const { Create, Open } = require('mmapobj')
    // Create a 500K map for 300 objects.
    let obj = new Create("sharedmem", 500000, 300)
    console.log(obj.isOpen(), obj.get_size() >= 500000, obj.bucket_count() >= 300, obj.max_bucket_count() >= 300)
    console.log(typeof obj.get_free_memory(), typeof obj.load_factor(), typeof obj.max_load_factor())
    obj.close()
    console.log(obj.isClosed())
    // Open up that shared file
    let obj2 = new Open("sharedmem")
    obj2.close()
  `);
  assert.is(out, 'true true true true\nnumber number number\ntrue\n');
});

const API = () => fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8');
const README = () => fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
// The copy script of the migration section needs arguments and mmap-object: tested on its own below.
const isCopyScript = (src) => src.includes('copy-mmap-object.js');

test('docs/API.md: every js example runs', () => {
  const blocks = jsBlocks(API()).filter((b) => !isCopyScript(b));
  assert.ok(blocks.length >= 10, `found ${blocks.length} examples`);
  for (const src of blocks) runExample(src);
});

test('docs/API.md: printed results are what the comments say', () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8');
  const live = jsBlocks(md).find((b) => b.includes("new Create('live.mmo')"));
  assert.is(runExample(live), 'red\nblue\nRead-only object.\n');
  const values = jsBlocks(md).find((b) => b.includes("new Create('values.mmo')"));
  const out = runExample(values).split('\n');
  assert.is(out[0], 'true');
  assert.match(out[1], /^Value must be a string, buffer, or number\. Got boolean for key "flag"; /);
  assert.is(out[2], '<Buffer 01 02 03>');
});

test('docs/API.md: the several-writers example prints what its comments say', () => {
  const block = jsBlocks(API()).find((b) => b.includes("SharedMap.create('counter.mmo')"));
  assert.is(runExample(block), '1 1\nchanged my mind the throw\nMMAPOBJ_E_LOCKED\n');
});

/** The lines of `// comment` that follow the last statement of a block: what it prints. */
function trailingComments(src) {
  const lines = src.trimEnd().split('\n');
  const out = [];
  while (lines.length && lines[lines.length - 1].startsWith('// ')) out.unshift(lines.pop().slice(3));
  return out;
}

test("docs/API.md: Open's error texts, the drop-in's kilobytes and the methods print what is written", () => {
  const blocks = jsBlocks(API());
  const open = blocks.find((b) => b.includes("'nothing-here.mmo'"));
  assert.equal(runExample(open).trimEnd().split('\n'), trailingComments(open));
  const dropIn = blocks.find((b) => b.includes("require('mmapobj/mmap-object')"));
  assert.is(runExample(dropIn), '512000\n');
  const methods = blocks.find((b) => b.includes("new Create('methods.mmo')"));
  const lines = runExample(methods).split('\n');
  assert.match(lines[0], /^\d+ \d+ [\d.e-]+$/);
  assert.is(lines[1], 'true false false');
  assert.is(lines[2], '1 [object Object]');
  assert.is(lines[3], 'true');
});

test('docs/API.md: the copy script copies a file through the mmap-object API (here: mmapobj/mmap-object)', () => {
  const res = runCopyScript(path.join(ROOT, 'js', 'mmap-object.js'));
  assert.equal(res.copied, res.expected);
  assert.is(res.printed, 'copied 5 keys from old.bin to new.mmo\n');
});

test('docs/API.md: options on an existing file (fileSize, buckets ignored; maxFileSize replaces, 0 keeps)', () => {
  const out = runExample(`
    const { SharedMap } = require('mmapobj');
    const show = (m) => { const s = m.stats(); return [s.fileSize, s.bucketCount, s.maxFileSize]; };
    let m = SharedMap.create('e.mmo', { fileSize: 1 << 20, buckets: 100, maxFileSize: 64 << 20 });
    const first = show(m);
    m.set('a', 1);
    m.close();
    const closed = require('fs').statSync('e.mmo').size;
    m = SharedMap.create('e.mmo', { fileSize: 4 << 20, buckets: 100000 });
    const second = show(m);
    m.close();
    m = SharedMap.create('e.mmo', { maxFileSize: 128 << 20 });
    const third = show(m);
    m.close();
    console.log(JSON.stringify({ first, closed, second, third }));`);
  const { first, closed, second, third } = JSON.parse(out);
  assert.equal(second, [closed, first[1], 64 << 20], 'size and table kept, 0 keeps the limit');
  assert.equal(third, [closed, first[1], 128 << 20], 'another limit replaces it');
});

test("docs/API.md: the migration table has a reason column on every row", () => {
  const md = API();
  // (compat.test.js checks the sentence on mmap-object's suite against the run.)
  assert.is(EXPECTED_UPSTREAM_FAILURES.length, 11);
  const table = md.slice(md.indexOf('| | mmap-object 1.5 | mmapobj | why |'));
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| |'));
  assert.ok(rows.length >= 20, `${rows.length} rows`);
  for (const r of rows) {
    const cells = r.slice(2, -2).split(' | ');
    assert.is(cells.length, 4, r);
    assert.ok(cells.every((c) => c.trim().length > 0), `a cell is empty: ${r}`);
  }
});

test('README.md: the values in the comments of the Node example are what the expressions give', () => {
  const block = jsBlocks(README()).find((b) => b.includes("require('mmapobj')"));
  // "expr   // value (note)" or "expr   // value — note": print inspect(expr) instead.
  const checks = [];
  const src = block
    .split('\n')
    .map((line) => {
      const m = /^([A-Za-z_][\w.'()[\]]*(?:\([^)]*\))?(?:\.\w+\(\))*)\s+\/\/ (.*)$/.exec(line);
      if (!m || /[=;]/.test(m[1])) return line;
      checks.push(m[2].split(/ — | \(/)[0].trim());
      return `console.log(require('util').inspect(${m[1]}));`;
    })
    .join('\n')
    .replace(/^for \(.*$/m, '');
  assert.ok(checks.length >= 3, checks.join(' | '));
  const printed = runExample(src).trimEnd().split('\n');
  assert.equal(printed, checks);
});

test('README.md and the load error: no install script (npm\'s script approval is moot); a wrong MMAPOBJ_LIBRARY is named', () => {
  assert.match(README(), /runs no install script/);
  assert.not.match(README(), /approve-scripts/);
  const missing = path.join(t.dir, 'no-such-lib.so.1');
  const load = spawnSync(process.execPath, ['-e', "try { require('mmapobj') } catch (e) { console.log(e.message) }"], {
    cwd: t.dir,
    encoding: 'utf8',
    env: { ...process.env, MMAPOBJ_LIBRARY: missing },
  });
  assert.ok(load.stdout.includes(`${missing} (env MMAPOBJ_LIBRARY): not found`), load.stdout);
  assert.match(load.stdout, /MMAPOBJ_LIBRARY is set: nothing else is tried/);
  assert.not.match(load.stdout, /approve-scripts|install-scripts/);
});

test.run();
