#!/usr/bin/env node
'use strict';
// `npm pack` / `npm publish` (the "prepack" script): builds the prebuilt libraries that the npm
// package ships, one per platform, from this CMakeLists.txt with zig cc (the pinned zig 0.11 of
// .ci/prebuild, see toolchain.js) on this Linux x86-64 machine:
//
//   prebuilds/linux-x64/libmmapobj.so.1          x86_64-linux-gnu, glibc symbol versions <= 2.28
//   prebuilds/linux-arm64/libmmapobj.so.1        aarch64-linux-gnu, glibc <= 2.28
//   prebuilds/linux-x64-musl/libmmapobj.so.1     x86_64-linux-musl
//   prebuilds/linux-arm64-musl/libmmapobj.so.1   aarch64-linux-musl
//   prebuilds/darwin-x64/libmmapobj.1.dylib      x86_64-macos, macOS 11+ (compiled and linked only)
//   prebuilds/darwin-arm64/libmmapobj.1.dylib    aarch64-macos, macOS 11+ (compiled and linked only)
//   prebuilds/win32-x64/mmapobj.dll              x86_64-windows-gnu (tested under Wine: test/run-wine.sh)
//
// Each is checked after the build: its machine, its soname / install name, that it needs the C
// library alone (xxHash is compiled in), the newest glibc symbol version it asks for, and that it
// exports nothing but mmapobj_* (ELF; see CHECKS below for Mach-O). The build trees are
// build-prebuild/<target> (kept: a second run only relinks what changed); prebuilds/ is made
// anew on every run, so it never holds a stale library.
//
// Usage: node .ci/prebuild/prebuild.js [TARGET...]   (default: all seven)
// Where: .ci/ holds what this repository's CI and release run and the package never ships (the
// package's js/ is shipped whole); this script is run by `npm pack` here, never by a user.

const { spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { zigPath, ZIG_VERSION, TOOLCHAIN_FILE } = require('./toolchain');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'prebuilds');
const BUILD_ROOT = path.join(ROOT, 'build-prebuild');
const MAX_GLIBC = [2, 28];

const TARGETS = [
  { name: 'linux-x64', zig: 'x86_64-linux-gnu.2.28', machine: 'X86-64', libc: 'glibc', loader: 'ld-linux-x86-64.so.2' },
  { name: 'linux-arm64', zig: 'aarch64-linux-gnu.2.28', machine: 'AArch64', libc: 'glibc', loader: 'ld-linux-aarch64.so.1' },
  { name: 'linux-x64-musl', zig: 'x86_64-linux-musl', machine: 'X86-64', libc: 'musl' },
  { name: 'linux-arm64-musl', zig: 'aarch64-linux-musl', machine: 'AArch64', libc: 'musl' },
  { name: 'darwin-x64', zig: 'x86_64-macos.11.0', cpu: 'X86_64', minos: '11.0' },
  { name: 'darwin-arm64', zig: 'aarch64-macos.11.0', cpu: 'ARM64', minos: '11.0' },
  { name: 'win32-x64', zig: 'x86_64-windows-gnu', pe: true },
];

function log(msg) {
  process.stderr.write(`prebuild: ${msg}\n`);
}

