// AssemblyScript source of kernels.wasm (built by scripts/build-wasm.sh; not TypeScript).
// SIMD128 matrix products out[n*m] = x[n*k] · W[m*k]^T over a memory owned by the host.
// Each call computes output columns j0..j1-1 (for all n rows): the host's thread pool gives each
// thread its own column range of the same product, over one shared memory.
//
// Every output is the same function of its x row and W row whatever n and the blocking:
// four f32 lanes accumulate p ≡ 0..3 (mod 4) for p < k & ~3 (block formats: one f32x4 sum per
// 32-weight block, scaled by the block's scale unless the decoded weights carry it, added to four
// lanes), reduced as (l0 + l1) + (l2 + l3), then the tail p ≥ k & ~3 is added one element at a
// time (times the row scale for per-channel formats). No fused multiply-add is used. Each weight
// block is decoded once per pass and used for up to 4 x rows (2 for f32). Q8_0 and Q4_0 weights
// multiply activations quantized to Q8_0 once per call instead (q8act.ts: int32 block dots, the
// f32 accumulation order of the shared contract).
//
// Files: common.ts (shared helpers), half.ts (F16, BF16), q4.ts (int4 groups), q8act.ts (Q8_0 and
// Q4_0 × q8 activations, and the activation quantizer quantizeQ8_0Rows), kquants.ts
// (Q4_K, Q6_K), int8.ts (int8 and fp8 per-channel, int8 × int8 dynamic). Weight layouts beyond
// the GGUF blocks are written by layouts.ts (TypeScript, host side).

// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.

import { hsum } from "./common";

// The other weight formats, one file per family (all exported from this module).
export { matmulF16, matmulBF16 } from "./half";
export { matmulInt4 } from "./q4";
export { matmulQ8_0, matmulQ4_0, quantizeQ8_0Rows, quantizeQ8_0RowRange, relaxedSimd, setScratch } from "./q8act";
export { matmulQ4_K, matmulQ6_K } from "./kquants";
export { matmulCode8, matmulInt8Dynamic } from "./int8";
export { argmaxRows } from "./argmax";
export { ropeRows } from "./rope";

function tailDot(s: f32, x: usize, w: usize, k4: i32, k: i32): f32 {
  for (let p = k4; p < k; p++) s += load<f32>(x + (<usize>p << 2)) * load<f32>(w + (<usize>p << 2));
  return s;
}

/** f32 weights: 4 W rows × 2 x rows per pass (each weight vector loaded once per 2 rows). */
export function matmulF32(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const k4 = k & ~3;
  const rk = <usize>k << 2;
  let j = j0;
  if (n == 1 && <usize>k * <usize>m >= 65536) {
    // One x row (decode) of a matrix too large to stay in cache (256 KiB and up): one W row at a
    // time, so the weights stream from memory in address order (4 interleaved rows restart 4
    // streams every row). Smaller matrices, read from cache, keep the 4 independent sums below.
    for (; j < j1; j++) {
      const w0 = w + <usize>j * rk;
      let a0 = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(x + o), v128.load(w0 + o)));
      }
      store<f32>(out + (<usize>j << 2), tailDot(hsum(a0), x, w0, k4, k));
    }
    return;
  }
  for (; j + 4 <= j1; j += 4) {
    const w0 = w + <usize>j * rk, w1 = w0 + rk, w2 = w1 + rk, w3 = w2 + rk;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const x0 = x + <usize>i * rk, x1 = x0 + rk;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        const b0 = v128.load(w0 + o), b1 = v128.load(w1 + o), b2 = v128.load(w2 + o), b3 = v128.load(w3 + o);
        const c0 = v128.load(x0 + o), c1 = v128.load(x1 + o);
        a00 = f32x4.add(a00, f32x4.mul(c0, b0)); a01 = f32x4.add(a01, f32x4.mul(c0, b1));
        a02 = f32x4.add(a02, f32x4.mul(c0, b2)); a03 = f32x4.add(a03, f32x4.mul(c0, b3));
        a10 = f32x4.add(a10, f32x4.mul(c1, b0)); a11 = f32x4.add(a11, f32x4.mul(c1, b1));
        a12 = f32x4.add(a12, f32x4.mul(c1, b2)); a13 = f32x4.add(a13, f32x4.mul(c1, b3));
      }
      let o = out + ((<usize>i * <usize>m + <usize>j) << 2);
      store<f32>(o, tailDot(hsum(a00), x0, w0, k4, k)); store<f32>(o + 4, tailDot(hsum(a01), x0, w1, k4, k));
      store<f32>(o + 8, tailDot(hsum(a02), x0, w2, k4, k)); store<f32>(o + 12, tailDot(hsum(a03), x0, w3, k4, k));
      o += <usize>m << 2;
      store<f32>(o, tailDot(hsum(a10), x1, w0, k4, k)); store<f32>(o + 4, tailDot(hsum(a11), x1, w1, k4, k));
      store<f32>(o + 8, tailDot(hsum(a12), x1, w2, k4, k)); store<f32>(o + 12, tailDot(hsum(a13), x1, w3, k4, k));
    }
    for (; i < n; i++) {
      const x0 = x + <usize>i * rk;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        const c0 = v128.load(x0 + o);
        a0 = f32x4.add(a0, f32x4.mul(c0, v128.load(w0 + o))); a1 = f32x4.add(a1, f32x4.mul(c0, v128.load(w1 + o)));
        a2 = f32x4.add(a2, f32x4.mul(c0, v128.load(w2 + o))); a3 = f32x4.add(a3, f32x4.mul(c0, v128.load(w3 + o)));
      }
      const o = out + ((<usize>i * <usize>m + <usize>j) << 2);
      store<f32>(o, tailDot(hsum(a0), x0, w0, k4, k)); store<f32>(o + 4, tailDot(hsum(a1), x0, w1, k4, k));
      store<f32>(o + 8, tailDot(hsum(a2), x0, w2, k4, k)); store<f32>(o + 12, tailDot(hsum(a3), x0, w3, k4, k));
    }
  }
  for (; j < j1; j++) {
    const w0 = w + <usize>j * rk;
    for (let i = 0; i < n; i++) {
      const x0 = x + <usize>i * rk;
      let a0 = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const o = <usize>p << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + o), v128.load(w0 + o)));
      }
      store<f32>(out + ((<usize>i * <usize>m + <usize>j) << 2), tailDot(hsum(a0), x0, w0, k4, k));
    }
  }
}
