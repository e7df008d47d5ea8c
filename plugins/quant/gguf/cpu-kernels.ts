/**
 * Matrix products computed directly on GGUF block formats, one block at a time (the matrix is
 * never dequantized whole). out[n, m] = x[n, k] · W[m, k]^T with W rows stored as blocks.
 */
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import type { KernelName } from "../../backend/cpu/wasm-kernels.ts";
import { wasmKernelsOf } from "../../backend/cpu/wasm/layouts.ts";
import type { MatmulFn } from "../int8/cpu-kernels.ts";
import type { Q8Activations } from "./q8-activation.ts";

/** f16 bits → f32 value, for all 65536 patterns (a constant table). */
export const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16ToF32(i);
  return t;
})();

/**
 * Q8_0 weights (blocks of 32 = f16 scale + 32 int8) × activations quantized to Q8_0 (`act`, from
 * quantizeRowsQ8_0): per block an exact integer dot, then acc = acc + isum (dx dw) in f32, block
 * by block (the q8-activation contract; the wasm kernels give the same bits).
 */
export function matmulQ8_0(out: Float32Array, act: Q8Activations, w: Uint8Array, m: number): void {
  const { n, k, q: xq, d: xd } = act, nb = k / 32, rowBytes = nb * 34;
  const q = new Int8Array(w.buffer, w.byteOffset, w.byteLength);
  for (let j = 0; j < m; j++) {
    const ro = j * rowBytes;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const bo = ro + b * 34 + 2, xo = i * k + b * 32;
        let isum = 0;
        for (let t = 0; t < 32; t++) isum += xq[xo + t]! * q[bo + t]!;
        const s = Math.fround(xd[i * nb + b]! * F16_TABLE[w[bo - 2]! | (w[bo - 1]! << 8)]!);
        acc = Math.fround(acc + Math.fround(isum * s));
      }
      out[i * m + j] = acc;
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
 * Q4_0 weights (blocks of 32 = f16 scale + 16 bytes: low nibbles elements 0..15, high 16..31;
 * value nibble - 8) × activations quantized to Q8_0, under the same contract as matmulQ8_0.
 */
export function matmulQ4_0(out: Float32Array, act: Q8Activations, w: Uint8Array, m: number): void {
  const { n, k, q: xq, d: xd } = act, nb = k / 32, rowBytes = nb * 18;
  for (let j = 0; j < m; j++) {
    const ro = j * rowBytes;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let b = 0; b < nb; b++) {
        const bo = ro + b * 18 + 2, xo = i * k + b * 32;
        let isum = 0;
        for (let t = 0; t < 16; t++) {
          const u = w[bo + t]!;
          isum += xq[xo + t]! * ((u & 15) - 8) + xq[xo + 16 + t]! * ((u >>> 4) - 8);
        }
        const s = Math.fround(xd[i * nb + b]! * F16_TABLE[w[bo - 2]! | (w[bo - 1]! << 8)]!);
        acc = Math.fround(acc + Math.fround(isum * s));
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
 * into the backend's wasm memory (Q8_0 and Q4_0 regrouped into the x8 layout, the others as stored); null when the backend has no wasm kernels, the type
 * has none (F32 goes through the backend's matmul; other block types stay on the JS kernels), k
 * is not a multiple of the block size, or the weights do not fit.
 */
export function wasmGgufMatmul(backend: unknown, type: GGMLType, bytes: Uint8Array, k: number, m: number): MatmulFn | null {
  const wasm = wasmKernelsOf(backend), kernel = WASM_KERNELS.get(type);
  if (!wasm || !kernel || k % kernel[1] !== 0) return null;
  const name = kernel[0];
  const w = wasm.placeGguf(name, bytes, k, m);
  if (!w) return null;
  return (out, x, n) => wasm.matmulPlaced(name, out, x, w, n, k, m);
}
