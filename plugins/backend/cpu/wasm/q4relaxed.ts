// AssemblyScript: the Q4_0 × q8-activation tile of kernels-relaxed.wasm, the build of kernels.ts
// with relaxed SIMD (scripts/build-wasm.sh; not TypeScript). Only compiled in when
// ASC_FEATURE_RELAXED_SIMD is set; kernels.wasm keeps the SIMD128 tile of q8act.ts.
//
// i16x8.relaxed_dot_i8x16_i7x16_s multiplies 16 signed bytes by 16 bytes in 0..127 and adds
// pairs into 8 int16 lanes: one instruction (pmaddubsw on x64) for 16 multiply-adds, twice
// i32x4.dot_i16x8_s's 8. Its result is specified only when the second operand's bytes are below
// 128; here they are Q4_0 nibbles (0..15), so every engine computes the same exact integers. The
// activation codes (|q| <= 127) are the first operand. Σ q·(nibble - 8) = Σ q·nibble - 8 Σ q:
// the int16 accumulators start at -8 Σ q (the quantizer stores it per row and block, q8act.ts),
// even lanes over the codes at k ≡ 0, 1 (mod 4), odd lanes at k ≡ 2, 3, which are the codes each
// lane meets. A lane then ends at Σ q·(nibble - 8) over its 16 (q, nibble) pairs, at most
// 16·127·8 = 16256 in magnitude; int16 addition wraps, so the partial sums may leave the int16
// range on the way and the end value is still exact. The integer block dots equal the SIMD128
// tile's, and the f32 recurrence after them is the same expression, so both modules give
// identical bits.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { storeColumns8 } from "./common";

/** Bytes of one block of a 4-row activation group in the relaxed build (see q8act.ts). */
export const GROUP_BLOCK_RELAXED: usize = 416;
/**
 * Offset of the 4 rows' int8 codes (32 each) in such a block; then per row an i32 at +400 whose
 * int16 halves are -8 × (the sum of the codes at k ≡ 0, 1 mod 4) and -8 × (those at k ≡ 2, 3).
 */
export const I8_CODES: usize = 272;
export const CODE_SUMS: usize = 400;

/** Bytes per block of a widened group: 8 f32 scales, then 2 column quads × 8 k-quads × 16 bytes. */
export const BS_U4: usize = 288;

/**
 * A Q4_0 x8 group (nb blocks of 160 bytes at src, q8act.ts) rewritten at dst for tile4x8U: per
 * block the 8 scales, then for column quad h (columns 4h..4h+3) and k-quad t (k = 4t..4t+3) 16
 * bytes, byte 4c + e = the GGUF nibble (0..15) of column 4h + c at k = 4t + e. The x8 layout's
 * quad t holds k-pair 2t of the 8 columns in its low nibbles (byte 2c + e: k = 4t + e) and k-pair
 * 2t + 1 in its high ones, as value - 8 in 4-bit two's complement (nibble xor 8).
 */
// @ts-ignore: decorator
@inline export function widenQ4Unsigned(dst: usize, src: usize, nb: i32): void {
  const low = i8x16.splat(15), eight = i8x16.splat(8);
  for (let b = 0; b < nb; b++) {
    const s = src + <usize>b * 160, d = dst + <usize>b * BS_U4;
    v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
    for (let t: usize = 0; t < 8; t++) {
      const v = v128.load(s + 32 + (t << 4));
      const lo = v128.xor(v128.and(v, low), eight), hi = v128.xor(i8x16.shr_u(v, 4), eight);
      v128.store(d + 32 + (t << 4), i8x16.shuffle(lo, hi, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
      v128.store(d + 160 + (t << 4), i8x16.shuffle(lo, hi, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31));
    }
  }
}

/** acc + the int16 pair sums of codes s (first operand, signed) and nibbles w (0..15). */
// @ts-ignore: decorator
@inline function dotAdd(acc: v128, s: v128, w: v128): v128 {
  return i16x8.add(acc, i16x8.relaxed_dot_i8x16_i7x16_s(s, w));
}

/** A row's block: int16 lanes → the int32 dots of 4 columns each; then the f32 recurrence. */
// @ts-ignore: decorator
@inline function finishRow(r: usize, acc: v128, acd: v128, xb: usize, row: usize, dl: v128, dh: v128): void {
  const d = v128.load32_splat(xb + 256 + (row << 2));
  const p = i32x4.extadd_pairwise_i16x8_s(acc), q = i32x4.extadd_pairwise_i16x8_s(acd);
  v128.store(r, f32x4.add(v128.load(r), f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.mul(d, dl))));
  v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(f32x4.convert_i32x4_s(q), f32x4.mul(d, dh))), 16);
}

/**
 * 8 columns (widened group at wg) × the 4 rows of activation group xg (relaxed layout), the
 * outputs o (row stride rm bytes) zeroed then accumulated per block exactly as q8act.ts tile4x8:
 * out = out + (f32)isum · (dx · dw), lane by lane.
 */
