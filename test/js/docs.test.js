'use strict';
// The examples of the seed README (mmap-object's) and of docs/API.md run, each in a fresh
// directory, against this package (resolved as 'mmapobj' through a node_modules link).
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup, childEnv } = require('./helpers');

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

test('docs/API.md: every js example runs', () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8');
  const blocks = jsBlocks(md);
  assert.ok(blocks.length >= 8, `found ${blocks.length} examples`);
  for (const src of blocks) runExample(src);
});

test('docs/API.md: printed results are what the comments say', () => {
  const md = fs.readFileSync(path.join(ROOT, 'docs', 'API.md'), 'utf8');
  const live = jsBlocks(md).find((b) => b.includes("new Create('live.mmo')"));
  assert.is(runExample(live), 'red\nblue\nRead-only object.\n');
  const values = jsBlocks(md).find((b) => b.includes("new Create('values.mmo')"));
  const out = runExample(values).split('\n');
  assert.is(out[0], 'true');
  assert.match(out[1], /^Cannot store a value of type boolean \(key "flag"\)/);
  assert.is(out[2], '<Buffer 01 02 03>');
});

test.run();
