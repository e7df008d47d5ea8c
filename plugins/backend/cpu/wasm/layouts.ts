/**
 * Host side (TypeScript, not AssemblyScript): the byte layouts in which weight matrices are
 * placed in wasm memory for the kernels of this folder that need more than the raw weights
 * (GGUF blocks are placed as stored). Each matrix is one contiguous buffer, so a kernel call
 * passes a single weight address:
 * - matmulCode8 (int8, fp8 e4m3/e5m2, one f32 scale per row): header (i32 format: 0 int8,
 *   1 e4m3, 2 e5m2; 12 bytes free), f32 scales [m], codes [m, k] from a 16-byte boundary.
 * - matmulInt4 (src/quant/int4.ts): header (i32 group size), f32 scales [m, k/G], zero points
 *   u8 [m, k/G] from a 16-byte boundary, packed nibbles [m, k/2] from a 16-byte boundary.
 * - matmulInt8Dynamic: weights as matmulCode8 format 0; activations as int8ActivationBuffer.
 * - matmulQ8_0, matmulQ4_0: the GGUF blocks regrouped by ggufX8Layout into the "x8" layout of
 *   wasm/q8act.ts (8 columns interleaved by k-pairs, f32 scales), so one load feeds 8 columns.
 */
import { f16ToF32 } from "../../../../src/loader/gguf/dequantize.ts";
import type { WasmKernels } from "../wasm-kernels.ts";

export type Code8Format = "int8" | "e4m3" | "e5m2";
const CODE8_FORMATS: Record<Code8Format, number> = { int8: 0, e4m3: 1, e5m2: 2 };
const HEADER = 16;
const align16 = (b: number) => Math.ceil(b / 16) * 16;

/** The wasm kernels of a cpu backend instance, or null (other backends, LLM_CPU_WASM=0, no SIMD). */
export function wasmKernelsOf(backend: unknown): WasmKernels | null {
  return (backend as { wasm?: WasmKernels | null } | null)?.wasm ?? null;
}

/** matmulCode8 bytes of per-row codes [m, k] (int8 as two's complement bytes, or fp8 codes) and scales [m]. */
export function code8Layout(format: Code8Format, codes: Int8Array | Uint8Array, scales: Float32Array, m: number, k: number): Uint8Array {
  if (codes.length !== m * k || scales.length !== m) throw new RangeError(`code8 layout: expected ${m * k} codes and ${m} scales, got ${codes.length} and ${scales.length}`);
  const at = HEADER + align16(m * 4);
  const out = new Uint8Array(at + m * k);
  const view = new DataView(out.buffer);
  view.setInt32(0, CODE8_FORMATS[format], true);
  for (let j = 0; j < m; j++) view.setFloat32(HEADER + 4 * j, scales[j]!, true);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength), at);
  return out;
}

/** matmulInt4 bytes of an int4 matrix (src/quant/int4.ts layout) with rows of k = cols values. */
export function int4Layout(q: { rows: number; cols: number; groupSize: number; packed: Uint8Array; scales: Float32Array; zeros: Uint8Array }): Uint8Array {
  const { rows: m, cols: k, groupSize } = q;
  if (![32, 64, 128].includes(groupSize) || k % groupSize !== 0) throw new RangeError(`int4 layout: group size ${groupSize} must be 32, 64 or 128 and divide ${k}`);
  const g = m * (k / groupSize);
  const zerosAt = HEADER + align16(g * 4), packedAt = zerosAt + align16(g);
  const out = new Uint8Array(packedAt + q.packed.byteLength);
  const view = new DataView(out.buffer);
  view.setInt32(0, groupSize, true);
  for (let i = 0; i < g; i++) view.setFloat32(HEADER + 4 * i, q.scales[i]!, true);
  out.set(q.zeros, zerosAt);
  out.set(q.packed, packedAt);
  return out;
}

/**
 * The activation input of matmulInt8Dynamic for n rows of k (k >= 2): one buffer of n*k f32
 * words (what the kernel call copies) holding the row scales xs [n] then the int8 rows xq [n, k];
 * quantize into xs and xq, pass `packed` as x.
 */
export interface Int8ActivationBuffer {
  n: number;
  packed: Float32Array;
  xs: Float32Array;
  xq: Int8Array;
}

export function int8ActivationBuffer(n: number, k: number, prev?: Int8ActivationBuffer): Int8ActivationBuffer {
  if (prev && prev.n === n && prev.xq.length === n * k) return prev;
  if (k < 2) throw new RangeError(`int8 activation buffer: rows of ${k} values do not fit (needs k >= 2)`);
  const packed = new Float32Array(n * k);
  return { n, packed, xs: new Float32Array(packed.buffer, 0, n), xq: new Int8Array(packed.buffer, n * 4, n * k) };
}

/** Bytes per block and weights per block of the GGUF kernels (weights placed as stored). */
const GGUF_BLOCKS: Partial<Record<string, [number, number]>> = {
  matmulQ4_K: [144, 256], matmulQ6_K: [210, 256], matmulF16: [2, 1], matmulBF16: [2, 1],
};
/** Bytes per (8-column group, 32-value block) of the x8 layouts, and the GGUF block bytes they come from. */
const X8_BLOCKS: Partial<Record<string, { x8: number; gguf: number }>> = {
  matmulQ8_0: { x8: 288, gguf: 34 }, matmulQ4_0: { x8: 160, gguf: 18 },
};