// @ts-ignore: decorator
@inline export function tile4x8U(wg: usize, nb: i32, xg: usize, o: usize, rm: usize): void {
  const z = f32x4.splat(0);
  v128.store(o, z); v128.store(o, z, 16); v128.store(o + rm, z); v128.store(o + rm, z, 16);
  v128.store(o + 2 * rm, z); v128.store(o + 2 * rm, z, 16); v128.store(o + 3 * rm, z); v128.store(o + 3 * rm, z, 16);
  for (let b = 0; b < nb; b++) {
    const wb = wg + <usize>b * BS_U4, xb = xg + <usize>b * GROUP_BLOCK_RELAXED;
    // Both column quads of a row start at the row's -8 Σ q lanes.
    let a0 = v128.load32_splat(xb + CODE_SUMS), a1 = v128.load32_splat(xb + CODE_SUMS + 4);
    let a2 = v128.load32_splat(xb + CODE_SUMS + 8), a3 = v128.load32_splat(xb + CODE_SUMS + 12);
    let c0 = a0, c1 = a1, c2 = a2, c3 = a3;
    for (let t: usize = 0, xp = xb + I8_CODES; t < 8; t++, xp += 4) {
      const w0 = v128.load(wb + 32 + (t << 4)), w1 = v128.load(wb + 160 + (t << 4));
      // One row at a time: its 4 codes splat to all lanes, against both column quads.
      let s = v128.load32_splat(xp);
      a0 = dotAdd(a0, s, w0); c0 = dotAdd(c0, s, w1);
      s = v128.load32_splat(xp, 32);
      a1 = dotAdd(a1, s, w0); c1 = dotAdd(c1, s, w1);
      s = v128.load32_splat(xp, 64);
      a2 = dotAdd(a2, s, w0); c2 = dotAdd(c2, s, w1);
      s = v128.load32_splat(xp, 96);
      a3 = dotAdd(a3, s, w0); c3 = dotAdd(c3, s, w1);
    }
    const dl = v128.load(wb), dh = v128.load(wb, 16);
    finishRow(o, a0, c0, xb, 0, dl, dh);
    finishRow(o + rm, a1, c1, xb, 1, dl, dh);
    finishRow(o + 2 * rm, a2, c2, xb, 2, dl, dh);
    finishRow(o + 3 * rm, a3, c3, xb, 3, dl, dh);
  }
}

/**
 * 8 columns (an x8 Q4_0 group at wg, as placed: 160-byte blocks) × one activation row of the
 * relaxed layout (its int8 codes at xc, scale at xs and code-sum word at xsum, all in block 0;
 * blocks GROUP_BLOCK_RELAXED apart), columns c0..c1-1 stored at o. A quad's 16 bytes xor 0x88 are
 * the GGUF nibbles: the low ones k-pair 4t, 4t + 1 of the 8 columns (byte 2c + e), the high ones
 * 4t + 2, 4t + 3; against the row's code pair splat to all lanes, lane c of the int16 dot is
 * column c's pair sum. The lanes start at -8 Σ q over the whole block and end at
 * Σ q·(nibble - 8), at most 32·127·8 = 32512 in magnitude (wrapping on the way is harmless).
 * Then al/ah += (f32)isum · (dx · dw) as q8act.ts row1x8: the same bits.
 */
// @ts-ignore: decorator
@inline export function row1x8U(wg: usize, nb: i32, xc: usize, xs: usize, xsum: usize, o: usize, c0: i32, c1: i32): void {
  let al = f32x4.splat(0), ah = f32x4.splat(0);
  const flip = i8x16.splat(<i8>0x88), low = i8x16.splat(15);
  for (let b = 0; b < nb; b++) {
    const wb = wg + <usize>b * 160, xb = xc + <usize>b * GROUP_BLOCK_RELAXED;
    const eo = load<i32>(xsum + <usize>b * GROUP_BLOCK_RELAXED);
    let acc = i16x8.splat(<i16>(((eo << 16) >> 16) + (eo >> 16)));
    for (let t: usize = 0; t < 8; t++) {
      const v = v128.xor(v128.load(wb + 32 + (t << 4)), flip);
      acc = i16x8.add(acc, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load16_splat(xb + (t << 2)), v128.and(v, low)));
      acc = i16x8.add(acc, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load16_splat(xb + (t << 2) + 2), v128.and(i16x8.shr_u(v, 4), low)));
    }
    const d = v128.load32_splat(xs + <usize>b * GROUP_BLOCK_RELAXED);
    al = f32x4.add(al, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(acc)), f32x4.mul(d, v128.load(wb))));
    ah = f32x4.add(ah, f32x4.mul(f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(acc)), f32x4.mul(d, v128.load(wb, 16))));
  }
  storeColumns8(o, al, ah, c0, c1);
}
