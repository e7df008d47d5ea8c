/**
 * Matrix products computed directly on GGUF block formats, one block at a time (the matrix is
 * never dequantized whole). out[n, m] = x[n, k] · W[m, k]^T with W rows stored as blocks.
 */
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";

/** f16 bits → f32 value, for all 65536 patterns (a constant table). */
export const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16ToF32(i);
  return t;
})();

/** Q8_0: blocks of 32 weights = f16 scale d + 32 int8; w = d * q. */
export function matmulQ8_0(out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
  const blocksPerRow = k / 32;
  const rowBytes = blocksPerRow * 34;
  const q = new Int8Array(w.buffer, w.byteOffset, w.byteLength);
  for (let j = 0; j < m; j++) {
    const ro = j * rowBytes;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let sum = 0;
      for (let b = 0; b < blocksPerRow; b++) {
        const bo = ro + b * 34;
        const d = F16_TABLE[w[bo]! | (w[bo + 1]! << 8)]!;
        const xb = xo + b * 32;
        let s = 0;
        for (let p = 0; p < 32; p++) s += q[bo + 2 + p]! * x[xb + p]!;
        sum += d * s;
      }
      out[i * m + j] = sum;
    }
  }
}

/** F16 weights: rows of k half floats. */
export function matmulF16(out: Float32Array, x: Float32Array, w: Uint16Array, n: number, k: number, m: number): void {
  for (let j = 0; j < m; j++) {
    const ro = j * k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += F16_TABLE[w[ro + p]!]! * x[xo + p]!;
      out[i * m + j] = s;
    }
  }
}
