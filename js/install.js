#!/usr/bin/env node
'use strict';
// npm `install` script: builds libmmapobj and the `mmapobj` command-line tool with CMake into
// <package>/build (Release, no tests, no benchmarks). No node-gyp: the library is plain C loaded at run time with koffi.
//
// Skipped when MMAPOBJ_LIBRARY is set (that library is used) or MMAPOBJ_SKIP_BUILD=1 (use a
// system-installed libmmapobj.so.1). When a tool or header is missing it names the apt package.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
const HAS_TOOL = fs.existsSync(path.join(ROOT, 'csrc', 'tools', 'CMakeLists.txt'));

function log(msg) {
  process.stderr.write(`mmapobj install: ${msg}\n`);
}

function fail(msg) {
  log(msg);
  process.exit(1);
}

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

function findCompiler() {
  const cc = process.env.CC;
  if (cc) return has(cc) ? cc : null;
  for (const c of ['cc', 'gcc', 'clang']) if (has(c)) return c;
  return null;
}

// Compiles `#include <xxhash.h>` the way CMake will look for it.
function hasXxhash(cc) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-install-'));
  try {
    const src = path.join(dir, 'x.c');
    fs.writeFileSync(src, '#include <xxhash.h>\nint main(void) { return 0; }\n');
    const r = spawnSync(cc, ['-c', src, '-o', path.join(dir, 'x.o')], { stdio: 'ignore' });
    return r.status === 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function run(cmd, args) {
  log(`${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: ROOT });
  if (r.error) fail(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} failed (exit ${r.status}); see the output above`);
}

function main() {
  if (process.env.MMAPOBJ_LIBRARY) {
    log(`MMAPOBJ_LIBRARY is set (${process.env.MMAPOBJ_LIBRARY}): not building the library`);
    return;
  }
  if (process.env.MMAPOBJ_SKIP_BUILD === '1') {
    log('MMAPOBJ_SKIP_BUILD=1: not building; a system libmmapobj.so.1 will be used');
    return;
  }
  if (process.platform !== 'linux') {
    fail(`${process.platform} is not supported yet: libmmapobj builds on Linux only`);
  }
  const missing = [];
  if (!has('cmake')) missing.push(['cmake', 'cmake']);
  const cc = findCompiler();
  if (!cc) missing.push(['a C compiler (cc)', 'build-essential']);
  else if (!hasXxhash(cc)) missing.push(['xxhash.h (xxHash headers)', 'libxxhash-dev']);
  if (missing.length) {
    const what = missing.map(([w]) => w).join(', ');
    const pkgs = missing.map(([, p]) => p).join(' ');
    fail(
      `cannot build libmmapobj: missing ${what}.\n` +
        `  On Debian/Ubuntu: sudo apt-get install -y ${pkgs}\n` +
        '  then run `npm rebuild mmapobj` (or `npm install` again).\n' +
        '  To use a libmmapobj that is already installed instead, set MMAPOBJ_SKIP_BUILD=1 ' +
        '(system libmmapobj.so.1) or MMAPOBJ_LIBRARY=/path/to/libmmapobj.so.1.'
    );
  }
  const jobs = String(Math.max(1, Math.min(os.cpus().length, 8)));
  run('cmake', [
    '-S', ROOT,
    '-B', BUILD,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DMMAPOBJ_BUILD_TESTS=OFF',
    '-DMMAPOBJ_BUILD_BENCH=OFF',
    // The command-line tool is the package's `mmapobj` bin (js/cli.js runs it).
    `-DMMAPOBJ_BUILD_TOOLS=${HAS_TOOL ? 'ON' : 'OFF'}`,
    '-DMMAPOBJ_BUILD_FUZZ=OFF',
    // A newer compiler's new warning must not break a user's install; `npm test` builds with -Werror.
    '-DMMAPOBJ_WERROR=OFF',
    ...(process.env.CC ? [`-DCMAKE_C_COMPILER=${process.env.CC}`] : []),
  ]);
  run('cmake', ['--build', BUILD, '--target', 'mmapobj', ...(HAS_TOOL ? ['mmapobj_tool'] : []), '-j', jobs]);
  const lib = path.join(BUILD, 'libmmapobj.so.1');
  if (!fs.existsSync(lib)) fail(`the build finished but ${lib} is missing`);
  log(`built ${lib}${HAS_TOOL ? ` and ${path.join(BUILD, 'csrc', 'tools', 'mmapobj')}` : ''}`);
}

main();
