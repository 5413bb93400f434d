#!/usr/bin/env node
'use strict';
// `npm run bench` entry. Installs the peers on first use (bench/package.json),
// runs every phase in its own child process (lookups per key count and value
// kind, writes, open/size/iteration, multi-process sharing, K writer processes), then prints a
// markdown report (ratios first) and writes JSON, markdown and an SVG chart to
// bench/results/. `--c` runs the C benchmark of the core instead.
//
//   node bench/run.js [--quick] [--keys 100000,1000000] [--rounds 5]
//                     [--only lookup,writes,files,sharing,writers] [--out DIR]
//                     [--no-install] [--c] [--report results.json]

const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const report = require('./lib/report');

const BENCH_DIR = __dirname;
const ROOT_DIR = path.resolve(BENCH_DIR, '..');

function usage() {
  return `usage: npm run bench -- [options]
  --quick            small run (~40 s): 100k keys, 3 rounds, shorter batches
  --keys LIST        key counts, comma separated (default 100000,1000000); 1e5 and 100k work too
  --rounds N         timed rounds per lookup candidate (default 5)
  --only LIST        phases to run: lookup,writes,files,sharing,writers (default all)
  --out DIR          where results go (default bench/results)
  --no-install       do not install missing peers (run without them)
  --c                build and run the C benchmark of the core (cmake, build-bench/)
  --report FILE      only re-render the markdown and SVG from a results JSON
  --help`;
}

function parseCount(s) {
  const m = /^(\d+(?:\.\d+)?)(k|m|e\d+)?$/i.exec(String(s).trim());
  if (!m) throw new Error(`bad key count: ${s}`);
  let v = Number(m[1]);
  const suf = (m[2] || '').toLowerCase();
  if (suf === 'k') v *= 1e3; else if (suf === 'm') v *= 1e6; else if (suf.startsWith('e')) v *= 10 ** Number(suf.slice(1));
  if (!Number.isInteger(v) || v < 1000 || v > 50e6) throw new Error(`key count out of range (1000..50M): ${s}`);
  return v;
}

function parseArgs(argv) {
  const o = { quick: false, keys: null, rounds: null, only: null, out: path.join(BENCH_DIR, 'results'), install: true, c: false, report: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--quick') o.quick = true;
    else if (a === '--keys') o.keys = next().split(',').map(parseCount);
    else if (a.startsWith('--keys=')) o.keys = a.slice(7).split(',').map(parseCount);
    else if (a === '--rounds') o.rounds = Number(next());
    else if (a.startsWith('--rounds=')) o.rounds = Number(a.slice(9));
    else if (a === '--only') o.only = next().split(',');
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',');
    else if (a === '--out') o.out = path.resolve(next());
    else if (a === '--no-install') o.install = false;
    else if (a === '--c') o.c = true;
    else if (a === '--report') o.report = path.resolve(next());
    else if (a === '--help' || a === '-h') { console.log(usage()); process.exit(0); }
    else throw new Error(`unknown option ${a}\n${usage()}`);
  }
  if (o.rounds !== null && !(Number.isInteger(o.rounds) && o.rounds >= 1 && o.rounds <= 100)) throw new Error('--rounds must be 1..100');
  const phases = ['lookup', 'writes', 'files', 'sharing', 'writers'];
  if (o.only) for (const p of o.only) if (!phases.includes(p)) throw new Error(`unknown phase ${p} (phases: ${phases.join(',')})`);
  o.phases = o.only || phases;
  if (!o.keys) o.keys = o.quick ? [100000] : [100000, 1000000];
  o.keys = [...new Set(o.keys)].sort((a, b) => a - b);
  if (o.rounds === null) o.rounds = o.quick ? 3 : 5;
  return o;
}

function log(msg) { process.stderr.write(`[bench] ${msg}\n`); }

// ---- peers -------------------------------------------------------------------
function peerState() {
  const st = {};
  for (const name of ['lmdb', 'mmap-object', 'koffi']) {
    const r = cp.spawnSync(process.execPath, ['-e', `require(require.resolve(${JSON.stringify(name)}, { paths: [${JSON.stringify(BENCH_DIR)}] }))`], { encoding: 'utf8' });
    st[name] = r.status === 0 ? null : (r.stderr.split('\n').find((l) => /Error|Cannot/.test(l)) || 'failed to load').trim();
  }
  return st;
}

