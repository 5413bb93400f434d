'use strict';
// Renders a results object (see run.js) as markdown, ratios first, and the
// lookup latency chart as a hand-written SVG.

const KIND_LABEL = { str16: '16 B string values', num: 'number values', str1k: '1 KiB string values' };

function fmtN(n) { return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n); }
function fmt(x, d = 0) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}
function ratio(a, b) { return (a > 0 && b > 0) ? a / b : null; }
function fmtR(r) { return r === null ? 'n/a' : r.toFixed(2); }

function findLookup(data, n, kind, id, mode) {
  const cfg = data.lookup.find((c) => c.n === n && c.kind === kind);
  if (!cfg) return null;
  const r = cfg.results.find((x) => x.id === id && x.mode === mode);
  return r && !r.error ? r : null;
}
function sizes(data, kind) { return [...new Set(data.lookup.filter((c) => c.kind === kind).map((c) => c.n))].sort((a, b) => a - b); }

// ---- the issue 3 speed targets -------------------------------------------------
function targets(data) {
  const out = [];
  const lk = (n, id, mode = 'hit') => { const r = findLookup(data, n, 'str16', id, mode); return r ? r.median : null; };
  const ns = sizes(data, 'str16');
  const at = (want) => (ns.includes(want) ? want : null);
  const add = (name, value, limit, unit, note) => {
    const pass = value === null ? null : value <= limit;
    out.push({ name, value, limit, unit, note: note || '', result: pass === null ? 'n/a' : pass ? 'PASS' : 'MISS' });
  };
  const small = at(100000) || ns[0];
  const big = at(1000000) || ns[ns.length - 1];
  const note = (n, want) => (n === want ? '' : n ? `measured at ${fmtN(n)} keys (target is for ${fmtN(want)})` : 'not measured');
  for (const [mode, how] of [['hit', 'fresh key strings'], ['hit-reused', 'reused key strings']]) {
    if (small !== undefined) {
      add(`Open obj[k] / mmap-object o[k], hits, ${fmtN(small)} keys, ${how}`, ratio(lk(small, 'mmapobj.open.prop', mode), lk(small, 'mmap-object.prop', mode)), 0.25, 'x', note(small, 100000));
      add(`Open obj[k] / lmdb-js getString, hits, ${fmtN(small)} keys, ${how}`, ratio(lk(small, 'mmapobj.open.prop', mode), lk(small, 'lmdb.getString', mode)), 0.35, 'x', note(small, 100000));
    }
    if (big !== undefined && big !== small) {
      add(`Open obj[k] / mmap-object o[k], hits, ${fmtN(big)} keys, ${how}`, ratio(lk(big, 'mmapobj.open.prop', mode), lk(big, 'mmap-object.prop', mode)), 0.45, 'x', note(big, 1000000));
      add(`Open obj[k] / lmdb-js getString, hits, ${fmtN(big)} keys, ${how}`, ratio(lk(big, 'mmapobj.open.prop', mode), lk(big, 'lmdb.getString', mode)), 0.45, 'x', note(big, 1000000));
    }
  }
  for (const n of ns) add(`Open obj[k] miss / hit, ${fmtN(n)} keys (a miss costs no more than a hit)`, ratio(lk(n, 'mmapobj.open.prop', 'miss'), lk(n, 'mmapobj.open.prop')), 1.0, 'x');
  if (small !== undefined) {
    add(`SharedMap.get / Map.get, hits, ${fmtN(small)} keys, fresh key strings`, ratio(lk(small, 'mmapobj.open.get'), lk(small, 'floor.map')), 2.5, 'x', note(small, 100000));
    add(`SharedMap.get / Map.get, hits, ${fmtN(small)} keys, reused key strings`, ratio(lk(small, 'mmapobj.open.get', 'hit-reused'), lk(small, 'floor.map', 'hit-reused')), 2.5, 'x', note(small, 100000));
  }
  if (big !== undefined && big !== small) {
    add(`SharedMap.get / Map.get, hits, ${fmtN(big)} keys, fresh key strings`, ratio(lk(big, 'mmapobj.open.get'), lk(big, 'floor.map')), 1.0, 'x', note(big, 1000000));
    add(`SharedMap.get / Map.get, hits, ${fmtN(big)} keys, reused key strings`, ratio(lk(big, 'mmapobj.open.get', 'hit-reused'), lk(big, 'floor.map', 'hit-reused')), 1.0, 'x', note(big, 1000000));
  }
  for (const w of data.writes) {
    const g = w.results.find((r) => r.id === 'mmapobj.create.grow');
    const l = w.results.find((r) => r.id === 'lmdb.putSync');
    add(`Create obj[k]=v from default size / lmdb-js putSync in transactionSync, ${fmtN(w.n)} inserts`, ratio(g && g.insert && g.insert.median, l && l.insert && l.insert.median), 0.25, 'x');
  }
  const f = data.files;
  if (f) {
    const it = (id) => { const r = f.iterate.find((x) => x.id === id); return r && !r.error ? r.nsPerKey : null; };
    const nn = note(f.n, 1000000);
    add(`Open Object.keys, ns per key, ${fmtN(f.n)} keys`, it('mmapobj.keys'), 100, 'ns', nn);
    add(`Open for..of, ns per key, ${fmtN(f.n)} keys`, it('mmapobj.forof'), 100, 'ns', nn);
    const o = f.open.find((x) => x.id === 'mmapobj.Open');
    add(`new Open(path) of an existing ${fmtN(f.n)}-key file, warm, us`, o ? o.medianUs : null, 50, 'us', nn);
    add(`file bytes per key, ${fmtN(f.n)} keys, 16 B values`, f.size.mmapobj ? f.size.mmapobj.perKey : null, 56, 'B', nn);
  }
  return out;
}

