/** GGML Q4_K encoder (layout in decode.ts). */
import { f32ToF16 } from "../../loader/gguf/dequantize.ts";
import { HALF } from "../half.ts";
import { Q4_K_BYTES, QK_K, scaleMinK4 } from "./decode.ts";
import { makeQkx2Quants, nearestInt } from "./make-quants.ts";

/** As llama.cpp's quantize_row_q4_K_ref (no importance matrix). */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  if (x.length % QK_K !== 0) throw new RangeError(`Q4_K needs a multiple of ${QK_K} values, got ${x.length}`);
  const nb = x.length / QK_K;
  const out = new Uint8Array(nb * Q4_K_BYTES);
  const L = new Uint8Array(QK_K);
  const weights = new Float64Array(32);
  const scales = new Float64Array(8), mins = new Float64Array(8);
  for (let b = 0; b < nb; b++) {
    const xo = b * QK_K;
    const at = b * Q4_K_BYTES;
    let maxScale = 0, maxMin = 0;
    for (let j = 0; j < 8; j++) {
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 += x[xo + 32 * j + l]! ** 2;
      const avX = Math.sqrt(sumX2 / 32);
      for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[xo + 32 * j + l]!);
      const [s, m] = makeQkx2Quants(32, 15, x, xo + 32 * j, weights, L, 32 * j, -1, 0.1, 20);
      scales[j] = s;
      mins[j] = m;
      if (s > maxScale) maxScale = s;
      if (m > maxMin) maxMin = m;
    }
    const invScale = maxScale > 0 ? 63 / maxScale : 0;
    const invMin = maxMin > 0 ? 63 / maxMin : 0;
    const sc = out.subarray(at + 4, at + 16);
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(invScale * scales[j]!));
      const lm = Math.min(63, nearestInt(invMin * mins[j]!));
      if (j < 4) {
        sc[j] = ls;
        sc[j + 4] = lm;
      } else {
        sc[j + 4] = (ls & 15) | ((lm & 15) << 4);
        sc[j - 4]! |= (ls >> 4) << 6;
        sc[j]! |= (lm >> 4) << 6;
      }
    }
    const hd = f32ToF16(maxScale / 63), hm = f32ToF16(maxMin / 63);
    out[at] = hd & 0xff; out[at + 1] = hd >>> 8;
    out[at + 2] = hm & 0xff; out[at + 3] = hm >>> 8;
    const d = HALF[hd]!, dmin = HALF[hm]!;
    for (let j = 0; j < 8; j++) {
      const [ls, lm] = scaleMinK4(out, at + 4, j);
      const dd = d * ls;
      if (!dd) continue;
      const dm = dmin * lm;
      for (let i = 0; i < 32; i++) L[32 * j + i] = Math.max(0, Math.min(15, nearestInt((x[xo + 32 * j + i]! + dm) / dd)));
    }
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) out[at + 16 + 32 * c + l] = L[64 * c + l]! | (L[64 * c + 32 + l]! << 4);
    }
  }
  return out;
}
