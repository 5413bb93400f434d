'use strict';
// `import` works as well as `require`, through the package's "exports", with one instance of each
// class for both (so instanceof agrees across the two).
const assert = require('uvu/assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { setup, childEnv } = require('./helpers');

const t = setup('esm', { linkPackage: true });
const { test } = t;

test('import default and named exports; same objects as require', () => {
  const file = path.join(t.dir, 'esm.mjs');
  fs.writeFileSync(
    file,
    `import mmapobj, { Create, Open, SharedMap, MmapObjError, library, codes, mapOf } from 'mmapobj';
     import { createRequire } from 'node:module';
     const cjs = createRequire(import.meta.url)('mmapobj');
     const o = new Create('esm.mmo');
     o.k = 'from esm';
     const r = new Open('esm.mmo');
     console.log(JSON.stringify({
       same: cjs.Create === Create && cjs.SharedMap === SharedMap && mmapobj.Open === Open && cjs === mmapobj,
       value: r.k,
       isMap: mapOf(r) instanceof cjs.SharedMap,
       err: MmapObjError === cjs.MmapObjError,
       abi: library.abi === cjs.library.abi,
       codes: codes.MMAPOBJ_E_LOCKED === cjs.codes.MMAPOBJ_E_LOCKED,
     }));
     r.close();
     o.close();`
  );
  const r = spawnSync(process.execPath, [file], { cwd: t.dir, env: childEnv(), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { same: true, value: 'from esm', isMap: true, err: true, abi: true, codes: true });
});

test.run();
