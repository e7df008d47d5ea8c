/**
 * The exact JavaScript reference of the "q8 activations" contract for Q8_0/Q4_0 matrix products
 * (shared by the cpu-native addon and the cpu backend's WebAssembly kernels): each activation row is
 * quantized to Q8_0 as llama.cpp's quantize_row_q8_0_ref does, each block's dot product is an exact
 * int32, and the f32 accumulation order is pinned (acc = acc + (float)isum * (dx * dw), block by
 * block, no fused multiply-add). Every f32 operation is rounded with Math.fround, so a kernel that
 * follows the contract matches these results bit for bit.
 */
import { f16ToF32, f32ToF16 } from "../../../src/loader/gguf/dequantize.ts";

export type Q8ActKind = "q8_0" | "q4_0";

/** Bytes per 32-weight block: f16 scale then 32 int8 (Q8_0) or 16 bytes of nibbles (Q4_0). */
export const BLOCK_BYTES: Record<Q8ActKind, number> = { q8_0: 34, q4_0: 18 };

/** llama.cpp's roundf: to nearest, halves away from zero. */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * One activation row (length a multiple of 32) to Q8_0: per block amax = max |x| (llama.cpp's
 * MAX(a, b) = a > b ? a : b), d = amax / 127 in f32, id = d ? 1 / d : 0, q = roundf(x * id) (0 where
 * x * id is not finite); the scale kept is d rounded to f16 and back (dx), as the block stores it.
 */
export function quantizeRowQ8_0(x: Float32Array): { q: Int8Array; d: Float32Array } {
  if (x.length % 32 !== 0) throw new RangeError(`quantizeRowQ8_0: row length ${x.length} is not a multiple of 32`);
  const nb = x.length / 32, q = new Int8Array(x.length), d = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let t = 0; t < 32; t++) {
      const v = Math.abs(x[b * 32 + t]!);
      amax = amax > v ? amax : v;
    }
    const dd = Math.fround(amax / 127), id = dd !== 0 ? Math.fround(1 / dd) : 0;
    for (let t = 0; t < 32; t++) {
      // x * id is finite but for id = inf (amax < ~3.7e-37, where dx = 0 anyway) or a NaN x: then 0.
      const v = Math.fround(x[b * 32 + t]! * id);
      q[b * 32 + t] = Number.isFinite(v) ? roundHalfAway(v) : 0;
    }
    d[b] = f16ToF32(f32ToF16(dd));
  }
  return { q, d };
}

/** Weight row j, block b: its f32 scale dw and its 32 integer values. */
export function weightBlock(kind: Q8ActKind, w: Uint8Array, k: number, j: number, b: number): { dw: number; qw: Int8Array } {
  const bs = BLOCK_BYTES[kind], at = (j * (k / 32) + b) * bs, qw = new Int8Array(32);
  const dw = f16ToF32(w[at]! | (w[at + 1]! << 8));
  for (let t = 0; t < 32; t++) {
    if (kind === "q8_0") qw[t] = (w[at + 2 + t]! << 24) >> 24;
    else qw[t] = (t < 16 ? w[at + 2 + t]! & 15 : w[at + 2 + t - 16]! >> 4) - 8;
  }
  return { dw, qw };
}

function checkShape(kind: Q8ActKind, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
  if (k % 32 !== 0 || k <= 0) throw new RangeError(`matmulQ8Act: k = ${k} must be a positive multiple of 32`);
  if (x.length < n * k) throw new RangeError(`matmulQ8Act: x has ${x.length} values, needs n*k = ${n * k}`);
  if (w.length < m * (k / 32) * BLOCK_BYTES[kind]) throw new RangeError(`matmulQ8Act: w has ${w.length} bytes, needs ${m * (k / 32) * BLOCK_BYTES[kind]}`);
}

/** Every weight block decoded once: scales [m * nb] and values [m * k]. */
function decodeWeights(kind: Q8ActKind, w: Uint8Array, k: number, m: number): { dw: Float32Array; qw: Int8Array } {
  const nb = k / 32, dw = new Float32Array(m * nb), qw = new Int8Array(m * k);
  for (let j = 0; j < m; j++) {
    for (let b = 0; b < nb; b++) {
      const blk = weightBlock(kind, w, k, j, b);
      dw[j * nb + b] = blk.dw;
      qw.set(blk.qw, j * k + b * 32);
    }
  }
  return { dw, qw };
}

/** out[n, m] = x[n, k] · W[m, k]^T under the contract, exactly (f32 rounding at every step). */
export function matmulQ8Act(kind: Q8ActKind, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): Float32Array {
  checkShape(kind, x, w, n, k, m);
  const nb = k / 32, out = new Float32Array(n * m), { dw, qw } = decodeWeights(kind, w, k, m);
  for (let i = 0; i < n; i++) {
    const { q, d } = quantizeRowQ8_0(x.subarray(i * k, (i + 1) * k));
    for (let j = 0; j < m; j++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        let isum = 0;
        for (let t = 0; t < 32; t++) isum += q[b * 32 + t]! * qw[j * k + b * 32 + t]!;
        const s = Math.fround(d[b]! * dw[j * nb + b]!);
        acc = Math.fround(acc + Math.fround(isum * s));
      }
      out[i * m + j] = acc;
    }
  }
  return out;
}

/**
 * The same product in f64 from the same quantized activations (no f32 rounding): `value` is
 * Σ_b dx_b * dw_b * isum_b and `abs` is Σ_b |dx_b * dw_b * isum_b|, so a kernel's f32 result can be
 * checked against `value` within a tolerance relative to `abs`.
 */
export function matmulQ8ActF64(kind: Q8ActKind, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): { value: Float64Array; abs: Float64Array } {
  checkShape(kind, x, w, n, k, m);
  const nb = k / 32, value = new Float64Array(n * m), abs = new Float64Array(n * m), { dw, qw } = decodeWeights(kind, w, k, m);
  for (let i = 0; i < n; i++) {
    const { q, d } = quantizeRowQ8_0(x.subarray(i * k, (i + 1) * k));
    for (let j = 0; j < m; j++) {
      let s = 0, a = 0;
      for (let b = 0; b < nb; b++) {
        let isum = 0;
        for (let t = 0; t < 32; t++) isum += q[b * 32 + t]! * qw[j * k + b * 32 + t]!;
        const term = d[b]! * dw[j * nb + b]! * isum;
        s += term;
        a += Math.abs(term);
      }
      value[i * m + j] = s;
      abs[i * m + j] = a;
    }
  }
  return { value, abs };
}
