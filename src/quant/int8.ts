/**
 * int8 symmetric quantization.
 *
 * Weights, per output channel: row j of W[out, in] gets scale[j] = max|W[j, :]| / 127 and codes
 * q[j, p] = round(W[j, p] / scale[j]) in [-127, 127] (half away from zero); W ≈ scale[j] * q.
 * Layout: `q` is an Int8Array [out, in] row-major, `scales` a Float32Array [out].
 *
 * Activations, per token (dynamic): each row of x gets its own scale the same way, computed at
 * every call, so int8 x int8 products can be summed exactly in integers.
 */
import { checkMatrix } from "./errors.ts";

export interface Int8Matrix {
  rows: number;
  cols: number;
  q: Int8Array;
  scales: Float32Array;
}

/** round half away from zero, like C's roundf. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** Quantizes rows [0, rows) of `src` ([rows, cols]) into q and scales (one scale per row). */
export function quantizeRowsInt8(src: Float32Array, rows: number, cols: number, q: Int8Array, scales: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let amax = 0;
    for (let p = 0; p < cols; p++) {
      const a = Math.abs(src[o + p]!);
      if (a > amax) amax = a;
    }
    const s = Math.fround(amax / 127);
    scales[r] = s;
    const inv = s === 0 ? 0 : 1 / s;
    for (let p = 0; p < cols; p++) {
      const v = roundAway(src[o + p]! * inv);
      q[o + p] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
}

/** W [rows, cols] (row-major, a row per output channel) → per-channel int8. */
export function quantizeInt8(w: Float32Array, rows: number, cols: number): Int8Matrix {
  checkMatrix("int8", w, rows, cols);
  const q = new Int8Array(rows * cols);
  const scales = new Float32Array(rows);
  quantizeRowsInt8(w, rows, cols, q, scales);
  return { rows, cols, q, scales };
}

export function dequantizeInt8(m: Int8Matrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    const s = m.scales[r]!;
    for (let p = 0; p < m.cols; p++) out[r * m.cols + p] = s * m.q[r * m.cols + p]!;
  }
  return out;
}

/** Bytes the packed matrix occupies. */
export function int8Bytes(m: Int8Matrix): number {
  return m.q.byteLength + m.scales.byteLength;
}
