/**
 * Reference kernels for the optional BackendOps some architectures use (biases, embedding scale,
 * GeGLU, soft-cap). Same rules as kernels.ts: f64 arithmetic rounded to f32 on store, det-math only.
 */
import { dexp } from "../../../src/util/det-math.ts";

/** tanh from dexp, exact at the ends (no overflow: exp of a large argument is +inf → 1). */
export function dtanh(x: number): number {
  if (x < 0) return -dtanh(-x);
  return 1 - 2 / (dexp(2 * x) + 1);
}

const SQRT_2_OVER_PI = 0.7978845608028654;

/** out[r, :] += bias for r < rows (row length bias.length). */
export function addBias(out: Float32Array, bias: Float32Array, rows: number): void {
  const n = bias.length;
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let i = 0; i < n; i++) out[o + i] = out[o + i]! + bias[i]!;
  }
}

export function scale(x: Float32Array, s: number, len: number): void {
  for (let i = 0; i < len; i++) x[i] = x[i]! * s;
}

/** out = gelu_tanh(gate) * up (PyTorch's gelu(approximate="tanh")). */
export function geluMul(out: Float32Array, gate: Float32Array, up: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) {
    const g = gate[i]!;
    out[i] = 0.5 * g * (1 + dtanh(SQRT_2_OVER_PI * (g + 0.044715 * g * g * g))) * up[i]!;
  }
}

/** geluMul on the halves of rows of 2d (a merged gate/up product) into rows of d. */
export function geluAndMul(out: Float32Array, x: Float32Array, rows: number, d: number): void {
  for (let r = 0; r < rows; r++) geluMul(out.subarray(r * d, (r + 1) * d), x.subarray(2 * r * d, (2 * r + 1) * d), x.subarray((2 * r + 1) * d, (2 * r + 2) * d), d);
}

export function softCap(x: Float32Array, cap: number, len: number): void {
  for (let i = 0; i < len; i++) x[i] = cap * dtanh(x[i]! / cap);
}
