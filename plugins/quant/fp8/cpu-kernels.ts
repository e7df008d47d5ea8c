/**
 * fp8 linear kernel on the cpu backend: codes [m, k] decoded through a 256-entry table, one f32
 * scale per output channel. out[n, m] = x[n, k] · (scale ⊙ decode(codes))^T.
 */
import { FP8_TABLES } from "../../../src/quant/fp8.ts";
import type { Fp8Matrix } from "../../../src/quant/fp8-matrix.ts";
import { code8Layout, wasmKernelsOf } from "../../backend/cpu/wasm/layouts.ts";
import type { MatmulFn } from "../int8/cpu-kernels.ts";
export function matmulFp8(
  out: Float32Array, x: Float32Array, codes: Uint8Array, scales: Float32Array, table: Float32Array, n: number, k: number, m: number,
): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const w0 = j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const xv = x[xo + p]!;
        s0 += xv * table[codes[w0 + p]!]!;
        s1 += xv * table[codes[w1 + p]!]!;
        s2 += xv * table[codes[w2 + p]!]!;
        s3 += xv * table[codes[w3 + p]!]!;
      }
      const o = i * m + j;
      out[o] = s0 * scales[j]!; out[o + 1] = s1 * scales[j + 1]!; out[o + 2] = s2 * scales[j + 2]!; out[o + 3] = s3 * scales[j + 3]!;
    }
  }
  for (; j < m; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * table[codes[j * k + p]!]!;
      out[i * m + j] = s * scales[j]!;
    }
  }
}

function jsFp8Matmul(w: Fp8Matrix): MatmulFn {
  const { codes, scales, cols: k, rows: m } = w, table = FP8_TABLES[w.format];
  return (out, x, n) => matmulFp8(out, x, codes, scales, table, n, k, m);
}

/**
 * The cpu kernel of an fp8 linear: WebAssembly SIMD128 (wasm/kernels.ts matmulCode8, decoding
 * e4m3/e5m2 arithmetically, exactly) when `backend` has wasm kernels and the weights fit in its
 * memory, else the JS table kernel above.
 */
export function fp8Matmul(backend: unknown, w: Fp8Matrix): MatmulFn {
  const wasm = wasmKernelsOf(backend);
  const placed = wasm ? wasm.placeBytes(code8Layout(w.format, w.codes, w.scales, w.rows, w.cols)) : null;
  if (!wasm || !placed) return jsFp8Matmul(w);
  const { cols: k, rows: m } = w;
  return (out, x, n) => wasm.matmulPlaced("matmulCode8", out, x, placed, n, k, m);
}
