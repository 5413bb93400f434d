'use strict';
// Entry point of the mmapobj package (CommonJS). Only re-exports; see docs/API.md.
const { library } = require('./native');
const { MmapObjError, publicCodes } = require('./errors');
const { SharedMap } = require('./map');
const { Create, Open, mapOf } = require('./proxy');

module.exports = {
  Create,
  Open,
  SharedMap,
  MmapObjError,
  /** {path, version, abi}: the libmmapobj file in use. */
  library,
  /**
   * Every error code by the library's name (and the package's MMAPOBJ_E_LOAD/ABI): the string an
   * error's `code` has for it (codes.MMAPOBJ_E_LOCKED === 'MMAPOBJ_E_LOCKED', codes.MMAPOBJ_E_NOENT
   * === 'ENOENT'). Frozen.
   */
  codes: publicCodes(),
  /** The SharedMap under a Create/Open object. */
  mapOf,
};
// `import mmapobj from 'mmapobj'` and TypeScript's default import see the same object.
module.exports.default = module.exports;
