/** GGML Q6_K encoder (layout in decode.ts). */
import { f32ToF16 } from "../../loader/gguf/dequantize.ts";
import { HALF } from "../half.ts";
import { Q6_K_BYTES } from "./decode.ts";
import { makeQxQuants, nearestInt } from "./make-quants.ts";

/** As llama.cpp's quantize_row_q6_K_ref (no importance matrix). */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  if (x.length % 256 !== 0) throw new RangeError(`Q6_K needs a multiple of 256 values, got ${x.length}`);
  const nb = x.length / 256;
  const out = new Uint8Array(nb * Q6_K_BYTES);
  const L = new Int8Array(256);
  const scales = new Float64Array(16);
  for (let b = 0; b < nb; b++) {
    const xo = b * 256, at = b * Q6_K_BYTES;
    let maxScale = 0, maxAbs = 0;
    for (let ib = 0; ib < 16; ib++) {
      const s = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
      scales[ib] = s;
      if (Math.abs(s) > maxAbs) { maxAbs = Math.abs(s); maxScale = s; }
    }
    if (maxAbs < 1e-15) continue; // all zero: d = 0, every byte 0
    const iscale = -128 / maxScale;
    const hd = f32ToF16(1 / iscale);
    out[at + 208] = hd & 0xff;
    out[at + 209] = hd >>> 8;
    const sc = new Int8Array(out.buffer, out.byteOffset + at + 192, 16);
    for (let ib = 0; ib < 16; ib++) sc[ib] = Math.min(127, nearestInt(iscale * scales[ib]!));
    const d = HALF[hd]!;
    for (let j = 0; j < 16; j++) {
      const dd = d * sc[j]!;
      if (!dd) continue;
      for (let i = 0; i < 16; i++) L[16 * j + i] = Math.max(-32, Math.min(31, nearestInt(x[xo + 16 * j + i]! / dd))) + 32;
    }
    for (let half = 0; half < 2; half++) {
      const ql = at + 64 * half, qh = at + 128 + 32 * half, j = 128 * half;
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l]!, q2 = L[j + l + 32]!, q3 = L[j + l + 64]!, q4 = L[j + l + 96]!;
        out[ql + l] = (q1 & 15) | ((q3 & 15) << 4);
        out[ql + l + 32] = (q2 & 15) | ((q4 & 15) << 4);
        out[qh + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  }
  return out;
}
