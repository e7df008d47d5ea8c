/**
 * Plain-JS reference kernels over typed arrays. Arithmetic runs in f64 (JS numbers) and rounds
 * to f32 on store; only +, -, *, /, sqrt and det-math functions are used, so every runtime
 * computes identical bits.
 */
import { dexp } from "../../../src/util/det-math.ts";

/** out[n*m] = x[n*k] · w[m*k]^T. Four weight rows per pass so each x row is reused from cache. */
export function matmulF32(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const w0 = j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const xv = x[xo + p]!;
        s0 += xv * w[w0 + p]!;
        s1 += xv * w[w1 + p]!;
        s2 += xv * w[w2 + p]!;
        s3 += xv * w[w3 + p]!;
      }
      const o = i * m + j;
      out[o] = s0; out[o + 1] = s1; out[o + 2] = s2; out[o + 3] = s3;
    }
  }
  for (; j < m; j++) {
    const wo = j * k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += x[xo + p]! * w[wo + p]!;
      out[i * m + j] = s;
    }
  }
}

export function rmsNorm(out: Float32Array, x: Float32Array, w: Float32Array, eps: number, n: number, dim: number): void {
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let ss = 0;
    for (let p = 0; p < dim; p++) ss += x[o + p]! * x[o + p]!;
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let p = 0; p < dim; p++) out[o + p] = x[o + p]! * scale * w[p]!;
  }
}

/**
 * In-place RoPE on [n, heads*headDim]. "normal" (GGUF/llama2.c) rotates adjacent pairs
 * (x[2i], x[2i+1]); "neox" rotates (x[i], x[i + rot/2]). cos/sin are [maxPos, rot/2].
 */
export function rope(
  x: Float32Array, positions: Int32Array, cos: Float32Array, sin: Float32Array,
  layout: "normal" | "neox", rotDim: number, heads: number, headDim: number, n: number,
): void {
  const half = rotDim >> 1;
  for (let t = 0; t < n; t++) {
    const tb = positions[t]! * half;
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[tb + i]!, s = sin[tb + i]!;
        const a = layout === "normal" ? base + 2 * i : base + i;
        const b = layout === "normal" ? a + 1 : a + half;
        const x0 = x[a]!, x1 = x[b]!;
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
      }
    }
  }
}

export function siluMul(out: Float32Array, gate: Float32Array, up: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + dexp(-g))) * up[i]!;
  }
}

export function addInPlace(out: Float32Array, x: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) out[i] = out[i]! + x[i]!;
}

export function gatherRows(out: Float32Array, x: Float32Array, rows: Int32Array, numRows: number, dim: number): void {
  for (let i = 0; i < numRows; i++) out.set(x.subarray(rows[i]! * dim, rows[i]! * dim + dim), i * dim);
}
