#!/usr/bin/env node
'use strict';
// `npm run build`: builds libmmapobj and the `mmapobj` command-line tool from source with CMake
// into <package>/build (Release, no tests, no benchmarks). The loader prefers that build to the
// prebuilt library (js/locate.js), so this is how a platform without a prebuild, or a changed
// source, gets a library. Not an install script: installing the package builds nothing. No
// node-gyp: the library is plain C loaded at run time with koffi.
//
// When a tool or header is missing it names the package that provides it.

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(ROOT, 'build');
// The command-line tool uses Linux calls (OFD locks) of its own: Linux only for now.
const HAS_TOOL = process.platform === 'linux' && fs.existsSync(path.join(ROOT, 'csrc', 'tools', 'CMakeLists.txt'));
const { libraryName } = require('./locate');

function log(msg) {
  process.stderr.write(`mmapobj build: ${msg}\n`);
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
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    fail(`${process.platform} is not supported yet: libmmapobj builds on Linux and macOS`);
  }
  const missing = [];
  if (!has('cmake')) missing.push(['cmake', 'cmake']);
  const cc = findCompiler();
  if (!cc) missing.push(['a C compiler (cc)', 'build-essential']);
  else if (!hasXxhash(cc)) missing.push(['xxhash.h (xxHash headers)', 'libxxhash-dev']);
  if (missing.length) {
    const what = missing.map(([w]) => w).join(', ');
    const pkgs = missing.map(([, p]) => p).join(' ');
    const how =
      process.platform === 'darwin'
        ? '  On macOS: xcode-select --install (the compiler), brew install cmake xxhash\n'
        : `  On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y ${pkgs}\n`;
    fail(`cannot build libmmapobj: missing ${what}.\n${how}  then run \`npm run build\` in ${ROOT} again.`);
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
  const lib = path.join(BUILD, libraryName());
  if (!fs.existsSync(lib)) fail(`the build finished but ${lib} is missing`);
  log(`built ${lib}${HAS_TOOL ? ` and ${path.join(BUILD, 'csrc', 'tools', 'mmapobj')}` : ''}`);
}

main();
