#!/usr/bin/env node
'use strict';
// npm bin `mmapobj` (`npx mmapobj ...`): runs the C command-line tool (csrc/tools, docs/CLI.md)
// with the same arguments and stdio, and exits with its status (or dies of its signal). There is
// one implementation of each command, in C; this file only finds it.
//
// Resolution order (first that exists wins):
//   1. env MMAPOBJ_CLI (a path; when set, nothing else is tried)
//   2. this package's CMake output: <package>/build/csrc/tools/mmapobj
//   3. `mmapobj` on PATH, skipping this script and other copies of it (npm's .bin links)

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const PACKAGE_ROOT = path.resolve(__dirname, '..');
const BUILT = path.join(PACKAGE_ROOT, 'build', 'csrc', 'tools', 'mmapobj');
// Set for the child: a cli.js that finds itself started by a cli.js never searches PATH again,
// so two installed copies of the package cannot run each other in a loop.
const GUARD = 'MMAPOBJ_CLI_FROM_JS';

function isExecutableFile(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// True for a Node script (this file or another copy of the package's bin), which is not the tool.
function isNodeScript(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(64);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return /^#!.*\bnode\b/.test(head.subarray(0, n).toString('latin1').split('\n')[0]);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function findTool() {
  const tried = [];
  const env = process.env.MMAPOBJ_CLI;
  if (env !== undefined && env !== '') {
    const file = path.resolve(env);
    if (isExecutableFile(file)) return { file, tried };
    tried.push(`${file} (env MMAPOBJ_CLI): not an executable file`);
    return { file: null, tried };
  }
  if (isExecutableFile(BUILT)) return { file: BUILT, tried };
  tried.push(`${BUILT} (package build): not built`);
  if (process.env[GUARD]) {
    tried.push('PATH: not searched (started by another copy of this script)');
    return { file: null, tried };
  }
  const self = fs.realpathSync(__filename);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'mmapobj');
    if (!isExecutableFile(file)) continue;
    if (fs.realpathSync(file) === self || isNodeScript(file)) {
      tried.push(`${file} (PATH): skipped, it is this Node script`);
      continue;
    }
    return { file, tried };
  }
  tried.push('mmapobj on PATH: not found');
  return { file: null, tried };
}

function main() {
  const { file, tried } = findTool();
  if (!file) {
    process.stderr.write(
      'mmapobj: cannot find the mmapobj command-line tool. Tried:\n' +
        tried.map((t) => `  ${t}\n`).join('') +
        'Build it with:\n' +
        `  cmake -S ${PACKAGE_ROOT} -B ${path.join(PACKAGE_ROOT, 'build')} -DMMAPOBJ_BUILD_TOOLS=ON\n` +
        `  cmake --build ${path.join(PACKAGE_ROOT, 'build')} --target mmapobj_tool\n` +
        'or install it (cmake --install) so that it is on PATH, or set MMAPOBJ_CLI to its path.\n',
    );
    process.exit(70); // EX_SOFTWARE, as the tool's own "internal error"
  }
  const child = spawn(file, process.argv.slice(2), {
    stdio: 'inherit',
    env: { ...process.env, [GUARD]: '1' },
  });
  // The terminal sends ^C to the whole process group, so the tool gets it itself; a signal sent
  // to this process alone is passed on. Either way this process waits for the tool's status.
  const forward = (sig) => {
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, forward);
  child.on('error', (err) => {
    process.stderr.write(`mmapobj: cannot run ${file}: ${err.message}\n`);
    process.exit(err.code === 'EACCES' ? 126 : 127);
  });
  child.on('exit', (code, signal) => {
    for (const sig of signals) process.removeListener(sig, forward);
    if (signal) {
      // Die of the same signal, so that our parent sees what the tool's parent would have;
      // for a signal Node ignores (SIGPIPE) exit with the shell's 128 + number instead.
      try {
        process.kill(process.pid, signal);
      } catch {
        /* fall through */
      }
      process.exit(128 + (os.constants.signals[signal] || 0));
    }
    process.exit(code === null ? 70 : code);
  });
}

main();
