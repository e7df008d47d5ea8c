/**
 * int4 group-wise asymmetric weight quantization (weight-only).
 *
 * Each row of W[out, in] is cut into groups of G consecutive input features (G = 32, 64 or 128;
 * G must divide `in`). A group with values in [lo, hi] (the range widened to contain 0, so 0 is
 * exact) gets
 *   scale = (hi - lo) / 15,   zero = clamp(round(-lo / scale), 0, 15),
 *   q = clamp(round(w / scale) + zero, 0, 15),   w ≈ (q - zero) * scale.
 * (The integer zero point of GPTQ/AWQ-style "uint4 asymmetric"; torchao's tinygemm layout keeps a
 * float zero instead.)
 *
 * Layout (row-major, rows never share a byte):
 *   packed: Uint8Array [out, in / 2]: byte t of a row holds element 2t in its low nibble and
 *           element 2t + 1 in its high nibble;
 *   scales: Float32Array [out, in / G];
 *   zeros:  Uint8Array [out, in / G], one zero point (0..15) per byte.
 * So a weight costs 4 bits plus 40 bits per group (4.25 bits at G = 128, 5.25 at G = 32).
 */
import { checkMatrix, QuantizationError } from "./errors.ts";

export const INT4_GROUP_SIZES: readonly number[] = [32, 64, 128];

export interface Int4Matrix {
  rows: number;
  cols: number;
  groupSize: number;
  packed: Uint8Array;
  scales: Float32Array;
  zeros: Uint8Array;
}

/** Why `groupSize` cannot quantize rows of `cols` values, or null when it can. */
export function int4GroupProblem(cols: number, groupSize: number): string | null {
  if (!Number.isInteger(groupSize) || groupSize < 2 || groupSize % 2 !== 0) {
    return `int4 group size ${groupSize} is not a positive even integer; supported: ${INT4_GROUP_SIZES.join(", ")}`;
  }
  if (cols % groupSize !== 0) return `row length ${cols} is not a multiple of the int4 group size ${groupSize}`;
  return null;
}

function clamp15(v: number): number {
  return v < 0 ? 0 : v > 15 ? 15 : v;
}

/** Squared error of quantizing w[o .. o + n) with (scale, zero). */
function groupError(w: Float32Array, o: number, n: number, scale: number, zero: number): number {
  const inv = scale === 0 ? 0 : 1 / scale;
  let err = 0;
  for (let p = 0; p < n; p++) {
    const v = w[o + p]!;
    const d = (clamp15(Math.round(v * inv) + zero) - zero) * scale - v;
    err += d * d;
  }
  return err;
}

/** SHRINK[i]: fractions of the min-max range tried as the group's range (1 = plain min-max). */
const SHRINK = [1, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825, 0.8];

/**
 * Quantizes group `gi` (values w[o .. o + n)) into `m`: min-max, or (search) the range shrink with
 * the least squared error, then the least-squares scale for the chosen codes (the zero point stays
 * an integer). Plain loops with no closure or tuple per group: load time is this loop.
 */
function quantizeGroup(w: Float32Array, o: number, n: number, search: boolean, m: Int4Matrix, gi: number): void {
  let lo = 0, hi = 0;
  for (let p = 0; p < n; p++) {
    const v = w[o + p]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let scale = Math.fround((hi - lo) / 15);
  let zero = scale === 0 ? 0 : clamp15(Math.round(-lo / scale));
  if (search && scale !== 0) {
    let best = groupError(w, o, n, scale, zero);
    for (let i = 1; i < SHRINK.length; i++) {
      const f = SHRINK[i]!;
      const s = Math.fround(((hi - lo) * f) / 15);
      const z = s === 0 ? 0 : clamp15(Math.round((-lo * f) / s));
      const e = groupError(w, o, n, s, z);
      if (e < best) { best = e; scale = s; zero = z; }
    }
    // Refit the scale to the chosen codes: s* = Σ w (q - z) / Σ (q - z)².
    const inv = 1 / scale;
    let num = 0, den = 0;
    for (let p = 0; p < n; p++) {
      const c = clamp15(Math.round(w[o + p]! * inv) + zero) - zero;
      num += w[o + p]! * c;
      den += c * c;
    }
    const refit = den > 0 ? Math.fround(num / den) : scale;
    if (refit > 0 && groupError(w, o, n, refit, zero) < best) scale = refit;
  }
  m.scales[gi] = scale;
  m.zeros[gi] = zero;
  const inv = scale === 0 ? 0 : 1 / scale, packed = m.packed;
  for (let p = 0; p < n; p += 2) {
    const a = clamp15(Math.round(w[o + p]! * inv) + zero);
    const b = clamp15(Math.round(w[o + p + 1]! * inv) + zero);
    packed[(o + p) >> 1] = a | (b << 4);
  }
}

/**
 * W [rows, cols] → packed int4 with one scale and zero point per group of `groupSize`: min-max by
 * default; with `search` each group's range is chosen among shrunken min-max ranges by squared
 * error (a small grid search, as llama.cpp's k-quants refine theirs). On stories260K the search
 * lowers the KL divergence by 4% but not top-1 agreement, and costs 6x the load time, so it is off.
 */
export function quantizeInt4(w: Float32Array, rows: number, cols: number, groupSize: number, opts: { search?: boolean } = {}): Int4Matrix {
  checkMatrix("int4", w, rows, cols);
  const problem = int4GroupProblem(cols, groupSize);
  if (problem) throw new QuantizationError(problem);
  const search = opts.search ?? false;
  const groups = cols / groupSize;
  const m: Int4Matrix = {
    rows, cols, groupSize,
    packed: new Uint8Array((rows * cols) / 2), scales: new Float32Array(rows * groups), zeros: new Uint8Array(rows * groups),
  };
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) quantizeGroup(w, r * cols + g * groupSize, groupSize, search, m, r * groups + g);
  }
  return m;
}

/** The codes (0..15) of `m`, unpacked to one byte per weight. */
export function unpackInt4(m: Int4Matrix): Uint8Array {
  const out = new Uint8Array(m.rows * m.cols);
  for (let i = 0; i < m.packed.length; i++) {
    out[2 * i] = m.packed[i]! & 15;
    out[2 * i + 1] = m.packed[i]! >>> 4;
  }
  return out;
}

export function dequantizeInt4(m: Int4Matrix): Float32Array {
  const codes = unpackInt4(m);
  const out = new Float32Array(m.rows * m.cols);
  const groups = m.cols / m.groupSize;
  for (let i = 0; i < out.length; i++) {
    const r = Math.floor(i / m.cols);
    const g = r * groups + Math.floor((i % m.cols) / m.groupSize);
    out[i] = (codes[i]! - m.zeros[g]!) * m.scales[g]!;
  }
  return out;
}

export function int4Bytes(m: Int4Matrix): number {
  return m.packed.byteLength + m.scales.byteLength + m.zeros.byteLength;
}
