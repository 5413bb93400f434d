'use strict';
// js/install.js (the npm `install` script): a missing build tool or header is named together with
// the apt package that provides it, and nothing is built; the skip switches are honoured.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup } = require('./helpers');

const t = setup('install');
const { test } = t;
const INSTALL = path.join(ROOT, 'js', 'install.js');

/** A directory of fake tools: name -> shell script body. */
function fakeBin(name, tools) {
  const bin = path.join(t.dir, name);
  fs.mkdirSync(bin);
  for (const [tool, body] of Object.entries(tools)) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return bin;
}

function install(env) {
  const clean = { ...process.env, ...env };
  delete clean.MMAPOBJ_LIBRARY;
  delete clean.MMAPOBJ_SKIP_BUILD;
  delete clean.CC;
  Object.assign(clean, env);
  return spawnSync(process.execPath, [INSTALL], { env: clean, encoding: 'utf8', timeout: 60000 });
}

test('no cmake and no compiler: names both apt packages', () => {
  const bin = fakeBin('empty', {});
  const r = install({ PATH: bin });
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
  const r = install({ PATH: bin });
  assert.is(r.status, 1);
  assert.match(r.stderr, /xxhash\.h/);
  assert.match(r.stderr, /apt-get install -y libxxhash-dev/);
  assert.not.match(r.stderr, /cmake must not run/);
});

test('MMAPOBJ_LIBRARY or MMAPOBJ_SKIP_BUILD=1 skip the build', () => {
  const bin = fakeBin('skip', {});
  let r = install({ PATH: bin, MMAPOBJ_LIBRARY: '/opt/lib/libmmapobj.so.1' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /not building/);
  r = install({ PATH: bin, MMAPOBJ_SKIP_BUILD: '1' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /system libmmapobj\.so\.1 will be used/);
});

test.run();
