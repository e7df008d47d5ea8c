import { GGMLType } from "../types.ts";
import { f32ArrayToF16, f32ToF16 } from "./dequantize.ts";
import { ggmlTypeName } from "./ggml-types.ts";

/** f32 values to the bytes of a GGUF tensor type (the inverse of dequantize.ts, for the writer). */
export const ENCODABLE_TYPES: readonly GGMLType[] = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0];

/** Q8_0 as llama.cpp's quantize_row_q8_0_ref: per 32 values d = max|x| / 127 (stored f16), q = roundf(x / d). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % 32 !== 0) throw new RangeError(`Q8_0 needs a multiple of 32 values, got ${values.length}`);
  const nb = values.length / 32;
  const out = new Uint8Array(nb * 34);
  const q = new Int8Array(out.buffer);
  for (let b = 0; b < nb; b++) {
    const o = b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[o + j]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const h = f32ToF16(d);
    out[b * 34] = h & 0xff;
    out[b * 34 + 1] = h >>> 8;
    for (let j = 0; j < 32; j++) {
      const x = Math.fround(values[o + j]! * id);
      q[b * 34 + 2 + j] = x < 0 ? -Math.round(-x) : Math.round(x); // roundf: half away from zero
    }
  }
  return out;
}

/** f32 → bf16 bits, round to nearest even (NaN stays a quiet NaN), as ggml_compute_fp32_to_bf16. */
export function f32ArrayToBF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const u = bits[i]!;
    out[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 64 : (u + (0x7fff + ((u >>> 16) & 1))) >>> 16;
  }
  return out;
}

/** The bytes of `values` stored as `type` (F32, F16, BF16 or Q8_0). */
export function encodeTensorData(type: GGMLType, values: Float32Array): Uint8Array {
  const bytesOf = (a: Float32Array | Uint16Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (type) {
    case GGMLType.F32: return bytesOf(values);
    case GGMLType.F16: return bytesOf(f32ArrayToF16(values));
    case GGMLType.BF16: return bytesOf(f32ArrayToBF16(values));
    case GGMLType.Q8_0: return quantizeQ8_0(values);
    default:
      throw new RangeError(`cannot encode tensors as ${ggmlTypeName(type)}; encodable: ${ENCODABLE_TYPES.map(ggmlTypeName).join(", ")}`);
  }
}
