// ESM twin of require('mmapobj/mmap-object'): the same objects as the CommonJS entry.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const shared = require('./mmap-object.js');

export const { Create, Open } = shared;
export default shared;
