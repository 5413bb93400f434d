'use strict';
// Runs mmap-object 1.5.0's own mocha suite (test/test-mmap-object.js of its npm tarball, ISC) against
// require('mmapobj/mmap-object'), without changing a line of it.
//
//   node test/compat/upstream.js            run it, print every test's outcome, exit 1 on failures
//   node test/compat/upstream.js --json     the same as one JSON document {passes, failures, pending}
//   node test/compat/upstream.js --prime    only put the tarball into npm's cache (package.json's
//                                           "prepare" runs this during `npm ci`; never fails)
//
// The tarball is not committed: `npm pack mmap-object@1.5.0` fetches it through npm's cache (so it
// works offline once fetched) and its sha512 must be the one pinned below. Only its test files and
// test data are used; its native code (Boost) is never built. The suite finds the module under test
// with node-pre-gyp's find(); a stand-in node-pre-gyp returns the path of mmapobj/mmap-object, and
// mocha, chai, temp, which and async are this package's devDependencies.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const SPEC = 'mmap-object@1.5.0';
const TARBALL = 'mmap-object-1.5.0.tgz';
const INTEGRITY =
  'sha512-aiCy+pgs8uCgRQ4gSbhCmANxhGhPBlgVqLWkZZPjYMf4JWTL5kW0NSFIny/v1mwBVMmkuceyLRWmROqpi2VFBQ==';
const DEPS = ['mocha', 'chai', 'temp', 'which', 'async'];

// Settings of a parent npm (`npm ci` running "prepare", `npm test`) that must not reach `npm pack
// <spec>` (--dry-run, --json... of the parent's command); where npm finds its cache, registry and
// network settings is kept.
const KEEP_NPM_CONFIG = new Set(['cache', 'registry', 'userconfig', 'globalconfig', 'proxy', 'https_proxy',
  'noproxy', 'strict_ssl', 'cafile', 'ca', 'offline']);

function npmEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    const lower = k.toLowerCase();
    if (lower.startsWith('npm_package_') || lower.startsWith('npm_lifecycle_')) delete env[k];
    else if (lower.startsWith('npm_config_') && !KEEP_NPM_CONFIG.has(lower.slice('npm_config_'.length))) delete env[k];
  }
  return env;
}

function integrityOf(file) {
  const digest = require('crypto').createHash('sha512').update(fs.readFileSync(file)).digest('base64');
  return `sha512-${digest}`;
}

/** The verified tarball in `dir`: from npm's cache if it is there, else from the registry. */
function fetchTarball(dir) {
  const errors = [];
  for (const mode of ['--offline', '--prefer-online']) {
    const r = spawnSync('npm', ['pack', SPEC, mode, '--silent', '--pack-destination', dir], {
      cwd: dir,
      env: npmEnv(),
      encoding: 'utf8',
      timeout: 120000,
    });
    const file = path.join(dir, TARBALL);
    if (r.status === 0 && fs.existsSync(file)) {
      const got = integrityOf(file);
      if (got !== INTEGRITY) throw new Error(`${SPEC}: tarball integrity ${got}, expected ${INTEGRITY}`);
      return file;
    }
    errors.push(`npm pack ${SPEC} ${mode}: exit ${r.status}${r.error ? ` (${r.error.message})` : ''}\n${r.stderr}`);
  }
  throw new Error(
    `Could not obtain ${SPEC}'s test suite: it is not in npm's cache and the registry did not ` +
      `answer. Run \`npm cache add ${SPEC}\` once while online.\n${errors.join('\n')}`
  );
}

