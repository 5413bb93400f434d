'use strict';
// Shared helpers of the JS tests (not a test file: uvu runs only *.test.js).
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');

/** A fresh temporary directory; removed by cleanup(). */
function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mmapobj-${tag}-`));
}

function cleanup(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
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

module.exports = { ROOT, tempDir, cleanup, thrown, childEnv };