function hashFiles() {
  const h = require('crypto').createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) {
    try { h.update(fs.readFileSync(path.join(BENCH_DIR, f))); } catch { /* ignore */ }
  }
  return h.digest('hex').slice(0, 16);
}

function installPeers() {
  const stamp = path.join(BENCH_DIR, 'node_modules', '.mmapobj-bench-install.json');
  let st = peerState();
  const missing = Object.keys(st).filter((k) => st[k]);
  if (missing.length === 0) return { state: st, installed: false };
  let prev = null;
  try { prev = JSON.parse(fs.readFileSync(stamp, 'utf8')); } catch { /* none */ }
  // Do not retry a failed optional build on every run: only when lmdb is
  // missing, or the package files changed since the last attempt.
  if (prev && prev.hash === hashFiles() && !st.lmdb) {
    for (const m of missing) log(`peer ${m} is not available (${st[m]}); a previous install attempt failed${prev.hint ? `: ${prev.hint}` : ''}`);
    return { state: st, installed: false };
  }
  log(`installing benchmark peers into bench/node_modules (${missing.join(', ')} missing).`);
  log('lmdb ships prebuilt binaries; mmap-object 1.5.0 is built from source by node-gyp (needs libboost-dev, g++, make, python3); first install takes ~20-60 s.');
  const env = { ...process.env, CXXFLAGS: `${process.env.CXXFLAGS || ''} -Wno-error`.trim() };
  if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  const hasLock = fs.existsSync(path.join(BENCH_DIR, 'package-lock.json'));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error'];
  const t0 = Date.now();
  const timer = setInterval(() => log(`  still installing peers (${Math.round((Date.now() - t0) / 1000)} s)...`), 10000);
  const r = cp.spawnSync(npm, args, { cwd: BENCH_DIR, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  clearInterval(timer);
  const out = `${r.stdout || ''}${r.stderr || ''}`;
  if (r.status !== 0) {
    log(`npm ${args[0]} in bench/ failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}); the run goes on without the missing peers. Last output:`);
    for (const l of out.trim().split('\n').slice(-15)) log(`  | ${l}`);
  } else log(`peers installed in ${Math.round((Date.now() - t0) / 1000)} s`);
  st = peerState();
  let hint = '';
  if (st['mmap-object']) {
    const missingTools = ['g++', 'make', 'python3'].filter((t) => cp.spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
    if (!fs.existsSync('/usr/include/boost/interprocess/managed_mapped_file.hpp')) missingTools.push('Boost headers (libboost-dev)');
    hint = missingTools.length
      ? `missing: ${missingTools.join(', ')}; on Debian/Ubuntu \`apt-get install -y libboost-dev g++ make python3\`, then delete bench/node_modules and run again`
      : 'to see the compiler output: `cd bench && npm_config_nodedir=/usr CXXFLAGS=-Wno-error npm install --no-save mmap-object@1.5.0`';
    log(`mmap-object 1.5.0 (optional) could not be built and is left out of this run: ${hint}`);
  }
  try { fs.mkdirSync(path.dirname(stamp), { recursive: true }); fs.writeFileSync(stamp, JSON.stringify({ hash: hashFiles(), state: st, hint, at: new Date().toISOString() })); } catch { /* ignore */ }
  return { state: st, installed: true };
}

// ---- children ------------------------------------------------------------------
function runChild(script, args, env, timeoutMs) {
  const resultFile = path.join(args.dir, `result-${path.basename(script, '.js')}-${process.hrtime.bigint()}.json`);
  const full = { ...args, resultFile };
  const nodeArgs = ['--expose-gc', '--max-old-space-size=12288', path.join(BENCH_DIR, 'lib', script), JSON.stringify(full)];
  const r = cp.spawnSync(process.execPath, nodeArgs, { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: timeoutMs });
  if (r.status !== 0 || !fs.existsSync(resultFile)) {
    return { error: `${script} ${JSON.stringify({ ...args, dir: undefined })} failed: ${r.error ? r.error.message : `exit ${r.status}${r.signal ? ` signal ${r.signal}` : ''}`}` };
  }
  const res = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  fs.unlinkSync(resultFile);
  return res;
}

function buildNop(tmp) {
  const so = path.join(tmp, 'nop.so');
  const cc = process.env.CC || 'cc';
  const r = cp.spawnSync(cc, ['-O2', '-shared', '-fPIC', '-o', so, path.join(BENCH_DIR, 'lib', 'nop.c')], { encoding: 'utf8' });
  if (r.status !== 0) { log(`could not compile the koffi floor with ${cc} (${r.error ? r.error.message : r.stderr.trim()}); it is left out`); return null; }
  return so;
}

// ---- sharing -------------------------------------------------------------------
function readPss(pid, dataFile) {
  const out = { pssKb: null, pssAnonKb: null, pssFileKb: null, dataFilePssKb: 0, dataFileRssKb: 0 };
  try {
    const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const g = (k) => { const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(roll); return m ? Number(m[1]) : null; };
    out.pssKb = g('Pss'); out.pssAnonKb = g('Pss_Anon'); out.pssFileKb = g('Pss_File');
  } catch (e) { out.error = `smaps_rollup: ${e.message}`; }
  try {
    const real = fs.realpathSync(dataFile);
    const lines = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
    let inFile = false;
    for (const l of lines) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) { const p = l.split(/\s+/).slice(5).join(' '); inFile = p === real; continue; }
      if (!inFile) continue;
      let m = /^Pss:\s+(\d+) kB/.exec(l); if (m) out.dataFilePssKb += Number(m[1]);
      m = /^Rss:\s+(\d+) kB/.exec(l); if (m) out.dataFileRssKb += Number(m[1]);
    }
  } catch (e) { out.error = `smaps: ${e.message}`; }
  return out;
}

function lineReader(stream, onLine) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); } });
}

