'use strict';
// Scratch memory of this thread and the decoding of UTF-8 that the library copied into it.
// Values with a NUL inside are copied here before decoding (map.js), and iteration batches land here
// (iterator.js); both decode at once, so one buffer serves every map of the thread.

const SCRATCH_KEEP = 16 << 20; // a bigger one (a huge value) is used once and dropped
let scratch = Buffer.allocUnsafeSlow(256 * 1024);
/** A scratch buffer of at least n bytes (the shared one unless n is huge). */
function scratchOf(n) {
  if (scratch.length >= n) return scratch;
  if (n > SCRATCH_KEEP) return Buffer.allocUnsafeSlow(n);
  scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_KEEP, Math.max(n, scratch.length * 2)));
  return scratch;
}
const fcc = String.fromCharCode;

// Decodes UTF-8 bytes [p, e) of buf. Short ASCII strings (most keys) are built in JS, which is
// about twice as fast as a call into Buffer's decoder for them.
function decode(b, p, e) {
  const n = e - p;
  if (n > 16) return b.utf8Slice(p, e);
  let or = 0;
  for (let i = p; i < e; i++) or |= b[i];
  if (or >= 0x80) return b.utf8Slice(p, e);
  switch (n) {
    case 0:
      return '';
    case 1:
      return fcc(b[p]);
    case 2:
      return fcc(b[p], b[p + 1]);
    case 3:
      return fcc(b[p], b[p + 1], b[p + 2]);
    case 4:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    case 9:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8]);
    case 10:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9]);
    case 11:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10]);
    case 12:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11]);
    case 13:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12]);
    case 14:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13]);
    case 15:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14]);
    case 16:
      return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
  }
  return b.utf8Slice(p, e);
}

module.exports = { scratchOf, decode };
