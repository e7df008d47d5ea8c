/**
 * Matrix products computed directly on GGUF block formats, one block at a time (the matrix is
 * never dequantized whole). out[n, m] = x[n, k] · W[m, k]^T with W rows stored as blocks.
 */
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import type { KernelName } from "../../backend/cpu/wasm-kernels.ts";
import { wasmKernelsOf } from "../../backend/cpu/wasm/layouts.ts";
import type { MatmulFn } from "../int8/cpu-kernels.ts";

/** f16 bits → f32 value, for all 65536 patterns (a constant table). */
export const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16ToF32(i);
  return t;
})();

/**
 * Q8_0: blocks of 32 weights = f16 scale d + 32 int8; w = d * q. Four weight rows per pass share
 * each activation load; per block the integer-weighted sums are scaled by that row's d.
 */
export function matmulQ8_0(out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
  const nb = k / 32;
  const rowBytes = nb * 34;
  const q = new Int8Array(w.buffer, w.byteOffset, w.byteLength);
  const d = (at: number) => F16_TABLE[w[at]! | (w[at + 1]! << 8)]!;
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const r0 = j * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
    for (let i = 0; i < n; i++) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let b = 0; b < nb; b++) {
        const bo = b * 34, xb = i * k + b * 32;
        const q0 = r0 + bo + 2, q1 = r1 + bo + 2, q2 = r2 + bo + 2, q3 = r3 + bo + 2;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let p = 0; p < 32; p++) {
          const xv = x[xb + p]!;
          s0 += xv * q[q0 + p]!;
          s1 += xv * q[q1 + p]!;
          s2 += xv * q[q2 + p]!;
          s3 += xv * q[q3 + p]!;
        }
        a0 += d(r0 + bo) * s0; a1 += d(r1 + bo) * s1; a2 += d(r2 + bo) * s2; a3 += d(r3 + bo) * s3;
      }
      const o = i * m + j;
      out[o] = a0; out[o + 1] = a1; out[o + 2] = a2; out[o + 3] = a3;
    }
  }
  for (; j < m; j++) {
    const ro = j * rowBytes;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let b = 0; b < nb; b++) {
        const bo = ro + b * 34, xb = i * k + b * 32;
        let s = 0;
        for (let p = 0; p < 32; p++) s += q[bo + 2 + p]! * x[xb + p]!;
        sum += d(bo) * s;
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

/**
 * Q4_0: blocks of 32 weights = f16 scale d + 16 bytes (low nibbles: elements 0..15, high: 16..31);
 * w = d * (nibble - 8). Per block Σ x w = d (Σ x nibble - 8 Σ x), with the activation block sums
 * `xsum` [n, k / 32] computed once per call; two weight rows per pass share the activation loads.
 */
export function matmulQ4_0(out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number, xsum: Float64Array): void {
  const nb = k / 32;
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < nb; b++) {
      let s = 0;
      const o = i * k + b * 32;
      for (let p = 0; p < 32; p++) s += x[o + p]!;
      xsum[i * nb + b] = s;
    }
  }
  const rowBytes = nb * 18;
  const d = (at: number) => F16_TABLE[w[at]! | (w[at + 1]! << 8)]!;
  let j = 0;
  for (; j + 2 <= m; j += 2) {
    const r0 = j * rowBytes, r1 = r0 + rowBytes;
    for (let i = 0; i < n; i++) {
      let a0 = 0, a1 = 0;
      for (let b = 0; b < nb; b++) {
        const b0 = r0 + b * 18, b1 = r1 + b * 18, xo = i * k + b * 32;
        let s0 = 0, s1 = 0;
        for (let t = 0; t < 16; t++) {
          const xl = x[xo + t]!, xh = x[xo + 16 + t]!;
          const u = w[b0 + 2 + t]!, v = w[b1 + 2 + t]!;
          s0 += xl * (u & 15) + xh * (u >>> 4);
          s1 += xl * (v & 15) + xh * (v >>> 4);
        }
        const xs8 = 8 * xsum[i * nb + b]!;
        a0 += d(b0) * (s0 - xs8);
        a1 += d(b1) * (s1 - xs8);
      }
      out[i * m + j] = a0;
      out[i * m + j + 1] = a1;
    }
  }
  for (; j < m; j++) {
    const ro = j * rowBytes;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const bo = ro + b * 18, xo = i * k + b * 32;
        let s = 0;
        for (let t = 0; t < 16; t++) {
          const u = w[bo + 2 + t]!;
          s += x[xo + t]! * (u & 15) + x[xo + 16 + t]! * (u >>> 4);
        }
        acc += d(bo) * (s - 8 * xsum[i * nb + b]!);
      }
      out[i * m + j] = acc;
    }
  }
}

/** The WebAssembly SIMD128 kernel of each GGML type computed in place, and the row-length multiple it needs. */
const WASM_KERNELS = new Map<GGMLType, [KernelName, number]>([
  [GGMLType.Q8_0, ["matmulQ8_0", 32]],
  [GGMLType.Q4_0, ["matmulQ4_0", 32]],
  [GGMLType.Q4_K, ["matmulQ4_K", 256]],
  [GGMLType.Q6_K, ["matmulQ6_K", 256]],
  [GGMLType.F16, ["matmulF16", 1]],
  [GGMLType.BF16, ["matmulBF16", 1]],
]);

/**
 * The WebAssembly SIMD128 kernel for a GGUF weight matrix [m, k] of `type`, its bytes copied once
 * into the backend's wasm memory as stored; null when the backend has no wasm kernels, the type
 * has none (F32 goes through the backend's matmul; other block types stay on the JS kernels), k
 * is not a multiple of the block size, or the weights do not fit.
 */
export function wasmGgufMatmul(backend: unknown, type: GGMLType, bytes: Uint8Array, k: number, m: number): MatmulFn | null {
  const wasm = wasmKernelsOf(backend), kernel = WASM_KERNELS.get(type);
  if (!wasm || !kernel || k % kernel[1] !== 0) return null;
  const w = wasm.placeBytes(bytes);
  if (!w) return null;
  const name = kernel[0];
  return (out, x, n) => wasm.matmulPlaced(name, out, x, w, n, k, m);
}
