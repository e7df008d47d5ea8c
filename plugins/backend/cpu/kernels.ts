/**
 * Plain-JS reference kernels over typed arrays. Arithmetic runs in f64 (JS numbers) and rounds
 * to f32 on store; only +, -, *, /, sqrt and det-math functions are used, so every runtime
 * computes identical bits.
 */
import { dexp } from "../../../src/util/det-math.ts";

/**
 * out[n*m] = x[n*k] · w[m*k]^T, register-blocked 4 weight rows × 4 input rows (16 accumulators),
 * so batched steps load each weight once per 4 tokens. Every output is the same ordered sum over k
 * whatever the blocking, so results do not depend on batch composition (batch invariance).
 */
export function matmulF32(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const w0 = j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
      let a00 = 0, a01 = 0, a02 = 0, a03 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0;
      let a20 = 0, a21 = 0, a22 = 0, a23 = 0, a30 = 0, a31 = 0, a32 = 0, a33 = 0;
      for (let p = 0; p < k; p++) {
        const b0 = w[w0 + p]!, b1 = w[w1 + p]!, b2 = w[w2 + p]!, b3 = w[w3 + p]!;
        const c0 = x[x0 + p]!, c1 = x[x1 + p]!, c2 = x[x2 + p]!, c3 = x[x3 + p]!;
        a00 += c0 * b0; a01 += c0 * b1; a02 += c0 * b2; a03 += c0 * b3;
        a10 += c1 * b0; a11 += c1 * b1; a12 += c1 * b2; a13 += c1 * b3;
        a20 += c2 * b0; a21 += c2 * b1; a22 += c2 * b2; a23 += c2 * b3;
        a30 += c3 * b0; a31 += c3 * b1; a32 += c3 * b2; a33 += c3 * b3;
      }
      let o = i * m + j;
      out[o] = a00; out[o + 1] = a01; out[o + 2] = a02; out[o + 3] = a03; o += m;
      out[o] = a10; out[o + 1] = a11; out[o + 2] = a12; out[o + 3] = a13; o += m;
      out[o] = a20; out[o + 1] = a21; out[o + 2] = a22; out[o + 3] = a23; o += m;
      out[o] = a30; out[o + 1] = a31; out[o + 2] = a32; out[o + 3] = a33;
    }
    for (; i < n; i++) {
      const xo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) { const xv = x[xo + p]!; s0 += xv * w[w0 + p]!; s1 += xv * w[w1 + p]!; s2 += xv * w[w2 + p]!; s3 += xv * w[w3 + p]!; }
      const o = i * m + j; out[o] = s0; out[o + 1] = s1; out[o + 2] = s2; out[o + 3] = s3;
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

/**
 * Per row, scale = 1 / sqrt(Σx²/dim + eps) and out = x · scale · w, in f64. Σx² is taken as four
 * partial sums (element p into sum p mod 4), combined as (s0 + s2) + (s1 + s3), then the last
 * dim mod 4 squares in order: the order of wasm/ops.ts's two f64x2 accumulators, so both give the
 * same bits.
 */
export function rmsNorm(out: Float32Array, x: Float32Array, w: Float32Array, eps: number, n: number, dim: number): void {
  const dim4 = dim & ~3;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let p = 0; p < dim4; p += 4) {
      const a = x[o + p]!, b = x[o + p + 1]!, c = x[o + p + 2]!, d = x[o + p + 3]!;
      s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d;
    }
    let ss = (s0 + s2) + (s1 + s3);
    for (let p = dim4; p < dim; p++) ss += x[o + p]! * x[o + p]!;
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

/** out[r] = silu(x[r, :d]) * x[r, d:] over rows of 2d (a merged gate/up product): siluMul's arithmetic. */
export function siluAndMul(out: Float32Array, x: Float32Array, rows: number, d: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d, g = 2 * r * d;
    for (let i = 0; i < d; i++) {
      const v = x[g + i]!;
      out[o + i] = (v / (1 + dexp(-v))) * x[g + d + i]!;
    }
  }
}

/** out[r] = x[r, from:from + count] over rows of xCols. */
export function copyColumns(out: Float32Array, x: Float32Array, rows: number, xCols: number, from: number, count: number): void {
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * xCols + from, r * xCols + from + count), r * count);
}

export function addInPlace(out: Float32Array, x: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) out[i] = out[i]! + x[i]!;
}

export function gatherRows(out: Float32Array, x: Float32Array, rows: Int32Array, numRows: number, dim: number): void {
  for (let i = 0; i < numRows; i++) out.set(x.subarray(rows[i]! * dim, rows[i]! * dim + dim), i * dim);
}
