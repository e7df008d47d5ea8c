/**
 * IEEE half precision as a constant 65536-entry decode table. Kept here (rather than importing the
 * loader's f16ToF32) so the loader can import the block decoders of src/quant without a cycle.
 */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** HALF[bits] is the value of the half with those 16 bits. */
export const HALF: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = halfToNumber(i);
  return t;
})();

/** The little-endian half at `off` of `b`, as a number. */
export function readHalf(b: Uint8Array, off: number): number {
  return HALF[b[off]! | (b[off + 1]! << 8)]!;
}