// ---- markdown ------------------------------------------------------------------
function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

const MMAPOBJ_ROWS = [
  ['mmapobj.open.prop', 'Open obj[k]'],
  ['mmapobj.open.get', 'SharedMap.get(k)'],
  ['mmapobj.create.prop', 'Create obj[k] (writer)'],
];
const OTHERS = [
  ['mmap-object.prop', 'mmap-object o[k]'],
  ['lmdb.getString', 'lmdb getString'],
  ['lmdb.get', 'lmdb get'],
  ['floor.map', 'Map.get'],
  ['floor.koffi', 'koffi empty call'],
];

function ratioMatrix(data, kind) {
  const ns = sizes(data, kind);
  if (!ns.length) return '';
  const modes = kind === 'str16' ? ['hit', 'miss', 'hit-reused'] : ['hit'];
  const rows = [];
  const others = OTHERS.filter(([oid]) => ns.some((n) => findLookup(data, n, kind, oid, oid === 'floor.koffi' ? 'call' : 'hit')));
  for (const [id, label] of MMAPOBJ_ROWS) {
    for (const mode of modes) {
      const cells = others.map(([oid]) => ns.map((n) => {
        const a = findLookup(data, n, kind, id, mode);
        const b = findLookup(data, n, kind, oid, oid === 'floor.koffi' ? 'call' : mode);
        return fmtR(a && b ? ratio(a.median, b.median) : null);
      }).join(' / '));
      if (cells.every((c) => /^(n\/a( \/ )?)+$/.test(c))) continue;
      rows.push([`${label} ${mode}`, ...cells]);
    }
  }
  return `#### ${KIND_LABEL[kind]} (${ns.map(fmtN).join(' / ')} keys)\n\n` +
    table(['mmapobj ÷', ...others.map(([, l]) => l)], rows) + '\n';
}

function lookupTable(cfg) {
  const rows = cfg.results.map((r) => [r.label, r.mode, r.error ? `ERROR: ${r.error}` : fmt(r.median), `${fmt(r.min)}-${fmt(r.max)}`, fmt(r.p99), fmt(r.opsPerBatch),
    r.cpuShareMin === undefined ? 'n/a' : r.cpuShareMin.toFixed(2) + (r.retries ? ` (${r.retries} re-run${r.retries > 1 ? 's' : ''})` : '')]);
  return `#### ${fmtN(cfg.n)} keys, ${KIND_LABEL[cfg.kind]} (${cfg.rounds} rounds)\n\n` +
    table(['candidate', 'lookup', 'median ns/op', 'min-max', 'p99 ns/op (64-op groups)', 'ops per batch', 'min CPU share'], rows) + '\n';
}

