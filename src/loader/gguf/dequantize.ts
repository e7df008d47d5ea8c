import { ModelFileError } from "../../util/errors.ts";
import { HALF } from "../../quant/half.ts";
import { GGMLType, type HostTensor } from "../types.ts";
import { ggmlTypeName, tensorByteSize, TensorShapeError } from "./ggml-types.ts";
import { dequantizeBlocks } from "../../quant/ggml/decode.ts";

/** Types `dequantize` can convert to f32. */
export const DEQUANTIZE_TYPES: readonly GGMLType[] = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K];

/** IEEE half (as its 16 bits) to the number it denotes, exactly: subnormals, ±0, ±inf and NaN included. */
export function f16ToF32(h: number): number {
  return HALF[h & 0xffff]!;
}

/** f32 bit pattern (a u32) to IEEE half bits, rounding to nearest, ties to even; overflow gives ±inf. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is correct (up to inf)
  return sign | h;
}

/** A number to IEEE half bits (via its f32 rounding first, as ggml does), round-to-nearest-even. */
export function f32ToF16(f: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, f);
  return f32BitsToF16(v.getUint32(0));
}

/** Converts a whole array of f32 values to half bits. */
export function f32ArrayToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

/** A little-endian u16 view of `data` when aligned, else a copy. */
function u16View(data: Uint8Array): Uint16Array {
  if (data.byteOffset % 2 === 0) return new Uint16Array(data.buffer, data.byteOffset, data.byteLength >>> 1);
  return new Uint16Array(data.slice().buffer);
}

function dequantizeF32(data: Uint8Array, numel: number): Float32Array {
  if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, numel);
  return new Float32Array(data.slice(0, numel * 4).buffer);
}

function dequantizeF16(data: Uint8Array, numel: number): Float32Array {
  const src = u16View(data);
  const out = new Float32Array(numel);
  for (let i = 0; i < numel; i++) out[i] = f16ToF32(src[i]);
  return out;
}

function dequantizeBF16(data: Uint8Array, numel: number): Float32Array {
  const src = u16View(data);
  const bits = new Uint32Array(numel);
  for (let i = 0; i < numel; i++) bits[i] = src[i] << 16;
  return new Float32Array(bits.buffer);
}

/** Q8_0: blocks of 34 bytes: f16 scale d, then 32 int8 q; value = d * q. */
function dequantizeQ8_0(data: Uint8Array, numel: number): Float32Array {
  const out = new Float32Array(numel);
  const q = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  const nBlocks = numel / 32;
  for (let b = 0; b < nBlocks; b++) {
    const at = b * 34;
    const d = f16ToF32(data[at] | (data[at + 1] << 8));
    const o = b * 32;
    for (let j = 0; j < 32; j++) out[o + j] = d * q[at + 2 + j];
  }
  return out;
}

/**
 * The values of `t` as f32. An aligned F32 tensor comes back as a view of its bytes (no copy);
 * everything else is a new array. Throws ModelFileError for an unsupported type or a size mismatch.
 */
export function dequantize(t: HostTensor, file = "<tensor>"): Float32Array {
  let expected: number;
  try {
    expected = tensorByteSize(t.type, t.dims);
  } catch (e) {
    if (e instanceof TensorShapeError) throw new ModelFileError(file, `tensor '${t.name}': ${e.message}`);
    throw e;
  }
  if (t.data.byteLength !== expected) {
    throw new ModelFileError(
      file,
      `tensor '${t.name}' has ${t.data.byteLength} bytes of data; ${ggmlTypeName(t.type)} [${t.dims.join(", ")}] needs ${expected}`,
    );
  }
  switch (t.type) {
    case GGMLType.F32: return dequantizeF32(t.data, t.numel);
    case GGMLType.F16: return dequantizeF16(t.data, t.numel);
    case GGMLType.BF16: return dequantizeBF16(t.data, t.numel);
    case GGMLType.Q8_0: return dequantizeQ8_0(t.data, t.numel);
    case GGMLType.Q4_0: case GGMLType.Q4_K: case GGMLType.Q6_K: return dequantizeBlocks(t.type, t.data, t.numel);
    default:
      throw new ModelFileError(
        file,
        `cannot dequantize tensor '${t.name}' of type ${ggmlTypeName(t.type)}; supported: ${DEQUANTIZE_TYPES.map(ggmlTypeName).join(", ")}`,
      );
  }
}
