'use strict';
// index.d.ts: real usage compiles with tsc --strict (through the package's "exports", as users
// resolve it), and misuse is rejected.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup } = require('./helpers');

const t = setup('types', { linkPackage: true });
const { test } = t;
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

test.before(() => {
  fs.mkdirSync(path.join(t.dir, 'node_modules', '@types'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(t.dir, 'node_modules', '@types', 'node'));
  fs.writeFileSync(path.join(t.dir, 'package.json'), JSON.stringify({ name: 'types-check', private: true }));
});

let result;
function compileBoth() {
  if (result) return result;
  const files = ['types-usage.mts', 'types-misuse.mts'].map((f) => {
    const file = path.join(t.dir, f);
    fs.copyFileSync(path.join(__dirname, 'fixtures', f), file);
    return file;
  });
  const args = [TSC, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16',
    '--target', 'es2022', '--types', 'node', ...files];
  result = spawnSync(process.execPath, args, { cwd: t.dir, encoding: 'utf8', timeout: 180000 });
  return result;
}

test('index.d.ts: real usage compiles under --strict', () => {
  const r = compileBoth();
  assert.ok(r.stdout.length > 0 || r.status === 0, r.stderr);
  const usageErrors = r.stdout.split('\n').filter((l) => !l.startsWith('types-misuse.mts') && l.includes('error TS'));
  assert.equal(usageErrors, []);
});

test('index.d.ts: misuse is rejected', () => {
  const r = compileBoth();
  assert.is.not(r.status, 0);
  const lines = new Set([...r.stdout.matchAll(/types-misuse\.mts\((\d+),/g)].map((m) => Number(m[1])));
  assert.equal([...lines].sort(), [5, 6, 7, 8], r.stdout);
});

test('index.d.ts: CodeName lists exactly the runtime codes', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8');
  const union = /export type CodeName =([^;]*);/.exec(dts)[1];
  const names = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
  assert.equal(names.sort(), Object.keys(require('../..').codes).sort());
});

test.run();