// One child of a multi-process phase (bench/lib/<role>.js), pinned to a CPU when taskset exists.
// It prints 'ready', waits for 'go <ms>' on stdin, then prints its JSON report: p.ready and p.done
// settle on those lines, and both reject if the child exits first.
function spawnPhaseChild(role, nodeFlags, cpu, opts, haveTaskset) {
  const script = path.join(BENCH_DIR, 'lib', `${role}.js`);
  const nodeArgv = [...nodeFlags, script, JSON.stringify(opts)];
  const cmd = haveTaskset ? 'taskset' : process.execPath;
  const argv = haveTaskset ? ['-c', String(cpu), process.execPath, ...nodeArgv] : nodeArgv;
  const child = cp.spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const p = { child };
  p.ready = new Promise((res, rej) => {
    p.done = new Promise((res2, rej2) => {
      lineReader(child.stdout, (line) => {
        if (line === 'ready') res();
        else { try { res2(JSON.parse(line)); } catch { /* ignore */ } }
      });
      child.on('exit', (code) => { rej(new Error(`${role} exited (${code}) before it was ready`)); rej2(new Error(`${role} exit code ${code} before its report`)); });
    });
  });
  p.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  return p;
}

async function sharingRun(systems, n, k, windowMs, slots, ncpu, haveTaskset) {
  const procs = [];
  for (let i = 0; i < k; i++) {
    procs.push(spawnPhaseChild('reader', ['--max-old-space-size=4096'], i % ncpu,
      { systems, n, windowMs, slots, seed: 0x1234567 + i * 7919 }, haveTaskset));
  }
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (e) {
    for (const p of procs) p.child.kill();
    throw e;
  }
  const start = Date.now() + 100;
  for (const p of procs) p.child.stdin.write(`go ${start}\n`);
  // sample memory late in the schedule, while every file is mapped and touched
  await new Promise((r) => setTimeout(r, 100 + windowMs * slots * 0.85));
  const pss = procs.map((p) => Object.fromEntries(systems.map((s) => [s.system, readPss(p.child.pid, s.dataFile)])));
  const res = await Promise.all(procs.map((p) => p.done));
  const codes = await Promise.all(procs.map((p) => p.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a reader reported wrong lookups (exit codes ${codes.join(',')})`);
  const sum = (xs) => xs.reduce((acc, x) => acc + (x || 0), 0);
  const first = systems[0].system;
  return {
    k, pinned: haveTaskset, windowMs, slots,
    totalPssKb: sum(pss.map((x) => x[first].pssKb)),
    perReaderPssKb: pss.map((x) => x[first].pssKb),
    systems: systems.map((s) => {
      const rs = res.map((r) => r.results.find((x) => x.system === s.system));
      return {
        system: s.system,
        opsPerSec: Math.round(sum(rs.map((r) => r.ops / (r.getNs / 1e9)))),
        opsPerCpuSec: Math.round(sum(rs.map((r) => r.ops / (r.cpuUs / 1e6)))),
        cpuShare: rs.map((r) => Math.round((r.cpuUs * 1e3 / r.getNs) * 100) / 100),
        perReaderNsPerOp: rs.map((r) => Math.round(r.getNs / r.ops * 10) / 10),
        dataFilePssKb: sum(pss.map((x) => x[s.system].dataFilePssKb)),
        dataFileRssKb: sum(pss.map((x) => x[s.system].dataFileRssKb)),
        fileBytes: fs.statSync(s.dataFile).size,
      };
    }),
  };
}

// ---- writers ---------------------------------------------------------------------
// K writer processes (bench/lib/writer.js), each pinned to CPU i % ncpu, on disjoint keys, all
// switching system at the same instants (the schedule of the sharing phase).
async function writersRun(systems, keysPer, k, windowMs, slots, ncpu, haveTaskset) {
  const procs = [];
  for (let i = 0; i < k; i++) {
    procs.push(spawnPhaseChild('writer', [], i % ncpu,
      { systems, id: i, keys: keysPer, windowMs, slots, seed: 0x51ED + i * 7919 }, haveTaskset));
  }
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (e) {
    for (const p of procs) p.child.kill();
    throw e;
  }
  const start = Date.now() + 100;
  for (const p of procs) p.child.stdin.write(`go ${start}\n`);
  const res = await Promise.all(procs.map((p) => p.done));
  const codes = await Promise.all(procs.map((p) => p.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a writer lost its own writes (exit codes ${codes.join(',')})`);
  const sum = (xs) => xs.reduce((acc, x) => acc + (x || 0), 0);
  return {
    k, pinned: haveTaskset, windowMs, slots, keysPer,
    systems: systems.map((s) => {
      const rs = res.map((r) => r.results.find((x) => x.system === s.system));
      // every writer writes to this system during the same slots: the aggregate rate is all
      // their ops over that wall time
      const wallSec = (windowMs / 1000) * (slots / systems.length);
      return {
        system: s.system,
        opsPerSec: Math.round(sum(rs.map((r) => r.ops)) / wallSec),
        opsPerCpuSec: Math.round(sum(rs.map((r) => r.ops)) / (sum(rs.map((r) => r.cpuUs)) / 1e6)),
        cpuShare: rs.map((r) => Math.round((r.cpuUs * 1e3 / r.ns) * 100) / 100),
        perWriterNsPerOp: rs.map((r) => Math.round(r.ns / r.ops * 10) / 10),
        ops: sum(rs.map((r) => r.ops)),
      };
    }),
  };
}

// ---- C benchmark ---------------------------------------------------------------
function runC(opts) {
  const bdir = path.join(ROOT_DIR, 'build-bench');
  const steps = [
    ['cmake', ['-S', ROOT_DIR, '-B', bdir, '-DCMAKE_BUILD_TYPE=Release', '-DMMAPOBJ_BUILD_TESTS=OFF', '-DMMAPOBJ_BUILD_BENCH=ON', '-DMMAPOBJ_BUILD_TOOLS=OFF']],
    ['cmake', ['--build', bdir, '--target', 'mmapobj_bench', '-j', String(os.cpus().length)]],
  ];
  for (const [cmd, args] of steps) {
    log(`${cmd} ${args.join(' ')}`);
    const r = cp.spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) { log(`C benchmark build failed (${r.error ? r.error.message : `exit ${r.status}`})`); return 1; }
  }
  const exe = path.join(bdir, 'bench', 'c', 'mmapobj_bench');
  const args = ['--keys', opts.keys.join(','), '--rounds', String(opts.rounds), '--dir', fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-cbench-'))];
  if (opts.quick) args.push('--quick');
  const jsonOut = path.join(opts.out, opts.quick ? 'c-quick.json' : 'c-results.json');
  args.push('--json', jsonOut);
  log(`${exe} ${args.join(' ')}`);
  const r = cp.spawnSync(exe, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout || '');
  if (r.status === 0) {
    const m = os.cpus()[0] || {};
    const head = `<!-- npm run bench -- --c${opts.quick ? ' --quick' : ''}, ${new Date().toISOString().slice(0, 16)} UTC, ${m.model}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} -->\n`;
    fs.writeFileSync(path.join(opts.out, opts.quick ? 'c-quick.md' : 'c-results.md'), head + r.stdout);
    log(`wrote ${path.relative(process.cwd(), jsonOut)} and the markdown beside it`);
  }
  fs.rmSync(args[args.indexOf('--dir') + 1], { recursive: true, force: true });
  return r.status === null ? 1 : r.status;
}

// ---- main ----------------------------------------------------------------------
async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(e.message); process.exit(2); }
  fs.mkdirSync(opts.out, { recursive: true });
  const prefix = opts.quick ? 'quick' : 'results';

  if (opts.report) {
    const data = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
    const md = report.markdown(data);
    process.stdout.write(md);
    fs.writeFileSync(path.join(opts.out, `${prefix}.md`), md);
    if (data.lookup.length) fs.writeFileSync(path.join(opts.out, opts.quick ? 'quick-lookup.svg' : 'lookup.svg'), report.svg(data));
    return 0;
  }
  if (opts.c) return runC(opts);

  let t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmapobj-bench-'));
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const peers = opts.install ? installPeers() : { state: peerState(), installed: false };
    if (!opts.install) for (const [name, err] of Object.entries(peers.state)) if (err) log(`peer ${name} unavailable: ${err}`);
    const installSec = Math.round((Date.now() - t0) / 1000);
    t0 = Date.now();

    const load = os.loadavg()[0];
    if (load > 0.5) log(`note: load average is ${load.toFixed(2)} before the run (other processes are busy); absolute figures will be noisy, ratios less so`);
    const nop = buildNop(tmp);
    const env = { ...process.env };
    if (nop) env.MMAPOBJ_BENCH_NOP = nop;
    const ncpu = os.cpus().length;
    const C = require('./lib/common');
    const lib = C.loadMmapobj();
    if (lib.error) log(`mmapobj is not loadable, only peers and floors are measured: ${lib.error}`);

    const data = {
      date: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'default',
      argv: process.argv.slice(2),
      machine: {
        cpu: (os.cpus()[0] || {}).model, cores: ncpu, memGiB: Math.round(os.totalmem() / 2 ** 30),
        kernel: `${os.type()} ${os.release()}`, node: process.version, hostname: os.hostname(), loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
      },
      versions: {
        mmapobj: lib.mod && lib.mod.library ? lib.mod.library : null,
        lmdb: C.peerVersion('lmdb'), 'mmap-object': C.peerVersion('mmap-object'), koffi: C.peerVersion('koffi'),
      },
      options: { keys: opts.keys, rounds: opts.rounds, phases: opts.phases },
      installSec,
      unavailable: Object.fromEntries(Object.entries(peers.state).filter(([, e]) => e)),
      lookup: [], writes: [], files: null, sharing: [], writers: [], errors: [],
    };
    if (lib.error) data.unavailable.mmapobj = lib.error;
    if (!nop) data.unavailable['koffi floor'] = 'nop.c could not be compiled';

    const batchMs = opts.quick ? 60 : 100;
    const nmax = opts.keys[opts.keys.length - 1];
    const nmin = opts.keys[0];

    if (opts.phases.includes('lookup')) {
      const configs = [];
      for (const n of opts.keys) configs.push({ n, kind: 'str16', withMisses: true });
      if (!opts.quick) for (const n of opts.keys) configs.push({ n, kind: 'num', withMisses: false });
      // 1 KiB values at the smallest size only (at most 200k keys: 1M would be ~4 GiB of stores)
      configs.push({ n: Math.min(nmin, 200000), kind: 'str1k', withMisses: false });
      for (const cfg of configs) {
        log(`lookup: ${cfg.n} keys, ${cfg.kind} values (${((Date.now() - t0) / 1000).toFixed(0)} s elapsed)`);
        const r = runChild('lookup.js', { ...cfg, rounds: opts.rounds, batchMs, retryBudgetMs: opts.quick ? 2000 : 6000, dir: tmp }, env, 15 * 60e3);
        if (r.error) { log(r.error); data.errors.push(r.error); } else data.lookup.push(r);
        for (const f of fs.readdirSync(tmp)) if (f !== 'nop.so') fs.rmSync(path.join(tmp, f), { recursive: true, force: true });
      }
    }
    if (opts.phases.includes('writes')) {
      for (const n of opts.keys) {
        log(`writes: ${n} keys (${((Date.now() - t0) / 1000).toFixed(0)} s elapsed)`);
        const rounds = n <= 200000 ? (opts.quick ? 1 : 3) : 1;
        const r = runChild('writes.js', { n, rounds, capMs: opts.quick ? 1000 : 1500, dir: tmp }, env, 15 * 60e3);
        if (r.error) { log(r.error); data.errors.push(r.error); } else data.writes.push(r);
      }
    }
    let files = null;
    if (opts.phases.includes('files') || opts.phases.includes('sharing')) {
      log(`files: open time, bytes per key, iteration at ${nmax} keys (${((Date.now() - t0) / 1000).toFixed(0)} s elapsed)`);
      const r = runChild('files.js', { n: nmax, rounds: opts.quick ? 2 : 3, opensPerRound: opts.quick ? 20 : 40, dir: tmp }, env, 15 * 60e3);
      if (r.error) { log(r.error); data.errors.push(r.error); } else { files = r; data.files = r; }
    }
    if (opts.phases.includes('sharing') && files) {
      const haveTaskset = cp.spawnSync('taskset', ['-c', '0', 'true']).status === 0;
      if (!haveTaskset) log('taskset not found (util-linux): reader processes run unpinned');
      const ks = [...new Set([1, 2, ncpu])].sort((a, b) => a - b);
      const windowMs = opts.quick ? 150 : 300;
      const systems = Object.entries(files.files).map(([system, f]) => ({ system, file: f.path, dataFile: f.dataFile }));
      const slots = systems.length * (opts.quick ? 3 : 5);
      for (const k of ks) {
        log(`sharing: ${k} reader process${k > 1 ? 'es' : ''} x ${systems.map((x) => x.system).join(', ')} (${((Date.now() - t0) / 1000).toFixed(0)} s elapsed)`);
        try {
          data.sharing.push({ n: nmax, ...(await sharingRun(systems, nmax, k, windowMs, slots, ncpu, haveTaskset)) });
        } catch (e) { const m = `sharing k=${k}: ${e.message}`; log(m); data.errors.push(m); }
      }
    }
    if (opts.phases.includes('writers')) {
      const haveTaskset = cp.spawnSync('taskset', ['-c', '0', 'true']).status === 0;
      const keysPer = opts.quick ? 20000 : 50000;
      const systems = [{ system: 'mmapobj', file: path.join(tmp, 'writers.mmo') }];
      if (!peers.state.lmdb) systems.push({ system: 'lmdb', file: path.join(tmp, 'writers-lmdb') });
      const windowMs = opts.quick ? 150 : 300;
      const slots = systems.length * (opts.quick ? 3 : 5);
      for (const k of [1, 2, 4]) {
        log(`writers: ${k} writer process${k > 1 ? 'es' : ''} x ${systems.map((x) => x.system).join(', ')} (${((Date.now() - t0) / 1000).toFixed(0)} s elapsed)`);
        try {
          data.writers.push(await writersRun(systems, keysPer, k, windowMs, slots, ncpu, haveTaskset));
        } catch (e) { const m = `writers k=${k}: ${e.message}`; log(m); data.errors.push(m); }
      }
    }
    data.elapsedSec = Math.round((Date.now() - t0) / 1000);
    const md = report.markdown(data);
    process.stdout.write(md);
    fs.writeFileSync(path.join(opts.out, `${prefix}.json`), JSON.stringify(data, null, 1) + '\n');
    fs.writeFileSync(path.join(opts.out, `${prefix}.md`), md);
    if (data.lookup.length) fs.writeFileSync(path.join(opts.out, opts.quick ? 'quick-lookup.svg' : 'lookup.svg'), report.svg(data));
    log(`done in ${data.elapsedSec} s; wrote ${path.relative(process.cwd(), path.join(opts.out, prefix))}.{json,md} and the lookup chart`);
    return 0;
  } finally {
    cleanup();
  }
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e && e.stack || e); process.exitCode = 1; });
