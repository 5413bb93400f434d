'use strict';
// js/build.js (`npm run build`): a missing build tool or header is named together with the apt
// package that provides it, and nothing is built. js/locate.js: the loader's candidates, in order,
// and the prebuild directory this process would use. package.json: installing builds nothing.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup } = require('./helpers');

const t = setup('install');
const { test } = t;
const BUILD = path.join(ROOT, 'js', 'build.js');
const locate = require('../../js/locate');

/** A directory of fake tools: name -> shell script body. */
function fakeBin(name, tools) {
  const bin = path.join(t.dir, name);
  fs.mkdirSync(bin);
  for (const [tool, body] of Object.entries(tools)) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return bin;
}

function build(env) {
  const clean = { ...process.env, ...env };
  delete clean.MMAPOBJ_LIBRARY;
  delete clean.CC;
  Object.assign(clean, env);
  return spawnSync(process.execPath, [BUILD], { env: clean, encoding: 'utf8', timeout: 60000 });
}

test('no cmake and no compiler: names both apt packages', () => {
  const bin = fakeBin('empty', {});
  const r = build({ PATH: bin });
  assert.is(r.status, 1);
  assert.match(r.stderr, /missing cmake, a C compiler/);
  assert.match(r.stderr, /apt-get install -y cmake build-essential/);
});

test('no xxhash.h: names libxxhash-dev', () => {
  // A compiler that works but cannot find xxhash.h; a cmake that must not be reached.
  const bin = fakeBin('noxx', {
    cc: 'case "$1" in --version) exit 0;; esac; echo "fatal error: xxhash.h: No such file" >&2; exit 1',
    cmake: 'case "$1" in --version) exit 0;; esac; echo "cmake must not run" >&2; exit 3',
  });
  const r = build({ PATH: bin });
  assert.is(r.status, 1);
  assert.match(r.stderr, /xxhash\.h/);
  assert.match(r.stderr, /apt-get install -y libxxhash-dev/);
  assert.not.match(r.stderr, /cmake must not run/);
});

test('installing the package runs nothing: no install scripts; `npm run build` builds', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const s of ['preinstall', 'install', 'postinstall']) assert.is(pkg.scripts[s], undefined, s);
  assert.is(pkg.scripts.build, 'node js/build.js');
  assert.ok(pkg.files.includes('prebuilds/'), 'prebuilds/ in "files"');
  assert.equal(pkg.os, ['linux', 'darwin', 'win32']);
});

test('loader candidates: MMAPOBJ_LIBRARY alone, else build, prebuild, system', () => {
  const only = locate.libraryCandidates({ MMAPOBJ_LIBRARY: 'rel/libx.so' });
  assert.is(only.length, 1);
  assert.is(only[0].kind, 'env');
  assert.is(only[0].file, path.resolve('rel/libx.so'));
  const c = locate.libraryCandidates({});
  assert.equal(c.map((x) => x.kind), ['build', 'prebuild', 'system']);
  assert.is(c[0].file, path.join(ROOT, 'build', 'libmmapobj.so.1'));
  assert.is(c[1].file, path.join(ROOT, 'prebuilds', locate.prebuildTarget(), 'libmmapobj.so.1'));
  assert.is(c[2].file, 'libmmapobj.so.1');
});

test('prebuild target of this process; musl only when the process runs on musl', () => {
  // This machine is glibc, even with Debian's musl package (/lib/ld-musl-*) installed beside it.
  assert.is(locate.linuxLibc(), 'glibc');
  assert.is(locate.prebuildTarget(), `linux-${process.arch}`);
  assert.is(locate.prebuildTarget('linux', 'arm64', 'musl'), 'linux-arm64-musl');
  assert.is(locate.prebuildTarget('darwin', 'arm64', null), 'darwin-arm64');
  assert.is(locate.libraryName('darwin'), 'libmmapobj.1.dylib');
  assert.is(locate.libraryName('win32'), 'mmapobj.dll');
  assert.is(locate.prebuildTarget('win32', 'x64', null), 'win32-x64');
  for (const t of ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64']) {
    assert.ok(locate.PREBUILD_TARGETS.includes(t), t);
  }
});

test('library.kind: env with MMAPOBJ_LIBRARY; the package build without it (development tree)', () => {
  const { library } = require('../..');
  const src = 'const { library } = require(process.argv[1]); console.log(JSON.stringify(library));';
  let r = spawnSync(process.execPath, ['-e', src, ROOT], {
    env: { ...process.env, MMAPOBJ_LIBRARY: library.path },
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).kind, 'env');
  const env = { ...process.env };
  delete env.MMAPOBJ_LIBRARY;
  r = spawnSync(process.execPath, ['-e', src, ROOT], { env, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.is(got.kind, 'build'); // npm test built build/ first: it wins over prebuilds/
  assert.is(got.path, fs.realpathSync(path.join(ROOT, 'build', 'libmmapobj.so.1')));
});

test.run();
