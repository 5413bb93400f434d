'use strict';
// What users get from the registry is what is tested: `npm pack` this package, install the tarball
// into a fresh project (its install script builds libmmapobj there with CMake), then require and
// import it from that project and use it.
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, setup } = require('./helpers');

const t = setup('pack');
const { test } = t;
let tarball;
let files;

function run(cmd, args, opts = {}) {
  const env = { ...process.env, ...(opts.env || {}) };
  delete env.MMAPOBJ_LIBRARY; // the installed package must find its own library
  for (const k of Object.keys(env)) if (k.startsWith('npm_config_') || k.startsWith('npm_package_')) delete env[k];
  const r = spawnSync(cmd, args, { cwd: opts.cwd || t.dir, env, encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status} ${r.signal || ''}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

test.before(() => {
  const out = run('npm', ['pack', '--json', '--pack-destination', t.dir], { cwd: ROOT });
  const info = JSON.parse(out)[0];
  tarball = path.join(t.dir, info.filename);
  files = info.files.map((f) => f.path);
});

test('the tarball has what the install script needs to build, and no tests or benchmarks', () => {
  assert.ok(fs.existsSync(tarball));
  for (const must of ['package.json', 'CMakeLists.txt', 'csrc/include/mmapobj.h', 'js/index.js', 'js/index.mjs',
    'js/native.js', 'js/install.js', 'index.d.ts', 'docs/FORMAT.md', 'cmake/mmapobj.pc.in',
    'js/mmap-object.js', 'js/mmap-object.mjs', 'mmap-object.d.ts']) {
    assert.ok(files.includes(must), `${must} in the tarball`);
  }
  assert.ok(files.some((f) => /^csrc\/[a-z_]+\.c$/.test(f)), 'library sources');
  assert.not.ok(files.some((f) => f.startsWith('test/') || f.startsWith('bench/') || f.startsWith('build/')),
    files.filter((f) => /^(test|bench|build)\//.test(f)).join(', '));
  assert.not.ok(files.some((f) => f.startsWith('node_modules/')));
});

test('npm install of the tarball in a fresh project builds the library; require and import work', () => {
  const app = path.join(t.dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app });
  const pkgDir = path.join(app, 'node_modules', 'mmapobj');
  assert.ok(fs.existsSync(path.join(pkgDir, 'build', 'libmmapobj.so.1')), 'built by the install script');
  // The package's bin runs the command-line tool that the install script built.
  const bin = path.join(app, 'node_modules', '.bin', 'mmapobj');
  assert.match(run(bin, ['--version'], { cwd: app }), /\d+\.\d+\.\d+/);

  const file = path.join(t.dir, 'shared.mmo');
  const cjs = `
    const { Create, Open, SharedMap, library } = require('mmapobj');
    const w = new Create(${JSON.stringify(file)});
    w.greeting = 'hello from the tarball';
    w.n = -0;
    const r = new Open(${JSON.stringify(file)});
    const m = SharedMap.open(${JSON.stringify(file)});
    const Shared = require('mmapobj/mmap-object');
    const kb = new Shared.Create(${JSON.stringify(file + '.kb')}, 500);
    console.log(JSON.stringify({ path: library.path, g: r.greeting, negZero: Object.is(m.get('n'), -0), keys: Object.keys(r),
      kb: kb.get_size() }));
    kb.close();
    m.close(); r.close(); w.close();`;
  const out = JSON.parse(run(process.execPath, ['-e', cjs], { cwd: app }));
  assert.ok(out.path.startsWith(fs.realpathSync(pkgDir)), `library from the installed package: ${out.path}`);
  assert.is(out.g, 'hello from the tarball');
  assert.is(out.negZero, true);
  assert.equal(out.keys.sort(), ['greeting', 'n']);
  assert.is(out.kb, 512000, 'mmapobj/mmap-object from the tarball reads kilobytes');

  const esm = `
    import mmapobj, { Open, SharedMap, library } from 'mmapobj';
    const r = new Open(${JSON.stringify(file)});
    console.log(JSON.stringify({ same: mmapobj.SharedMap === SharedMap, g: r.greeting, abi: library.abi }));
    r.close();`;
  const out2 = JSON.parse(run(process.execPath, ['--input-type=module', '-e', esm], { cwd: app }));
  assert.is(out2.same, true);
  assert.is(out2.g, 'hello from the tarball');
  assert.type(out2.abi, 'number');
});

test.run();
