'use strict';
// index.d.ts and mmap-object.d.ts: real usage compiles with tsc --strict through the package's
// "exports" (as users resolve it), from ESM (.mts) and CommonJS (.cts) files, and misuse does not:
// each misuse line follows a `// @ts-expect-error`, which tsc reports as an error when the line
// compiles. The closed sets in the declarations (code names, method names) match the runtime.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup } = require('./helpers');
const { codes } = require('../..');
const { METHOD_NAMES } = require('../../js/proxy');

const t = setup('types', { linkPackage: true });
const { test } = t;
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const FIXTURES = ['types-usage.mts', 'types-errors.mts', 'types-usage.cts', 'types-dropin.mts'];

test.before(() => {
  fs.mkdirSync(path.join(t.dir, 'node_modules', '@types'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(t.dir, 'node_modules', '@types', 'node'));
  fs.writeFileSync(path.join(t.dir, 'package.json'), JSON.stringify({ name: 'types-check', private: true }));
});

let result;
// One tsc run over the fixtures and a canary: a misuse case that does compile, which tsc must report
// (so that the check of the fixtures can fail).
function compileAll() {
  if (result) return result;
  const paths = FIXTURES.map((f) => {
    const file = path.join(t.dir, f);
    fs.copyFileSync(path.join(__dirname, 'fixtures', f), file);
    return file;
  });
  const canary = path.join(t.dir, 'canary.mts');
  fs.writeFileSync(canary, "import { Create } from 'mmapobj';\nconst w = new Create('x');\n// @ts-expect-error\nw.ok = 'fine';\n");
  const args = [TSC, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16',
    '--target', 'es2022', '--types', 'node', ...paths, canary];
  result = spawnSync(process.execPath, args, { cwd: t.dir, encoding: 'utf8', timeout: 180000 });
  return result;
}

test('usage compiles and every @ts-expect-error line fails to compile (.mts and .cts consumers)', () => {
  const r = compileAll();
  const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
  assert.equal(errors.filter((l) => !l.startsWith('canary.mts')), [], r.stdout + r.stderr);
  const expected = FIXTURES.map((f) => fs.readFileSync(path.join(__dirname, 'fixtures', f), 'utf8'))
    .join('\n')
    .match(/@ts-expect-error/g);
  assert.ok(expected.length >= 15, `${expected.length} misuse cases`);
});

test('a misuse case that compiles is reported (the check above can fail)', () => {
  const r = compileAll();
  assert.match(r.stdout, /canary\.mts\(3,1\): error TS2578: Unused '@ts-expect-error' directive/);
});

test('CodeName lists exactly the codes of the library; SharedObjectMethods the methods', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8');
  const union = dts.slice(dts.indexOf('export type CodeName ='), dts.indexOf(';', dts.indexOf('export type CodeName =')));
  const names = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
  assert.equal(names.sort(), Object.keys(codes).sort());
  const iface = dts.slice(dts.indexOf('export interface SharedObjectMethods'), dts.indexOf('export type Shape'));
  const methods = [...iface.matchAll(/readonly (\w+): /g)].map((m) => m[1]);
  assert.equal(methods.sort(), [...METHOD_NAMES].sort());
});

test.run();
