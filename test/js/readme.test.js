'use strict';
// The examples of this project's README.md run: every ```js block with this package (resolved as
// 'mmapobj'), and the ```c block compiled against the library in build/ and run.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup, childEnv } = require('./helpers');
const { library } = require('../..');

const t = setup('readme', { linkPackage: true });
const { test } = t;
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = (lang) =>
  [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

test('README.md has a JS and a C example', () => {
  assert.ok(blocks('js').length >= 1);
  assert.is(blocks('c').length, 1);
});

test('README.md JS examples run', () => {
  blocks('js').forEach((src, i) => {
    const cwd = path.join(t.dir, `js${i}`);
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, 'example.js'), src);
    const env = childEnv({ NODE_PATH: path.join(t.dir, 'node_modules'), NO_COLOR: '1' });
    delete env.FORCE_COLOR; // uvu's colours would reach console.log of the examples
    const r = spawnSync(process.execPath, ['example.js'], { cwd, env, encoding: 'utf8', timeout: 60000 });
    assert.is(r.status, 0, `README js block ${i} failed:\n${r.stderr}`);
    if (src.includes("console.log(key, value)")) {
      assert.match(r.stdout, /greeting hello/);
      assert.match(r.stdout, /answer 42/);
    }
  });
});

test('README.md C example compiles against the built library and prints the value', () => {
  const cwd = path.join(t.dir, 'c');
  fs.mkdirSync(cwd);
  fs.writeFileSync(path.join(cwd, 'example.c'), blocks('c')[0]);
  const libdir = path.dirname(library.path);
  const cc = spawnSync('cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', 'example.c',
    `-I${path.join(ROOT, 'csrc', 'include')}`, `-L${libdir}`, '-l:libmmapobj.so.1', '-o', 'example'],
  { cwd, encoding: 'utf8' });
  assert.is(cc.status, 0, cc.stderr);
  const r = spawnSync('./example', [], { cwd, encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: libdir } });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'hello\n');
});

test.run();
