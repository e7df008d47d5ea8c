/**
 * fp8 weights with one f32 scale per output channel: row j of W[out, in] stores
 * codes[j, p] = fp8(W[j, p] / scale[j]) with scale[j] = max|W[j, :]| / FP8_MAX (448 for e4m3), so
 * the row's largest magnitude lands on the format's largest finite value; W ≈ scale[j] * decode(code).
 * Layout: `codes` Uint8Array [out, in] row-major, `scales` Float32Array [out].
 */
import { checkMatrix } from "./errors.ts";
import { encodeFp8Array, FP8_MAX, FP8_TABLES, type Fp8Format } from "./fp8.ts";

export interface Fp8Matrix {
  rows: number;
  cols: number;
  format: Fp8Format;
  codes: Uint8Array;
  scales: Float32Array;
}

export function quantizeFp8(w: Float32Array, rows: number, cols: number, format: Fp8Format = "e4m3"): Fp8Matrix {
  checkMatrix(`fp8 ${format}`, w, rows, cols);
  const codes = new Uint8Array(rows * cols);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = w.subarray(r * cols, (r + 1) * cols);
    let amax = 0;
    for (let p = 0; p < cols; p++) amax = Math.max(amax, Math.abs(row[p]!));
    const s = Math.fround(amax / FP8_MAX[format]);
    scales[r] = s;
    encodeFp8Array(row, format, s, codes.subarray(r * cols, (r + 1) * cols));
  }
  return { rows, cols, format, codes, scales };
}

export function dequantizeFp8(m: Fp8Matrix): Float32Array {
  const t = FP8_TABLES[m.format];
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    const s = m.scales[r]!;
    for (let p = 0; p < m.cols; p++) out[r * m.cols + p] = s * t[m.codes[r * m.cols + p]!]!;
  }
  return out;
}

export function fp8Bytes(m: Fp8Matrix): number {
  return m.codes.byteLength + m.scales.byteLength;
}
