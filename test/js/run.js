'use strict';
// `npm run test:js`: runs the uvu suites (test/js/*.test.js) with uvu's own report, then ends with
// one plain line "N passed, N failed" that any CI log reader understands. Exit code is uvu's.
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const uvu = path.join(ROOT, 'node_modules', 'uvu', 'bin.js');
const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
const child = spawn(process.execPath, [uvu, path.join('test', 'js'), '\\.test\\.js$'], {
  cwd: ROOT,
  env,
  stdio: ['inherit', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (d) => {
  out += d;
  process.stdout.write(d);
});
child.on('exit', (code, signal) => {
  const num = (label) => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(out);
    return m ? Number(m[1]) : null;
  };
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped') || 0;
  if (total !== null && passed !== null) {
    const failed = total - passed - skipped;
    process.stdout.write(`\njs: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
  process.exitCode = signal ? 1 : code;
});