/** A directory laid out as mmap-object's package, with its tests' dependencies resolvable. */
function prepare(work) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const tgz = fetchTarball(work);
  const r = spawnSync('tar', ['-xzf', tgz, '-C', work], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -xzf ${tgz} failed: ${r.stderr}`);
  const pkg = path.join(work, 'package');
  const nm = path.join(pkg, 'node_modules');
  fs.mkdirSync(nm);
  for (const dep of DEPS) {
    const from = path.join(ROOT, 'node_modules', dep);
    if (!fs.existsSync(from)) throw new Error(`devDependency ${dep} is missing: run npm ci`);
    fs.symlinkSync(from, path.join(nm, dep));
  }
  // The package under test, resolved by name as a user's require('mmapobj/mmap-object') would be.
  fs.symlinkSync(ROOT, path.join(nm, 'mmapobj'));
  const shim = path.join(nm, 'node-pre-gyp');
  fs.mkdirSync(shim);
  fs.writeFileSync(path.join(shim, 'package.json'), JSON.stringify({ name: 'node-pre-gyp', version: '0.0.0', main: 'index.js' }));
  fs.writeFileSync(
    path.join(shim, 'index.js'),
    "'use strict';\n// Stand-in for node-pre-gyp: the module under test is mmapobj's drop-in entry\n" +
      '// (or, to compare, the module named by MMAPOBJ_UPSTREAM_TARGET: a built mmap-object.node).\n' +
      "exports.find = () => process.env.MMAPOBJ_UPSTREAM_TARGET || require.resolve('mmapobj/mmap-object');\n"
  );
  return pkg;
}

/**
 * Runs the suite; returns {passes: string[], failures: {title, message}[], pending: string[]}, titles
 * being mocha's full titles ("mmap-object Writer sets properties to a string").
 */
function runUpstream({ work = path.join(os.tmpdir(), `mmapobj-upstream-${process.pid}`), keep = false } = {}) {
  try {
    return runIn(work);
  } finally {
    if (!keep) fs.rmSync(work, { recursive: true, force: true });
  }
}

function runIn(work) {
  const pkg = prepare(work);
  const report = path.join(work, 'report.json');
  const env = {
    ...process.env,
    PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}`,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
  const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const r = spawnSync(
    process.execPath,
    [mocha, '--reporter', 'json', '--reporter-option', `output=${report}`, 'test/test-*'],
    { cwd: pkg, env, encoding: 'utf8', timeout: 300000 }
  );
  if (!fs.existsSync(report)) {
    throw new Error(`mocha wrote no report (exit ${r.status} ${r.signal || ''}):\n${r.stdout}\n${r.stderr}`);
  }
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  // Tests the suite defines (mocha reports only those that ran).
  const defined = fs.readFileSync(path.join(pkg, 'test', 'test-mmap-object.js'), 'utf8').match(/^\s*it\(/gm).length;
  return {
    passes: json.passes.map((t) => t.fullTitle),
    failures: json.failures.map((t) => ({ title: t.fullTitle, message: t.err && t.err.message })),
    pending: json.pending.map((t) => t.fullTitle),
    defined,
  };
}

/** mmap-object 1.5.0's README.md, from the same tarball. */
function upstreamReadme() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-upstream-readme-'));
  try {
    return fs.readFileSync(path.join(prepare(work), 'README.md'), 'utf8');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { runUpstream, upstreamReadme, SPEC };

if (require.main === module) {
  const arg = process.argv[2];
  if (arg === '--prime') {
    // Put the tarball into npm's cache so that the suite runs offline later; never fail an install.
    // (npm runs "prepare" before `npm pack` and `npm publish` too: nothing to do there.)
    if (['pack', 'publish'].includes(process.env.npm_command)) return;
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-upstream-prime-'));
      try {
        fetchTarball(dir);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    } catch (e) {
      console.error(`note: ${e.message.split('\n')[0]} (the compatibility test will try again)`);
    }
  } else {
    const res = runUpstream({ keep: arg === '--keep' });
    if (arg === '--json') {
      console.log(JSON.stringify(res, null, 2));
    } else {
      for (const t of res.passes) console.log(`pass  ${t}`);
      for (const t of res.pending) console.log(`skip  ${t}`);
      for (const t of res.failures) console.log(`FAIL  ${t.title}\n      ${String(t.message).split('\n')[0]}`);
      console.log(`\n${SPEC}'s suite against mmapobj/mmap-object: ${res.defined} tests, ${res.passes.length} passed, ` +
        `${res.failures.length} failures (tests and hooks), ${res.pending.length} skipped`);
    }
    process.exitCode = res.failures.length ? 1 : 0;
  }
}
