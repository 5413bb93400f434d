'use strict';
// Where libmmapobj (and the `mmapobj` command-line tool) can come from, in the order the loader
// tries them (README, "Which libmmapobj is loaded"):
//   1. env MMAPOBJ_LIBRARY (a path; when set, nothing else is tried)         kind 'env'
//   2. this package's CMake build: <package>/build/ (`npm run build`, development)  kind 'build'
//   3. the prebuilt library in <package>/prebuilds/<platform>-<arch>[-musl]/       kind 'prebuild'
//   4. the system library, found by the dynamic loader (after `cmake --install`)   kind 'system'
// No koffi here: native.js loads, this module only names the candidates.

const fs = require('fs');
const path = require('path');

const PACKAGE_ROOT = path.resolve(__dirname, '..');
const ABI_MAJOR = 1; // the soname's number: libmmapobj.so.1 / libmmapobj.1.dylib

/** The library's file name on this platform. */
function libraryName(platform = process.platform) {
  if (platform === 'win32') return 'mmapobj.dll';
  return platform === 'darwin' ? `libmmapobj.${ABI_MAJOR}.dylib` : `libmmapobj.so.${ABI_MAJOR}`;
}

let libcCache;
/**
 * 'musl' or 'glibc' for this Linux process (null elsewhere): the C library this process itself
 * runs on, which is the one a loaded library must match. Read from the process's own mappings
 * (a musl process maps ld-musl-*.so.1); where /proc cannot be read, from Node's report header
 * (glibcVersionRuntime is absent under musl). A glibc system with musl installed beside it (as
 * Debian's `musl` package does) is still glibc here.
 */
function linuxLibc() {
  if (process.platform !== 'linux') return null;
  if (libcCache !== undefined) return libcCache;
  let libc = null;
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    if (/\/ld-musl-[^/\s]*\.so/.test(maps) || /\/libc\.musl-[^/\s]*\.so/.test(maps)) libc = 'musl';
    else if (/\/(libc\.so\.6|libc-2\.[0-9]+\.so)\b/.test(maps)) libc = 'glibc';
  } catch (_) {
    // no /proc: ask the report below
  }
  if (libc === null) {
    try {
      const header = process.report.getReport().header;
      libc = header.glibcVersionRuntime ? 'glibc' : 'musl';
    } catch (_) {
      libc = 'glibc';
    }
  }
  libcCache = libc;
  return libc;
}

/** The prebuilds/ directory name for this process: linux-x64, linux-arm64-musl, darwin-arm64, … */
function prebuildTarget(platform = process.platform, arch = process.arch, libc = linuxLibc()) {
  return `${platform}-${arch}${platform === 'linux' && libc === 'musl' ? '-musl' : ''}`;
}

/** The targets the package ships (what .ci/prebuild/prebuild.js builds). */
const PREBUILD_TARGETS = Object.freeze([
  'linux-x64',
  'linux-arm64',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64',
]);

/**
 * The library candidates, in order: { file, kind, how, mustExist }. mustExist: a path that is
 * skipped when absent (all but the system soname, which the dynamic loader searches for).
 */
function libraryCandidates(env = process.env) {
  const name = libraryName();
  const e = env.MMAPOBJ_LIBRARY;
  if (e !== undefined && e !== '') {
    return [{ file: path.resolve(e), kind: 'env', how: 'env MMAPOBJ_LIBRARY', mustExist: true }];
  }
  const target = prebuildTarget();
  return [
    { file: path.join(PACKAGE_ROOT, 'build', name), kind: 'build', how: 'package build (npm run build)', mustExist: true },
    {
      file: path.join(PACKAGE_ROOT, 'prebuilds', target, name),
      kind: 'prebuild',
      how: `prebuilt for ${target}`,
      mustExist: true,
    },
    { file: name, kind: 'system', how: 'system, dynamic loader search path', mustExist: false },
  ];
}

/** How to get a library when none was found: the text that ends the loader's error. */
function noLibraryHint(env = process.env) {
  if (env.MMAPOBJ_LIBRARY) {
    return 'MMAPOBJ_LIBRARY is set: nothing else is tried. Point it at a libmmapobj, or unset it to use the package\'s own.';
  }
  const target = prebuildTarget();
  const shipped = PREBUILD_TARGETS.includes(target);
  return (
    (shipped
      ? `The package ships a prebuilt library for ${target}, but it is missing from ` +
        `${path.join(PACKAGE_ROOT, 'prebuilds', target)}: reinstall the package.`
      : `The package has no prebuilt library for ${target} (it ships ${PREBUILD_TARGETS.join(', ')}).`) +
    ` To build one from source (needs cmake, a C compiler and libxxhash-dev): ` +
    `\`node ${path.join(PACKAGE_ROOT, 'js', 'build.js')}\`; or install libmmapobj system-wide ` +
    '(`cmake --install`), or set MMAPOBJ_LIBRARY to its path.'
  );
}

module.exports = {
  PACKAGE_ROOT,
  PREBUILD_TARGETS,
  libraryName,
  linuxLibc,
  prebuildTarget,
  libraryCandidates,
  noLibraryHint,
};
