'use strict';
// Entry point of the mmapobj package (CommonJS). Only re-exports; see docs/API.md.
const { library, codes } = require('./native');
const { MmapObjError } = require('./errors');
const { SharedMap } = require('./map');
const { Create, Open, mapOf } = require('./proxy');

module.exports = {
  Create,
  Open,
  SharedMap,
  MmapObjError,
  /** {path, version, abi}: the libmmapobj file in use. */
  library,
  /** libmmapobj result codes by name (MMAPOBJ_E_LOCKED, ...), read from the library. */
  codes,
  /** The SharedMap under a Create/Open object. */
  mapOf,
};
// `import mmapobj from 'mmapobj'` and TypeScript's default import see the same object.
module.exports.default = module.exports;
