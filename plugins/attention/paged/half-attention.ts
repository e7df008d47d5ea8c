import type { AttentionShape } from "../../../src/plugin/types.ts";
import { dexp } from "../../../src/util/det-math.ts";
import { dtanh } from "../../backend/cpu/extra-kernels.ts";
import { HALF } from "../../../src/quant/half.ts";
import { f32BitsToF16 } from "../../../src/loader/gguf/dequantize.ts";

/**
 * Attention of one query head in half precision, as llama.cpp's CPU flash attention runs an f16
 * KV cache (ggml's flash_attn_ext, one query row at a time): the JavaScript reference of the paged
 * plugin's f16 cache, and its path where WebAssembly is unavailable or scores are soft-capped
 * (plugins/backend/cpu/wasm/attend-half.ts is its port with identical bits).
 */
export class HalfPrecisionAttention {
  private readonly half32 = new Float32Array(1);
  private readonly half32Bits = new Uint32Array(this.half32.buffer);
  private qHalf = new Float32Array(0);
  private vkqHalf = new Float32Array(0);

  constructor(private readonly shape: AttentionShape) {}

  /** x rounded to f32, then to an IEEE half (nearest, ties to even): the value of that half. */
  private toHalf(x: number): number {
    this.half32[0] = x;
    return HALF[f32BitsToF16(this.half32Bits[0]!)]!;
  }

  /**
   * One query head (q at qa[qo..]) over `len` staged keys (K/V rows at offs[j] + kvo of kCache /
   * vCache, values that are halves): q rounded to f16; each K·q summed in f64 in order, rounded to
   * f32 and scaled in f32 (soft-capped if asked); an online softmax in f32 (running max M and sum
   * S); the V accumulator held in f16, rescaled by exp(Mold - M) on a new max and updated as
   * acc + v * exp(s - M) rounded to f16 after every key; finally acc * (1/S) into oa[qo..].
   */
  attend(qa: Float32Array, qo: number, kCache: Float32Array, vCache: Float32Array, offs: Int32Array, kvo: number, len: number, oa: Float32Array): void {
    const { headDim } = this.shape;
    const fr = Math.fround, cap = this.shape.logitsSoftCap ?? 0;
    const scale = fr(cap > 0 ? fr(this.shape.smScale) / cap : this.shape.smScale);
    if (this.qHalf.length < headDim) { this.qHalf = new Float32Array(headDim); this.vkqHalf = new Float32Array(headDim); }
    const q16 = this.qHalf, acc = this.vkqHalf;
    for (let d = 0; d < headDim; d++) q16[d] = this.toHalf(qa[qo + d]!);
    acc.fill(0, 0, headDim);
    let M = -Infinity, S = 0;
    for (let j = 0; j < len; j++) {
      const o = offs[j]! + kvo;
      let s = 0;
      for (let d = 0; d < headDim; d++) s += q16[d]! * kCache[o + d]!;
      s = fr(fr(s) * scale);
      if (cap > 0) s = fr(cap * dtanh(s));
      let ms = 1, vs = 1;
      if (s > M) {
        ms = fr(dexp(M - s));
        M = s;
        for (let d = 0; d < headDim; d++) acc[d] = this.toHalf(acc[d]! * ms);
      } else {
        vs = fr(dexp(s - M));
      }
      for (let d = 0; d < headDim; d++) acc[d] = this.toHalf(acc[d]! + vCache[o + d]! * vs);
      S = fr(fr(S * ms) + vs);
    }
    const inv = S === 0 ? 0 : fr(1 / S);
    for (let d = 0; d < headDim; d++) oa[qo + d] = acc[d]! * inv;
  }
}
