/**
 * KV cache storage formats (vLLM's --kv-cache-dtype) other than f32 ("auto").
 *
 * 8-bit (int8, fp8): each token's K (or V) is stored per KV head as `headDim` 8-bit codes plus one
 * f32 scale = max|x| / QMAX over that head's values:
 *   int8: code = round(x / scale) in [-127, 127] (QMAX 127);
 *   fp8:  code = e4m3(x / scale), round-to-nearest-even, saturating (QMAX 448).
 * Layout of one token in an Int32Array cache row (`wordsPerToken` words): for each head, the codes
 * in ceil(headDim / 4) words (byte d of the head's run is element d), then the scale's f32 bits.
 * So a token costs numKvHeads * (4 * ceil(headDim / 4) + 4) bytes per K or V instead of 4 * headDim.
 *
 * f16 (llama.cpp's default type_k / type_v): each value as an IEEE half (round to nearest, ties to
 * even, from the value's f32 bits; beyond the half range it becomes ±inf, NaN stays NaN), no scale.
 * Layout: for each head, its halves in ceil(headDim / 2) words (little-endian u16 d of the head's
 * run is element d). A token costs numKvHeads * 2 * headDim bytes per K or V (2 bytes more per head
 * when headDim is odd), half of f32's.
 */
import { E4M3_TABLE, encodeFp8Bits } from "./fp8.ts";
import { HALF } from "./half.ts";
import { f32BitsToF16 } from "../loader/gguf/dequantize.ts";

export type KvCacheDtype = "auto" | "int8" | "fp8" | "f16";
export const KV_CACHE_DTYPES: readonly KvCacheDtype[] = ["auto", "int8", "fp8", "f16"];
/** The dtypes stored through a KvCacheQuantizer (all but "auto"). */
export type KvCacheStoredDtype = Exclude<KvCacheDtype, "auto">;

/** Byte views of one cache tensor's words, made once per forward. */
export interface KvCacheViews {
  i8: Int8Array;
  u8: Uint8Array;
  u16: Uint16Array;
  f32: Float32Array;
}

export class KvCacheQuantizer {
  /** Words that hold one head's codes (8-bit) or halves (f16). */
  readonly codeWords: number;
  readonly wordsPerHead: number;
  readonly wordsPerToken: number;
  private readonly qmax: number;
  private readonly tmp: Float32Array;
  private readonly tmpBits: Uint32Array;

  constructor(readonly dtype: KvCacheStoredDtype, readonly numKvHeads: number, readonly headDim: number) {
    const half = dtype === "f16";
    this.codeWords = half ? Math.ceil(headDim / 2) : Math.ceil(headDim / 4);
    this.wordsPerHead = half ? this.codeWords : this.codeWords + 1;
    this.wordsPerToken = numKvHeads * this.wordsPerHead;
    this.qmax = dtype === "int8" ? 127 : 448;
    this.tmp = new Float32Array(headDim);
    this.tmpBits = new Uint32Array(this.tmp.buffer);
  }

  /** Bytes one token's K (or V) takes in one layer. */
  get bytesPerToken(): number {
    return this.wordsPerToken * 4;
  }

  views(cache: Int32Array): KvCacheViews {
    return {
      i8: new Int8Array(cache.buffer, cache.byteOffset, cache.byteLength),
      u8: new Uint8Array(cache.buffer, cache.byteOffset, cache.byteLength),
      u16: new Uint16Array(cache.buffer, cache.byteOffset, cache.length * 2),
      f32: new Float32Array(cache.buffer, cache.byteOffset, cache.length),
    };
  }

  /** Stores src[srcOff .. srcOff + numKvHeads * headDim) into token `slot`. */
  store(v: KvCacheViews, slot: number, src: Float32Array, srcOff: number): void {
    const { headDim, tmp, tmpBits } = this;
    for (let h = 0; h < this.numKvHeads; h++) {
      const w = (slot * this.numKvHeads + h) * this.wordsPerHead;
      const o = srcOff + h * headDim;
      if (this.dtype === "f16") {
        for (let d = 0; d < headDim; d++) tmp[d] = src[o + d]!;
        const b = w * 2;
        for (let d = 0; d < headDim; d++) v.u16[b + d] = f32BitsToF16(tmpBits[d]!);
        continue;
      }
      let amax = 0;
      for (let d = 0; d < headDim; d++) amax = Math.max(amax, Math.abs(src[o + d]!));
      const scale = Math.fround(amax / this.qmax);
      const inv = scale === 0 ? 0 : 1 / scale;
      v.f32[w + this.codeWords] = scale;
      const b = w * 4;
      if (this.dtype === "int8") {
        for (let d = 0; d < headDim; d++) {
          const x = src[o + d]! * inv;
          v.i8[b + d] = x < 0 ? -Math.round(-x) : Math.round(x);
        }
      } else {
        for (let d = 0; d < headDim; d++) tmp[d] = src[o + d]! * inv;
        for (let d = 0; d < headDim; d++) v.u8[b + d] = encodeFp8Bits(tmpBits[d]!, "e4m3");
      }
    }
  }

  /** Decodes token `slot` into dst[dstOff .. dstOff + numKvHeads * headDim) (f16: exactly). */
  load(v: KvCacheViews, slot: number, dst: Float32Array, dstOff: number): void {
    const { headDim } = this;
    for (let h = 0; h < this.numKvHeads; h++) {
      const w = (slot * this.numKvHeads + h) * this.wordsPerHead;
      const o = dstOff + h * headDim;
      if (this.dtype === "f16") {
        const b = w * 2;
        for (let d = 0; d < headDim; d++) dst[o + d] = HALF[v.u16[b + d]!]!;
        continue;
      }
      const scale = v.f32[w + this.codeWords]!;
      const b = w * 4;
      if (this.dtype === "int8") for (let d = 0; d < headDim; d++) dst[o + d] = v.i8[b + d]! * scale;
      else for (let d = 0; d < headDim; d++) dst[o + d] = E4M3_TABLE[v.u8[b + d]!]! * scale;
    }
  }
}

/** Whether `dtype` names a KV cache dtype. */
export function isKvCacheDtype(dtype: string): dtype is KvCacheDtype {
  return (KV_CACHE_DTYPES as readonly string[]).includes(dtype);
}

/** The quantizer for a dtype, or null for "auto" (f32 storage); throws for an unknown dtype. */
export function kvCacheQuantizer(dtype: string | undefined, numKvHeads: number, headDim: number): KvCacheQuantizer | null {
  if (dtype === undefined) return null;
  if (!isKvCacheDtype(dtype)) throw new RangeError(`unknown kv cache dtype "${dtype}"; accepted: ${KV_CACHE_DTYPES.join(", ")}`);
  return dtype === "auto" ? null : new KvCacheQuantizer(dtype, numKvHeads, headDim);
}
