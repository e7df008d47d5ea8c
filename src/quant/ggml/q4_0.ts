/** GGML Q4_0 encoder (layout in decode.ts). */
import { f32ToF16 } from "../../loader/gguf/dequantize.ts";
import { Q4_0_BYTES } from "./decode.ts";

/** As llama.cpp's quantize_row_q4_0_ref: d = (the value of largest magnitude) / -8. */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new RangeError(`Q4_0 needs a multiple of 32 values, got ${x.length}`);
  const nb = x.length / 32;
  const out = new Uint8Array(nb * Q4_0_BYTES);
  for (let b = 0; b < nb; b++) {
    const o = b * 32;
    let amax = 0, max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[o + j]!;
      if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    const h = f32ToF16(d);
    const at = b * Q4_0_BYTES;
    out[at] = h & 0xff;
    out[at + 1] = h >>> 8;
    for (let j = 0; j < 16; j++) {
      // (int8_t)(v + 8.5f) truncates toward zero; MIN(15, ...)
      const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[o + j]! * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(x[o + 16 + j]! * id) + 8.5)));
      out[at + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}
