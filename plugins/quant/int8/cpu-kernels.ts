/**
 * int8 linear kernels on the cpu backend. Weights: Int8Array q [m, k] with one f32 scale per row
 * (output channel). out[n, m] = x[n, k] · (scale ⊙ q)[m, k]^T.
 */
import { quantizeRowsInt8 } from "../../../src/quant/int8.ts";
import { code8Layout, int8ActivationBuffer, wasmKernelsOf, type Int8ActivationBuffer } from "../../backend/cpu/wasm/layouts.ts";

/** Weight-only: f32 activations times int8 weights, four weight rows per pass. */
export function matmulInt8(out: Float32Array, x: Float32Array, q: Int8Array, scales: Float32Array, n: number, k: number, m: number): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const w0 = j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const xv = x[xo + p]!;
        s0 += xv * q[w0 + p]!;
        s1 += xv * q[w1 + p]!;
        s2 += xv * q[w2 + p]!;
        s3 += xv * q[w3 + p]!;
      }
      const o = i * m + j;
      out[o] = s0 * scales[j]!; out[o + 1] = s1 * scales[j + 1]!; out[o + 2] = s2 * scales[j + 2]!; out[o + 3] = s3 * scales[j + 3]!;
    }
  }
  for (; j < m; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * q[j * k + p]!;
      out[i * m + j] = s * scales[j]!;
    }
  }
}

/**
 * Dynamic int8 × int8: activations already quantized per token (xq [n, k], scale xs[i]); integer
 * dot products (exact: |sum| <= 127² k < 2^31 for k < 133,000), then out = xs[i] * ws[j] * dot.
 */
export function matmulInt8Dynamic(
  out: Float32Array, xq: Int8Array, xs: Float32Array, q: Int8Array, ws: Float32Array, n: number, k: number, m: number,
): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const w0 = j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
    for (let i = 0; i < n; i++) {
      const xo = i * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const xv = xq[xo + p]!;
        s0 = (s0 + xv * q[w0 + p]!) | 0;
        s1 = (s1 + xv * q[w1 + p]!) | 0;
        s2 = (s2 + xv * q[w2 + p]!) | 0;
        s3 = (s3 + xv * q[w3 + p]!) | 0;
      }
      const o = i * m + j, sx = xs[i]!;
      out[o] = sx * ws[j]! * s0; out[o + 1] = sx * ws[j + 1]! * s1; out[o + 2] = sx * ws[j + 2]! * s2; out[o + 3] = sx * ws[j + 3]! * s3;
    }
  }
  for (; j < m; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < k; p++) s = (s + xq[i * k + p]! * q[j * k + p]!) | 0;
      out[i * m + j] = xs[i]! * ws[j]! * s;
    }
  }
}

/** out[n, m] = x[n, k] · W^T over f32 arrays (a linear's cpu kernel). */
export type MatmulFn = (out: Float32Array, x: Float32Array, n: number) => void;

/**
 * The WebAssembly SIMD128 kernel for per-channel int8 weights (wasm/kernels.ts matmulCode8, or
 * matmulInt8Dynamic with `dynamic`: activations quantized per row with quantizeRowsInt8, then
 * integer dot products), weights placed once in the backend's wasm memory; null when the backend
 * has no wasm kernels or the weights do not fit (the JS kernels above are then used).
 */
function wasmInt8Matmul(backend: unknown, q: Int8Array, scales: Float32Array, k: number, m: number, dynamic: boolean): MatmulFn | null {
  const wasm = wasmKernelsOf(backend);
  if (!wasm || (dynamic && k < 2)) return null;
  const w = wasm.placeBytes(code8Layout("int8", q, scales, m, k));
  if (!w) return null;
  if (!dynamic) return (out, x, n) => wasm.matmulPlaced("matmulCode8", out, x, w, n, k, m);
  let act: Int8ActivationBuffer | undefined;
  return (out, x, n) => {
    act = int8ActivationBuffer(n, k, act);
    quantizeRowsInt8(x, n, k, act.xq, act.xs);
    wasm.matmulPlaced("matmulInt8Dynamic", out, act.packed, w, n, k, m);
  };
}

function jsInt8Matmul(q: Int8Array, scales: Float32Array, k: number, m: number, dynamic: boolean): MatmulFn {
  if (!dynamic) return (out, x, n) => matmulInt8(out, x, q, scales, n, k, m);
  let xq = new Int8Array(0), xs = new Float32Array(0);
  return (out, x, n) => {
    if (xq.length < n * k) { xq = new Int8Array(n * k); xs = new Float32Array(n); }
    quantizeRowsInt8(x, n, k, xq, xs);
    matmulInt8Dynamic(out, xq, xs, q, scales, n, k, m);
  };
}

/**
 * The cpu kernel of an int8 linear: WebAssembly SIMD128 when `backend` has wasm kernels and the
 * weights fit in its memory (then only the placed copy is kept), else the JS kernels above.
 */
export function int8Matmul(backend: unknown, q: Int8Array, scales: Float32Array, k: number, m: number, dynamic: boolean): MatmulFn {
  return wasmInt8Matmul(backend, q, scales, k, m, dynamic) ?? jsInt8Matmul(q, scales, k, m, dynamic);
}