/** Bytes of a [m, k] matrix in the x8 layout of `which` (matmulQ8_0 or matmulQ4_0). */
export function x8LayoutBytes(which: "matmulQ8_0" | "matmulQ4_0", k: number, m: number): number {
  return Math.ceil(m / 8) * (k / 32) * X8_BLOCKS[which]!.x8;
}

/**
 * The x8 layout (wasm/q8act.ts) of a GGUF Q8_0 or Q4_0 matrix [m, k] stored as `blocks`: per
 * group of 8 rows and block of 32 values, the 8 f16 scales widened to f32, then the codes
 * interleaved by k-pairs (Q8_0: 16 bytes per pair; Q4_0: 16 bytes per two pairs, low and high
 * nibbles, each the value as 4-bit two's complement); rows past m are zeros. Same values, regrouped: the products are unchanged.
 */
export function ggufX8Layout(which: "matmulQ8_0" | "matmulQ4_0", blocks: Uint8Array, k: number, m: number): Uint8Array {
  const { x8, gguf } = X8_BLOCKS[which]!;
  const nb = k / 32;
  if (!Number.isInteger(nb) || nb < 1 || blocks.byteLength < nb * gguf * m) throw new RangeError(`${which}: a [${m}, ${k}] matrix needs k a multiple of 32 and ${nb * gguf * m} bytes of blocks, got k = ${k}, ${blocks.byteLength} bytes`);
  const out = new Uint8Array(x8LayoutBytes(which, k, m));
  const scales = new Float32Array(out.buffer); // x8 is a multiple of 4: every block's scales are aligned
  const q8 = which === "matmulQ8_0", nib = new Uint8Array(32);
  // One pass over the source in order; plain typed-array loops (this runs for every weight at load).
  for (let j = 0, s = 0; j < m; j++) {
    const g = j >> 3, c = j & 7;
    for (let b = 0; b < nb; b++, s += gguf) {
      const o = (g * nb + b) * x8;
      scales[(o >> 2) + c] = f16ToF32(blocks[s]! | (blocks[s + 1]! << 8));
      const codes = o + 32 + 2 * c;
      if (q8) {
        for (let t = 0; t < 16; t++) {
          out[codes + 16 * t] = blocks[s + 2 + 2 * t]!;
          out[codes + 16 * t + 1] = blocks[s + 3 + 2 * t]!;
        }
      } else {
        // GGUF Q4_0: byte i holds element i (low nibble) and i + 16 (high nibble). Quad u, byte
        // 2c + e: element 4u + e in the low nibble, 4u + 2 + e in the high, each xor 8.
        for (let i = 0; i < 16; i++) {
          const byte = blocks[s + 2 + i]!;
          nib[i] = byte & 15;
          nib[i + 16] = byte >> 4;
        }
        for (let u = 0; u < 8; u++) {
          out[codes + 16 * u] = (nib[4 * u]! | (nib[4 * u + 2]! << 4)) ^ 0x88;
          out[codes + 16 * u + 1] = (nib[4 * u + 1]! | (nib[4 * u + 3]! << 4)) ^ 0x88;
        }
      }
    }
  }
  return out;
}

/**
 * Why placed weights `w` cannot be read by kernel `which` as a [m, k] matrix (row length not a
 * multiple of the format's block, fewer bytes than the layout needs, an unknown header), or null.
 * Guards the kernels, which trust their arguments, from reading past a matrix.
 */
export function placedProblem(which: string, w: Uint8Array, k: number, m: number): string | null {
  const rows = `${which}: a [${m}, ${k}] weight matrix`;
  const gguf = GGUF_BLOCKS[which];
  let need: number;
  const x8 = X8_BLOCKS[which];
  if (x8) {
    if (k % 32 !== 0) return `${rows} needs a row length that is a multiple of 32`;
    need = x8LayoutBytes(which as "matmulQ8_0" | "matmulQ4_0", k, m);
  } else if (gguf) {
    if (k % gguf[1] !== 0) return `${rows} needs a row length that is a multiple of ${gguf[1]}`;
    need = (k / gguf[1]) * gguf[0] * m;
  } else if (which === "matmulCode8" || which === "matmulInt8Dynamic") {
    const format = w.byteLength >= 4 ? new DataView(w.buffer, w.byteOffset, 4).getInt32(0, true) : -1;
    if (format < 0 || format > 2 || (which === "matmulInt8Dynamic" && format !== 0)) return `${rows}: placed bytes are not in the ${which} layout (header ${format}; see code8Layout)`;
    need = HEADER + align16(m * 4) + m * k;
  } else if (which === "matmulInt4") {
    const g = w.byteLength >= 4 ? new DataView(w.buffer, w.byteOffset, 4).getInt32(0, true) : -1;
    if (![32, 64, 128].includes(g)) return `${rows}: placed bytes are not in the matmulInt4 layout (group size ${g}; see int4Layout)`;
    if (k % g !== 0) return `${rows} needs a row length that is a multiple of the group size ${g}`;
    need = HEADER + align16(m * (k / g) * 4) + align16(m * (k / g)) + (m * k) / 2;
  } else {
    return null;
  }
  return w.byteLength < need ? `${rows} needs ${need} placed bytes, got ${w.byteLength}` : null;
}