function markdown(data) {
  const m = data.machine || {};
  let s = `# mmapobj benchmark\n\n`;
  s += `${data.date.slice(0, 16).replace('T', ' ')} UTC, ${data.mode} run (${data.elapsedSec || '?'} s). ` +
    `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.kernel}, Node ${m.node}` +
    `${m.loadavgAtStart ? `, load average ${m.loadavgAtStart[0]} at start` : ''}. ` +
    `Peers: lmdb ${data.versions.lmdb || 'n/a'}, mmap-object ${data.versions['mmap-object'] || 'n/a'}, koffi ${data.versions.koffi || 'n/a'}.\n\n`;
  const un = Object.entries(data.unavailable || {});
  if (un.length) s += `Not measured in this run: ${un.map(([k, v]) => `**${k}** (${v})`).join('; ')}.\n\n`;
  if (data.errors && data.errors.length) s += `Errors: ${data.errors.join('; ')}\n\n`;

  if (data.lookup.length) {
    s += `## Ratios (mmapobj time ÷ other time; below 1 means mmapobj is faster)\n\n`;
    s += `Median ns per lookup, random order, each batch with key strings never used before ` +
      `("hit-reused": the same strings looked up a second time, so V8 has their hash and internalised form). ` +
      `Cells are ${sizes(data, 'str16').map(fmtN).join(' / ')} keys.\n\n`;
    for (const kind of ['str16', 'num', 'str1k']) s += ratioMatrix(data, kind);
  }

  const t = targets(data);
  if (t.length) {
    s += `## Speed targets of issue 3\n\n`;
    s += table(['target', 'measured', 'limit', 'result'], t.map((x) => [x.name + (x.note ? ` — ${x.note}` : ''), x.value === null ? 'n/a' : `${x.unit === 'x' ? x.value.toFixed(2) : fmt(x.value, 1)} ${x.unit}`, `<= ${x.limit} ${x.unit}`, x.result]));
    s += `\n${t.filter((x) => x.result === 'PASS').length} PASS, ${t.filter((x) => x.result === 'MISS').length} MISS, ${t.filter((x) => x.result === 'n/a').length} n/a (information only; the run does not fail on a MISS).\n\n`;
  }

  if (data.lookup.length) {
    s += `## Lookup latency\n\n`;
    s += `"min CPU share": the lowest, over the rounds, of the process's CPU time over a batch's wall time; well below 1, other processes took the CPU during that batch. A batch below 0.9 is measured again (at most twice, within a retry budget per configuration) and the attempt with the highest share kept; the median over rounds absorbs the rest.\n\n`;
    for (const cfg of data.lookup) s += lookupTable(cfg);
  }
  if (data.writes.length) {
    s += `## Writes (ns per op, median of rounds; ops/s in brackets)\n\n`;
    for (const w of data.writes) {
      const cell = (x) => (x ? `${fmt(x.median)} (${fmt(1e9 / x.median)}/s)` : 'n/a');
      const rows = w.results.map((r) => [r.label, r.error ? `ERROR: ${r.error}` : cell(r.insert), cell(r.overwrite), cell(r.delete),
        r.partial ? `stopped after ${fmt(Math.min(...r.keysDone))} keys (${w.capMs} ms cap)` : '']);
      s += `#### ${fmtN(w.n)} keys, random order, 16 B values (${w.rounds} round${w.rounds > 1 ? 's' : ''})\n\n`;
      s += table(['system', 'insert', 'overwrite', 'delete', 'note'], rows) + '\n';
    }
  }
  const f = data.files;
  if (f) {
    s += `## Open time, file size, iteration (${fmtN(f.n)} keys, 16 B values)\n\n`;
    s += table(['open of an existing file (warm)', 'median us', 'min-max us'], f.open.map((o) => [o.label, fmt(o.medianUs, 1), `${fmt(o.minUs, 1)}-${fmt(o.maxUs, 1)}`])) + '\n';
    s += table(['system', 'file bytes', 'bytes per key', 'build ms'], Object.entries(f.size).map(([k, v]) => [k, fmt(v.bytes), fmt(v.perKey, 1) + (v.usedPerKey !== undefined && v.usedPerKey !== v.perKey ? ` (${fmt(v.usedPerKey, 1)} used)` : ''), fmt(v.buildMs)])) + '\n';
    s += table(['iteration', 'ns per key', 'min-max'], f.iterate.map((x) => [x.label, x.error ? `ERROR: ${x.error}` : fmt(x.nsPerKey, 1), `${fmt(x.min, 1)}-${fmt(x.max, 1)}`])) + '\n';
  }
  if (data.sharing.length) {
    const sh = data.sharing;
    s += `## Sharing: K reader processes on one ${fmtN(sh[0].n)}-key file, random gets\n\n`;
    s += `Each reader ${sh[0].pinned ? 'is pinned to one CPU (taskset) and ' : 'runs unpinned and '}opens the files of all systems; ` +
      `all readers switch system at the same instants (${sh[0].slots} slots of ${sh[0].windowMs} ms, round-robin), so every system sees the same noise. ` +
      `PSS splits each shared page between the processes that map it: a file held in RAM once shows the same summed PSS of the data file whatever K is.\n\n`;
    const rows = [];
    for (const x of sh) {
      for (const y of x.systems) {
        const one = sh.find((z) => z.k === 1);
        const base = one && one.systems.find((z) => z.system === y.system);
        rows.push([y.system, x.k, fmt(y.opsPerSec), base && x.k > 1 ? `${(y.opsPerSec / base.opsPerSec).toFixed(2)}x` : '',
          y.opsPerCpuSec ? fmt(y.opsPerCpuSec) : 'n/a', y.cpuShare ? y.cpuShare.map((v) => v.toFixed(2)).join(', ') : 'n/a',
          y.perReaderNsPerOp.map((v) => fmt(v)).join(', '), fmt(y.dataFilePssKb / 1024, 1), fmt(y.fileBytes / 2 ** 20, 1)]);
      }
    }
    s += table(['system', 'K', 'aggregate gets/s', 'vs K=1', 'gets per CPU-second, summed', 'CPU share per reader', 'ns/get per reader', 'PSS of the data file, sum over readers, MiB', 'file MiB'], rows) + '\n';
    s += `"CPU share" is the CPU time a reader got (process.cpuUsage) over the wall time of its lookup loops: below about 0.9, other processes on the machine took CPU from it, and aggregate gets/s understates what the system can do (gets per CPU-second does not).\n\n`;
    s += table(['K', 'total PSS of the reader processes, MiB (all systems\' files mapped, Node heaps included)'], sh.map((x) => [x.k, `${fmt(x.totalPssKb / 1024, 1)} (${x.perReaderPssKb.map((v) => fmt(v / 1024, 1)).join(' + ')})`])) + '\n';
  }
  if (data.writers && data.writers.length) {
    const wr = data.writers;
    s += `## Writers: K writer processes on one file, disjoint keys, overwrites\n\n`;
    s += `Each writer process ${wr[0].pinned ? 'is pinned to CPU i mod the core count (taskset) and ' : 'runs unpinned and '}` +
      `overwrites its own ${fmt(wr[0].keysPer)} keys (16 B values, random order) in every system: mmapobj \`SharedMap.set\` ` +
      `(every process a writer of the same file, each set taking the file's write lock) and lmdb-js \`putSync\` ` +
      `(every put its own write transaction; opened with \`noSync\`: no fsync per commit, as mmapobj's sets). All writers switch ` +
      `system at the same instants (${wr[0].slots} slots of ${wr[0].windowMs} ms, round-robin). Aggregate ops/s: all the writers' ops on a system ` +
      `over the wall time of its slots; "per CPU-second": over the CPU time the writers spent in their write loops (other processes on the ` +
      `machine lower the first, not the second; a writer waiting for a lock spends CPU while it spins, not while it sleeps).\n\n`;
    const one = wr.find((z) => z.k === 1);
    const rows = [];
    for (const x of wr) {
      for (const y of x.systems) {
        const base = one && one.systems.find((z) => z.system === y.system);
        const lm = x.systems.find((z) => z.system === 'lmdb');
        rows.push([`${y.system}, K=${x.k}`, fmt(y.opsPerSec), base ? (y.opsPerSec / base.opsPerSec).toFixed(2) : 'n/a',
          fmt(y.opsPerCpuSec), y.perWriterNsPerOp.map((v) => fmt(v)).join(' / '), y.cpuShare.join(' / '),
          y.system === 'mmapobj' && lm ? (y.opsPerSec / lm.opsPerSec).toFixed(2) : '']);
      }
    }
    s += table(['system, writers', 'aggregate ops/s', '÷ K=1', 'ops per CPU-second', 'ns per op, each writer', 'CPU share, each writer', 'mmapobj ÷ lmdb-js ops/s'], rows) + '\n';
  }
  return s;
}

