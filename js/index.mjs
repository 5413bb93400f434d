// ESM entry point: the same objects as the CommonJS entry (one instance of everything).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mmapobj = require('./index.js');

export const { Create, Open, SharedMap, MmapObjError, library, codes, mapOf } = mmapobj;
export default mmapobj;
