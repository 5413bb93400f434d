'use strict';
// What users get from the registry is what is tested: `npm pack` this package (its prepack script,
// .ci/prebuild/prebuild.js, builds the seven prebuilt libraries), install the tarball with
// --ignore-scripts into a fresh project whose PATH has node and npm and nothing else (no cmake,
// no compiler), then require and import it there and share a map between two processes.
const { suite } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, tempDir, cleanup } = require('./helpers');

const test = suite('pack');
let dir;
let tarball;
let files;
let info;

const PREBUILDS = [
  'prebuilds/linux-x64/libmmapobj.so.1',
  'prebuilds/linux-arm64/libmmapobj.so.1',
  'prebuilds/linux-x64-musl/libmmapobj.so.1',
  'prebuilds/linux-arm64-musl/libmmapobj.so.1',
  'prebuilds/darwin-x64/libmmapobj.1.dylib',
  'prebuilds/darwin-arm64/libmmapobj.1.dylib',
  'prebuilds/win32-x64/mmapobj.dll',
];

function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.MMAPOBJ_LIBRARY; // the installed package must find its own library
  for (const k of Object.keys(env)) if (/^npm_(config|package|lifecycle)_/i.test(k)) delete env[k];
  return env;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd || dir, env: opts.env || cleanEnv(), encoding: 'utf8', timeout: 900000 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status} ${r.signal || ''} ${r.error || ''}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** A directory holding only `node` and `npm`: a PATH without cmake, cc, gcc, clang or zig. */
function bareBin() {
  const bin = path.join(dir, 'bare-bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  // npm's own entry script (npm on PATH is a link to it, or a shell wrapper next to it)
  let npmCli = null;
  for (const d of (process.env.PATH || '').split(path.delimiter)) {
    const f = d && path.join(d, 'npm');
    if (!f || !fs.existsSync(f)) continue;
    const real = fs.realpathSync(f);
    npmCli = real.endsWith('.js') ? real : path.join(path.dirname(real), 'npm-cli.js');
    break;
  }
  assert.ok(npmCli && fs.existsSync(npmCli), `npm-cli.js: ${npmCli}`);
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  return bin;
}

test.before(() => {
  dir = tempDir('pack');
  const out = run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT });
  info = JSON.parse(out.slice(out.indexOf('[')))[0];
  tarball = path.join(dir, info.filename);
  files = info.files.map((f) => f.path);
});
test.after(() => cleanup(dir));

test('the tarball holds the seven prebuilt libraries, the sources for `npm run build`, no tests', () => {
  assert.ok(fs.existsSync(tarball));
  for (const must of [...PREBUILDS, 'prebuilds/THIRD-PARTY-NOTICES.txt', 'prebuilds/prebuilds.json', 'package.json',
    'CMakeLists.txt', 'csrc/include/mmapobj.h', 'csrc/platform_linux.c', 'csrc/platform_posix.c', 'csrc/platform_unix.c',
    'csrc/platform_unix.h', 'csrc/platform_win32.c', 'js/index.js',
    'js/index.mjs', 'js/native.js', 'js/locate.js', 'js/build.js', 'index.d.ts', 'docs/FORMAT.md', 'cmake/mmapobj.pc.in',
    'js/mmap-object.js', 'js/mmap-object.mjs', 'mmap-object.d.ts']) {
    assert.ok(files.includes(must), `${must} in the tarball`);
  }
  const built = JSON.parse(fs.readFileSync(path.join(ROOT, 'prebuilds', 'prebuilds.json'), 'utf8'));
  assert.is(built.targets.length, 7);
  const bad = files.filter((f) => /^(test|bench|build|build-[^/]*|\.ci|node_modules)\//.test(f));
  assert.equal(bad, []);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.not.ok(pkg.scripts.install || pkg.scripts.postinstall || pkg.scripts.preinstall, 'no install scripts');
  // the prebuilds are most of the tarball: keep an eye on its size
  assert.ok(info.size < 1.5e6, `tarball ${info.size} bytes`);
  console.log(`  tarball: ${info.filename}, ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${files.length} files`);
});

test('installed with --ignore-scripts and no compiler on PATH: the prebuild loads; two processes share a map', () => {
  const bin = bareBin();
  const env = cleanEnv({ PATH: bin });
  for (const tool of ['cmake', 'cc', 'gcc', 'clang']) {
    assert.ok(spawnSync(tool, ['--version'], { env }).error, `${tool} must not be on this PATH`);
  }
  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: app, env });
  const pkgDir = fs.realpathSync(path.join(app, 'node_modules', 'mmapobj'));
  assert.not.ok(fs.existsSync(path.join(pkgDir, 'build')), 'nothing was built');

  const file = path.join(dir, 'shared.mmo');
  // process 1 creates and writes, and while it has the file open, process 2 opens, reads, and
  // cannot have the file alone (a writer is there)
  fs.writeFileSync(
    path.join(app, 'reader.js'),
    `const { Open, Create } = require('mmapobj');
    const r = new Open(${JSON.stringify(file)});
    let locked = null;
    try { new Create(${JSON.stringify(file)}, { exclusive: true }); } catch (e) { locked = e.code; }
    console.log(JSON.stringify({ g: r.greeting, negZero: Object.is(r.n, -0), keys: Object.keys(r).sort(), locked }));
    r.close();`
  );
  const writer = `
    const { execFileSync } = require('child_process');
    const { Create, library } = require('mmapobj');
    const w = new Create(${JSON.stringify(file)});
    w.greeting = 'hello from the tarball';
    w.n = -0;
    const seen = JSON.parse(execFileSync(process.execPath, ['reader.js'], { encoding: 'utf8' }));
    w.close();
    const Shared = require('mmapobj/mmap-object');
    const kb = new Shared.Create(${JSON.stringify(file + '.kb')}, 500);
    const kbSize = kb.get_size();
    kb.close();
    console.log(JSON.stringify({ library, seen, kb: kbSize }));`;
  const out = JSON.parse(run('node', ['-e', writer], { cwd: app, env }));
  assert.is(out.library.kind, 'prebuild');
  assert.is(out.library.path, path.join(pkgDir, 'prebuilds', `linux-${process.arch}`, 'libmmapobj.so.1'));
  assert.is(out.seen.g, 'hello from the tarball');
  assert.is(out.seen.negZero, true);
  assert.equal(out.seen.keys, ['greeting', 'n']);
  assert.is(out.seen.locked, 'MMAPOBJ_E_LOCKED');
  assert.is(out.kb, 512000, 'mmapobj/mmap-object from the tarball reads kilobytes');

  const esm = `
    import mmapobj, { Open, SharedMap, library } from 'mmapobj';
    const r = new Open(${JSON.stringify(file)});
    console.log(JSON.stringify({ same: mmapobj.SharedMap === SharedMap, g: r.greeting, kind: library.kind }));
    r.close();`;
  const out2 = JSON.parse(run('node', ['--input-type=module', '-e', esm], { cwd: app, env }));
  assert.is(out2.same, true);
  assert.is(out2.g, 'hello from the tarball');
  assert.is(out2.kind, 'prebuild');
});

test.run();
