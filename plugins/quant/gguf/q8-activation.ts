/**
 * Activation rows quantized to Q8_0 for the Q8_0/Q4_0 products ("q8 activations", the contract the
 * cpu backend's WebAssembly kernels and the cpu-native addon share; the plain-JS kernels of
 * cpu-kernels.ts follow it too, so every cpu path gives the same bits). Per 32-value block, as
 * llama.cpp's quantize_row_q8_0_ref: amax = max |x|, d = amax / 127 (f32), id = d ? 1 / d : 0,
 * q = roundf(x id) (halves away from zero); the scale kept is d rounded to f16 and widened back.
 */
import { f16ToF32, f32ToF16 } from "../../../src/loader/gguf/dequantize.ts";

/** n rows of k values (k % 32 == 0): int8 codes [n, k] and f32 block scales [n, k / 32]. */
export interface Q8Activations {
  n: number;
  k: number;
  q: Int8Array;
  d: Float32Array;
}

/** Buffers for n rows of k, reusing `prev` when it is large enough. */
export function q8Activations(n: number, k: number, prev?: Q8Activations): Q8Activations {
  if (k % 32 !== 0 || k <= 0) throw new RangeError(`q8 activations: row length ${k} must be a positive multiple of 32`);
  if (prev && prev.q.length >= n * k && prev.d.length >= (n * k) / 32) return { n, k, q: prev.q, d: prev.d };
  return { n, k, q: new Int8Array(n * k), d: new Float32Array((n * k) / 32) };
}

/** Quantizes x [n, k] into `act` (from q8Activations(n, k)). */
export function quantizeRowsQ8_0(x: Float32Array, act: Q8Activations): void {
  const { n, k, q, d } = act, blocks = (n * k) / 32;
  if (x.length < n * k) throw new RangeError(`q8 activations: x has ${x.length} values, needs ${n * k}`);
  for (let b = 0; b < blocks; b++) {
    const at = b * 32;
    let amax = 0;
    for (let t = 0; t < 32; t++) {
      const v = Math.abs(x[at + t]!);
      amax = amax > v ? amax : v; // llama.cpp's MAX

    }
    const dd = Math.fround(amax / 127), id = dd !== 0 ? Math.fround(1 / dd) : 0;
    for (let t = 0; t < 32; t++) {
      const v = Math.fround(x[at + t]! * id);
      q[at + t] = v < 0 ? -Math.round(-v) : Math.round(v); // roundf: halves away from zero
    }
    d[b] = f16ToF32(f32ToF16(dd));
  }
}