// ---- SVG chart -----------------------------------------------------------------
function esc(t) { return String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }

function svg(data) {
  const ns = sizes(data, 'str16');
  const order = ['mmapobj.open.prop', 'mmapobj.open.get', 'mmapobj.create.prop', 'floor.map', 'floor.koffi', 'lmdb.getString', 'lmdb.get', 'mmap-object.prop'];
  const rows = [];
  for (const id of order) {
    for (const mode of ['hit', 'miss', 'call']) {
      const vals = ns.map((n) => findLookup(data, n, 'str16', id, mode));
      if (vals.every((v) => !v)) continue;
      rows.push({ label: `${(vals.find(Boolean) || {}).label} ${mode === 'call' ? '' : mode}`.trim(), group: (vals.find(Boolean) || {}).group, vals });
    }
  }
  const colors = ['#4c78a8', '#f58518', '#54a24b', '#b279a2'];
  const W = 960, left = 300, right = 90, top = 74, barH = 13, gap = 2, rowGap = 10;
  const rowH = ns.length * (barH + gap) + rowGap;
  const H = top + rows.length * rowH + 40;
  const max = Math.max(1, ...rows.flatMap((r) => r.vals.map((v) => (v ? v.max : 0))));
  const step = [50, 100, 200, 250, 500, 1000, 2000, 5000].find((x) => max / x <= 8) || 10000;
  const axisMax = Math.ceil(max / step) * step;
  const x = (v) => left + (W - left - right) * (v / axisMax);
  let o = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">\n`;
  o += `<rect width="100%" height="100%" fill="#ffffff"/>\n`;
  o += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">Lookup latency, 16 B string values, random order, fresh key strings (median ns/op, lower is better)</text>\n`;
  const m = data.machine || {};
  o += `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(`${data.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}; whiskers: min-max of ${data.options.rounds} rounds`)}</text>\n`;
  for (let v = 0; v <= axisMax; v += step) {
    o += `<line x1="${x(v).toFixed(1)}" y1="${top - 6}" x2="${x(v).toFixed(1)}" y2="${H - 34}" stroke="#e3e3e3"/>\n`;
    o += `<text x="${x(v).toFixed(1)}" y="${H - 20}" text-anchor="middle" fill="#555">${v}</text>\n`;
  }
  o += `<text x="${(left + W - right) / 2}" y="${H - 4}" text-anchor="middle" fill="#555">ns per lookup</text>\n`;
  rows.forEach((r, i) => {
    const y0 = top + i * rowH;
    const weight = r.group === 'mmapobj' ? 'bold' : 'normal';
    o += `<text x="${left - 8}" y="${(y0 + (ns.length * (barH + gap)) / 2 + 4).toFixed(1)}" text-anchor="end" font-weight="${weight}">${esc(r.label)}</text>\n`;
    r.vals.forEach((v, j) => {
      const y = y0 + j * (barH + gap);
      if (!v) return;
      o += `<rect x="${left}" y="${y}" width="${(x(v.median) - left).toFixed(1)}" height="${barH}" fill="${colors[j % colors.length]}"/>\n`;
      o += `<line x1="${x(v.min).toFixed(1)}" y1="${y + barH / 2}" x2="${x(v.max).toFixed(1)}" y2="${y + barH / 2}" stroke="#222" stroke-width="1"/>\n`;
      o += `<text x="${(x(v.max) + 4).toFixed(1)}" y="${y + barH - 2}" fill="#222">${fmt(v.median)}</text>\n`;
    });
  });
  ns.forEach((n, j) => {
    const lx = left + j * 110;
    o += `<rect x="${lx}" y="${top - 22}" width="12" height="10" fill="${colors[j % colors.length]}"/><text x="${lx + 16}" y="${top - 13}">${fmtN(n)} keys</text>\n`;
  });
  o += '</svg>\n';
  return o;
}

module.exports = { markdown, svg, targets };
