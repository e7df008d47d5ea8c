/**
 * Block decoders of the GGML formats the engine computes on: each turns one block (typeSize bytes)
 * into blockSize f32 values. Kernels decode a block at a time; `dequantizeBlocks` decodes a whole
 * tensor (for the token embedding table, and for tests).
 */
import { GGMLType } from "../../loader/types.ts";
import { readHalf } from "../half.ts";

export const QK_K = 256;
export const Q4_0_BYTES = 18;
export const Q4_K_BYTES = 144;
export const Q6_K_BYTES = 210;

/**
 * Q4_0: blocks of 32 weights in 18 bytes: f16 scale d, then 16 bytes whose low nibbles are
 * elements 0..15 and high nibbles elements 16..31; value = d * (nibble - 8).
 */
export function decodeQ4_0(src: Uint8Array, off: number, dst: Float32Array, dOff = 0): void {
  const d = readHalf(src, off);
  for (let j = 0; j < 16; j++) {
    const b = src[off + 2 + j]!;
    dst[dOff + j] = d * ((b & 15) - 8);
    dst[dOff + j + 16] = d * ((b >>> 4) - 8);
  }
}

/**
 * Q4_K: super-blocks of 256 weights in 144 bytes:
 *   d (f16), dmin (f16), scales[12] (eight 6-bit scales and eight 6-bit mins), qs[128].
 * The 256 weights are 8 sub-blocks of 32; sub-block s has scale d * sc[s] and min dmin * m[s], and
 * value = d * sc[s] * q - dmin * m[s] with q a 4-bit code. qs is 4 chunks of 32 bytes; chunk c holds
 * sub-block 2c in its low nibbles and sub-block 2c + 1 in its high nibbles.
 * 6-bit packing (get_scale_min_k4): for s < 4, sc = scales[s] & 63, m = scales[s + 4] & 63; for
 * s >= 4, sc = (scales[s + 4] & 15) | (scales[s - 4] >> 6) << 4, m = (scales[s + 4] >> 4) | (scales[s] >> 6) << 4.
 */

/** Scale and min (6-bit integers) of sub-block j, from the 12 packed bytes at src[so]. */
export function scaleMinK4(src: Uint8Array, so: number, j: number): [number, number] {
  if (j < 4) return [src[so + j]! & 63, src[so + j + 4]! & 63];
  return [(src[so + j + 4]! & 15) | ((src[so + j - 4]! >>> 6) << 4), (src[so + j + 4]! >>> 4) | ((src[so + j]! >>> 6) << 4)];
}

export function decodeQ4_K(src: Uint8Array, off: number, dst: Float32Array, dOff = 0): void {
  const d = readHalf(src, off);
  const dmin = readHalf(src, off + 2);
  const so = off + 4;
  let q = off + 16;
  let y = dOff;
  for (let s = 0; s < 8; s += 2) {
    const [sc1, m1] = scaleMinK4(src, so, s);
    const [sc2, m2] = scaleMinK4(src, so, s + 1);
    const d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
    for (let l = 0; l < 32; l++) dst[y + l] = d1 * (src[q + l]! & 15) - mm1;
    for (let l = 0; l < 32; l++) dst[y + 32 + l] = d2 * (src[q + l]! >>> 4) - mm2;
    q += 32;
    y += 64;
  }
}

/**
 * Q6_K: super-blocks of 256 weights in 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits),
 * scales[16] (int8, one per 16 weights), d (f16). value = d * scales[s] * (q - 32), q a 6-bit code.
 * Each half (128 weights) uses 64 ql bytes and 32 qh bytes: for l < 32,
 *   q(l)      = ql[l] & 15      | (qh[l] >> 0 & 3) << 4
 *   q(l + 32) = ql[l + 32] & 15 | (qh[l] >> 2 & 3) << 4
 *   q(l + 64) = ql[l] >> 4      | (qh[l] >> 4 & 3) << 4
 *   q(l + 96) = ql[l + 32] >> 4 | (qh[l] >> 6 & 3) << 4
 */
export function decodeQ6_K(src: Uint8Array, off: number, dst: Float32Array, dOff = 0): void {
  const d = readHalf(src, off + 208);
  for (let half = 0; half < 2; half++) {
    const ql = off + 64 * half, qh = off + 128 + 32 * half, sc = off + 192 + 8 * half;
    const y = dOff + 128 * half;
    for (let is = 0; is < 2; is++) {
      const s0 = d * ((src[sc + is]! << 24) >> 24), s2 = d * ((src[sc + is + 2]! << 24) >> 24);
      const s4 = d * ((src[sc + is + 4]! << 24) >> 24), s6 = d * ((src[sc + is + 6]! << 24) >> 24);
      for (let l = 16 * is; l < 16 * is + 16; l++) {
        const h = src[qh + l]!, a = src[ql + l]!, b = src[ql + l + 32]!;
        dst[y + l] = s0 * (((a & 15) | ((h & 3) << 4)) - 32);
        dst[y + l + 32] = s2 * (((b & 15) | (((h >>> 2) & 3) << 4)) - 32);
        dst[y + l + 64] = s4 * (((a >>> 4) | (((h >>> 4) & 3) << 4)) - 32);
        dst[y + l + 96] = s6 * (((b >>> 4) | (((h >>> 6) & 3) << 4)) - 32);
      }
    }
  }
}

export interface BlockCodec {
  type: GGMLType;
  blockSize: number;
  typeSize: number;
  /** Decode the block at src[off] into dst[dOff .. dOff + blockSize). */
  decode(src: Uint8Array, off: number, dst: Float32Array, dOff?: number): void;
}

function decodeQ8_0(src: Uint8Array, off: number, dst: Float32Array, dOff = 0): void {
  const d = readHalf(src, off);
  for (let j = 0; j < 32; j++) dst[dOff + j] = d * ((src[off + 2 + j]! << 24) >> 24);
}

export const BLOCK_CODECS: ReadonlyMap<GGMLType, BlockCodec> = new Map([
  [GGMLType.Q8_0, { type: GGMLType.Q8_0, blockSize: 32, typeSize: 34, decode: decodeQ8_0 }],
  [GGMLType.Q4_0, { type: GGMLType.Q4_0, blockSize: 32, typeSize: Q4_0_BYTES, decode: decodeQ4_0 }],
  [GGMLType.Q4_K, { type: GGMLType.Q4_K, blockSize: QK_K, typeSize: Q4_K_BYTES, decode: decodeQ4_K }],
  [GGMLType.Q6_K, { type: GGMLType.Q6_K, blockSize: QK_K, typeSize: Q6_K_BYTES, decode: decodeQ6_K }],
]);

/** All `numel` values of a block-quantized tensor (byte length checked by the caller). */
export function dequantizeBlocks(type: GGMLType, data: Uint8Array, numel: number): Float32Array {
  const c = BLOCK_CODECS.get(type);
  if (!c) throw new RangeError(`no block decoder for ggml type ${GGMLType[type] ?? type}`);
  const out = new Float32Array(numel);
  const nb = numel / c.blockSize;
  for (let b = 0; b < nb; b++) c.decode(data, b * c.typeSize, out, b * c.blockSize);
  return out;
}