function fail(msg) {
  const e = new Error(`prebuild: ${msg}`);
  e.prebuild = true;
  throw e;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) fail(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function which(names) {
  for (const n of names) {
    const r = spawnSync(n, ['--version'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return n;
  }
  return null;
}

// ---- checks -----------------------------------------------------------------------------------

function checkElf(t, file) {
  const header = run('readelf', ['-h', '-W', file]);
  const machine = /Machine:\s+(.*)/.exec(header);
  if (!machine || !machine[1].includes(t.machine)) fail(`${file}: machine is ${machine && machine[1]}, wanted ${t.machine}`);
  const dyn = run('readelf', ['-d', '-W', file]);
  const soname = /\(SONAME\)\s+Library soname: \[([^\]]+)\]/.exec(dyn);
  if (!soname || soname[1] !== 'libmmapobj.so.1') fail(`${file}: SONAME is ${soname && soname[1]}`);
  const needed = [...dyn.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  // the C library alone: glibc's own parts (libpthread, the loader for __tls_get_addr), or musl's libc.so
  const allowed = t.libc === 'glibc' ? ['libc.so.6', 'libpthread.so.0', t.loader] : ['libc.so'];
  const extra = needed.filter((n) => !allowed.includes(n));
  if (extra.length) fail(`${file}: needs ${extra.join(', ')} (only the C library is allowed: ${allowed.join(', ')})`);
  const syms = run('readelf', ['--dyn-syms', '-W', file]);
  let newest = null;
  for (const m of syms.matchAll(/@GLIBC_(\d+)\.(\d+)/g)) {
    const v = [Number(m[1]), Number(m[2])];
    if (!newest || v[0] > newest[0] || (v[0] === newest[0] && v[1] > newest[1])) newest = v;
  }
  if (t.libc === 'glibc') {
    if (!newest) fail(`${file}: no GLIBC_ symbol versions found`);
    if (newest[0] > MAX_GLIBC[0] || (newest[0] === MAX_GLIBC[0] && newest[1] > MAX_GLIBC[1])) {
      fail(`${file}: needs GLIBC_${newest.join('.')}, newer than ${MAX_GLIBC.join('.')}`);
    }
  } else if (newest) {
    fail(`${file}: a musl library with GLIBC_ symbol versions`);
  }
  const exported = run('nm', ['-D', '--defined-only', file])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[2])
    .filter(Boolean);
  const foreign = exported.filter((s) => !s.startsWith('mmapobj_'));
  if (foreign.length) fail(`${file}: exports ${foreign.slice(0, 8).join(', ')} (only mmapobj_* may be exported)`);
  if (!exported.includes('mmapobj_abi_version')) fail(`${file}: does not export mmapobj_abi_version`);
  return `needs ${needed.join(', ')}${newest ? `; newest symbol GLIBC_${newest.join('.')}` : ''}; exports ${exported.length} mmapobj_* symbols`;
}

function checkMachO(t, file, objdump) {
  const out = run(objdump, ['--macho', '--private-headers', file]);
  const cpu = /^\s*MH_MAGIC_64\s+(\S+)/m.exec(out);
  if (!cpu || cpu[1] !== t.cpu) fail(`${file}: cputype ${cpu && cpu[1]}, wanted ${t.cpu}`);
  const cmds = out.split(/\n(?=Load command \d+)/);
  const id = cmds.find((c) => /cmd LC_ID_DYLIB/.test(c));
  const idName = id && /name (\S+)/.exec(id);
  if (!idName || idName[1] !== '@rpath/libmmapobj.1.dylib') fail(`${file}: install name ${idName && idName[1]}`);
  const deps = cmds.filter((c) => /cmd LC_LOAD_DYLIB/.test(c)).map((c) => /name (\S+)/.exec(c)[1]);
  const extra = deps.filter((d) => d !== '/usr/lib/libSystem.B.dylib');
  if (extra.length || !deps.length) fail(`${file}: loads ${deps.join(', ')} (only /usr/lib/libSystem.B.dylib is allowed)`);
  const build = cmds.find((c) => /cmd LC_BUILD_VERSION/.test(c));
  const minos = build && /minos (\S+)/.exec(build);
  if (!minos || minos[1] !== t.minos) fail(`${file}: minos ${minos && minos[1]}, wanted ${t.minos}`);
  const exported = run(objdump, ['--macho', '--exports-trie', file]);
  if (!/_mmapobj_abi_version/.test(exported)) fail(`${file}: does not export _mmapobj_abi_version`);
  // zig 0.11's Mach-O linker exports hidden symbols too (the library's internal mo_* functions
  // and compiler-rt's helpers) and takes no exported-symbols list; under macOS's two-level
  // namespace they cannot be bound by another image by accident. Counted, not refused.
  const all = [...exported.matchAll(/^\s*0x[0-9A-Fa-f]+\s+(\S+)/gm)].map((m) => m[1]);
  const ours = all.filter((s) => s.startsWith('_mmapobj_')).length;
  return `loads ${deps.join(', ')}; macOS ${minos[1]}+; exports ${ours} _mmapobj_* symbols (and ${all.length - ours} internal ones: zig 0.11)`;
}

// A PE32+ x86-64 DLL named mmapobj.dll that imports system DLLs only and exports exactly the
// functions marked MMAPOBJ_API (dllexport).
function checkPe(t, file, objdump) {
  const out = run(objdump, ['-p', file]);
  if (!/file format coff-x86-64/.test(out) || !/Magic\s+020b/.test(out)) fail(`${file}: not a PE32+ x86-64 image`);
  const name = /DLL name: (\S+)/.exec(out);
  if (!name || name[1] !== 'mmapobj.dll') fail(`${file}: export name ${name && name[1]}`);
  const imports = [...out.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]);
  const allowed = ['kernel32.dll', 'bcrypt.dll', 'msvcrt.dll'];
  const extra = imports.filter((d) => !allowed.includes(d.toLowerCase()));
  if (extra.length || !imports.length) fail(`${file}: imports ${imports.join(', ')} (allowed: ${allowed.join(', ')})`);
  const table = out.split('Export Table:')[1] || '';
  const exported = [...table.matchAll(/^\s+\d+\s+0x[0-9a-f]+\s+(\S+)$/gim)].map((m) => m[1]);
  const foreign = exported.filter((s) => !s.startsWith('mmapobj_'));
  if (foreign.length) fail(`${file}: exports ${foreign.slice(0, 8).join(', ')} (only mmapobj_* may be exported)`);
  if (!exported.includes('mmapobj_abi_version')) fail(`${file}: does not export mmapobj_abi_version`);
  return `imports ${imports.join(', ')}; exports ${exported.length} mmapobj_* functions`;
}

// ---- build ------------------------------------------------------------------------------------

function buildTarget(t, zig, tools) {
  const dir = path.join(BUILD_ROOT, t.name);
  const darwin = t.name.startsWith('darwin');
  const linkFlags = darwin
    ? '' // zig 0.11 takes neither -s nor -exported_symbols_list for Mach-O (see checkMachO)
    : t.pe
      ? '-s' // PE: only the dllexport functions are exported (see checkPe)
      : `-s -Wl,--as-needed -Wl,--version-script=${path.join(__dirname, 'exports.map')}`;
  run('cmake', [
    '-S', ROOT,
    '-B', dir,
    `-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}`,
    `-DZIG_EXE=${zig}`,
    `-DZIG_TARGET=${t.zig}`,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DMMAPOBJ_BUILD_TESTS=OFF',
    '-DMMAPOBJ_BUILD_BENCH=OFF',
    '-DMMAPOBJ_BUILD_TOOLS=OFF',
    '-DMMAPOBJ_BUILD_FUZZ=OFF',
    '-DMMAPOBJ_WERROR=ON',
    `-DCMAKE_SHARED_LINKER_FLAGS=${linkFlags}`,
    ...(darwin ? ['-DCMAKE_INSTALL_NAME_DIR=@rpath', '-DCMAKE_BUILD_WITH_INSTALL_NAME_DIR=ON'] : []),
  ]);
  if (!fs.existsSync(path.join(dir, 'zig-root', 'include', 'valgrind', 'valgrind.h'))) {
    // without it the library assumes it runs under valgrind and remaps whole (slower growth)
    fail('valgrind/valgrind.h is missing on this machine (apt-get install -y valgrind)');
  }
  run('cmake', ['--build', dir, '--target', 'mmapobj', '-j', '2']);
  const libName = darwin ? 'libmmapobj.1.dylib' : t.pe ? 'mmapobj.dll' : 'libmmapobj.so.1';
  const built = fs.realpathSync(path.join(dir, libName));
  const destDir = path.join(OUT, t.name);
  fs.mkdirSync(destDir, { recursive: true });
  const dest = path.join(destDir, libName);
  fs.copyFileSync(built, dest);
  fs.chmodSync(dest, 0o755);
  const note = darwin ? checkMachO(t, dest, tools.objdump) : t.pe ? checkPe(t, dest, tools.objdump) : checkElf(t, dest);
  const bytes = fs.readFileSync(dest);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  return { target: t.name, zig: t.zig, file: path.relative(ROOT, dest), bytes: bytes.length, sha256: sha, note };
}

// The license text of xxHash (BSD 2-Clause), compiled into every prebuilt library: its binary
// redistribution must reproduce the notice.
function thirdPartyNotices() {
  const head = fs.readFileSync(path.join(BUILD_ROOT, TARGETS[0].name, 'zig-root', 'include', 'xxhash.h'), 'utf8');
  const m = /\/\*([\s\S]*?)\*\//.exec(head);
  if (!m || !/BSD 2-Clause/.test(m[1])) fail('cannot find the license of xxhash.h');
  const text = m[1]
    .split('\n')
    .map((l) => l.replace(/^\s?\*\s?/, ''))
    .join('\n')
    .trim();
  return (
    'The prebuilt libraries in this directory contain xxHash (compiled in from xxhash.h):\n\n' +
    `${text}\n`
  );
}

function main() {
  const want = process.argv.slice(2);
  const targets = want.length ? TARGETS.filter((t) => want.includes(t.name)) : TARGETS;
  if (want.length && targets.length !== want.length) {
    fail(`unknown target among ${want.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
  }
  for (const tool of ['cmake', 'readelf', 'nm']) {
    if (!which([tool])) fail(`${tool} is needed (apt-get install -y cmake binutils)`);
  }
  const objdump = which(['llvm-objdump-14', 'llvm-objdump']);
  if (!objdump && targets.some((t) => t.name.startsWith('darwin') || t.pe)) {
    fail('llvm-objdump is needed to check the macOS and Windows libraries (apt-get install -y llvm-14)');
  }
  if (!fs.existsSync('/usr/include/xxhash.h')) fail('/usr/include/xxhash.h is needed (apt-get install -y libxxhash-dev)');
  const zig = zigPath({ log });
  const t0 = Date.now();
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const results = [];
  for (const t of targets) {
    const t1 = Date.now();
    const r = buildTarget(t, zig, { objdump });
    log(`${r.file}: ${r.bytes} bytes, ${((Date.now() - t1) / 1000).toFixed(1)} s; ${r.note}`);
    results.push(r);
  }
  fs.writeFileSync(path.join(OUT, 'THIRD-PARTY-NOTICES.txt'), thirdPartyNotices());
  // What was built, with what: for the record and for checks of the packed tarball.
  fs.writeFileSync(
    path.join(OUT, 'prebuilds.json'),
    `${JSON.stringify({ zig: ZIG_VERSION, targets: results.map(({ note, ...r }) => r) }, null, 2)}\n`
  );
  log(`${results.length} libraries in ${path.relative(process.cwd(), OUT) || OUT} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`${e.prebuild || e.toolchain ? e.message : e.stack}\n`);
  process.exit(1);
}
