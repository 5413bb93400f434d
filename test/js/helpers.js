'use strict';
// Shared helpers of the JS tests (not a test file: uvu runs only *.test.js).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { suite } = require('uvu');

const ROOT = path.resolve(__dirname, '..', '..');

/** A fresh temporary directory; removed by cleanup(). */
function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mmapobj-${tag}-`));
}

function cleanup(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The preamble of a test file: a uvu suite and a temporary directory that lives for the suite's run.
 *   const t = setup('values');  const { test, fresh } = t;
 * t.dir is the directory (set when the suite starts); t.fresh() a new file path in it each call.
 * options.linkPackage: t.dir/node_modules/mmapobj links to this package (for child scripts that
 * require or import 'mmapobj').
 */
function setup(name, options = {}) {
  const test = suite(name);
  let n = 0;
  const t = {
    test,
    dir: null,
    fresh: () => path.join(t.dir, `${name}-${n++}`),
  };
  test.before(() => {
    t.dir = tempDir(name);
    if (options.linkPackage) {
      fs.mkdirSync(path.join(t.dir, 'node_modules'));
      fs.symlinkSync(ROOT, path.join(t.dir, 'node_modules', 'mmapobj'));
    }
  });
  test.after(() => cleanup(t.dir));
  return t;
}

/** Runs fn and returns the error it throws (fails the test if it does not throw). */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception, none was thrown');
}

/** Environment for child processes: the library the parent uses, and the package resolvable. */
function childEnv(extra = {}) {
  const { library } = require('../..');
  return { ...process.env, MMAPOBJ_LIBRARY: library.path, ...extra };
}

module.exports = { ROOT, setup, tempDir, cleanup, thrown, childEnv };
