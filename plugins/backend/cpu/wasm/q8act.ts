// AssemblyScript kernels for GGML Q8_0 and Q4_0 weights × activations quantized to Q8_0 ("q8
// activations", the llama.cpp semantics of ggml_vec_dot_q8_0_q8_0 / q4_0_q8_0 with the float
// accumulation order pinned down). See kernels.ts for the calling convention; not TypeScript.
//
// The host quantizes x once per call with quantizeQ8_0Rows into a scratch buffer and passes that
// buffer as x. Its layout (k a multiple of 32, nb = k / 32, rows padded with zero rows to n4, a
// multiple of 4): groups of 4 rows; group g's block b is GROUP_BLOCK bytes at x + (g nb + b)
// GROUP_BLOCK: the 4 rows' 32 codes each as int16 (widened so the kernels load them ready for
// i32x4.dot_i16x8_s), then the 4 rows' f32 scales (272 bytes; the relaxed build appends int8
// codes and code sums for q4relaxed.ts, 416 bytes). A kernel pass over 4 rows reads one stream with fixed offsets.
// For every (row i, column j): acc = 0; per block b in order: isum = Σ qx qw as an exact int32,
// s = dx_b * dw_b (f32), acc = acc + (f32)isum * s (f32 multiply, then f32 add; no fused
// multiply-add in wasm SIMD). The kernels put 4 rows (or 4 columns) of that recurrence in the 4
// lanes of one f32x4, which computes each lane exactly as the scalar formula: results do not
// depend on n, the row or column blocking or the thread split.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { f16, storeColumns8 } from "./common";
import { CODE_SUMS, GROUP_BLOCK_RELAXED, I8_CODES, row1x8U, tile4x8U, widenQ4Unsigned } from "./q4relaxed";

/**
 * Bytes of one block of a 4-row group of quantized activations: 4 × 32 int16 codes, 4 f32 scales;
 * the relaxed-SIMD build appends the 4 rows' codes as int8 and 8·Σ codes per row (q4relaxed.ts).
 */
const GROUP_BLOCK: usize = ASC_FEATURE_RELAXED_SIMD ? GROUP_BLOCK_RELAXED : 272;

/** 1 in kernels-relaxed.wasm, 0 in kernels.wasm (the host reports which it runs). */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** IEEE half bits of f (round to nearest even; overflow to ±inf; NaN → 0x7e00), as GGML_FP32_TO_FP16. */
export function f32ToF16Bits(f: f32): u32 {
  const w = reinterpret<u32>(f);
  const shl1 = w << 1, sign = w & 0x80000000;
  let bias = shl1 & 0xff000000;
  if (bias < 0x71000000) bias = 0x71000000;
  // |f| · 2^112 · 2^-110 rounds the mantissa to the f16 grid when added to the biased exponent.
  let base = (abs(f) * reinterpret<f32>(0x77800000)) * reinterpret<f32>(0x08800000);
  base = reinterpret<f32>((bias >> 1) + 0x07800000) + base;
  const bits = reinterpret<u32>(base);
  const nonsign = ((bits >> 13) & 0x7c00) + (bits & 0x0fff);
  return (sign >> 16) | (shl1 > 0xff000000 ? 0x7e00 : nonsign);
}

/**
 * roundf (halves away from zero) of four lanes, as i32: trunc(v + copysign(0.5 - 2^-25, v)). The
 * f32 sum rounds to an integer exactly when v's fraction is at least 0.5 (a fraction just under 0.5
 * sums to just under 1, a tie of 0.5 rounds the sum up to the integer), checked against the
 * trunc-and-compare definition for every f32 of magnitude 2^-3..256 (smaller ones sum below 1).
 * NaN lanes give 0, as before.
 */
// @ts-ignore: decorator
@inline function roundAway(v: v128): v128 {
  const half = v128.or(f32x4.splat(<f32>0.49999997), v128.and(v, i32x4.splat(0x80000000)));
  return i32x4.trunc_sat_f32x4_s(f32x4.add(v, half));
}

/**
 * x [n, k] f32 → the q8-activation buffer at dst (layout above), exactly as llama.cpp's
 * quantize_row_q8_0_ref: per block amax = max |x|, d = amax / 127, id = d ? 1 / d : 0,
 * q = roundf(x id), stored scale dx = f16(d) widened back to f32.
 */
export function quantizeQ8_0Rows(dst: usize, src: usize, n: i32, k: i32): void {
  quantizeRows(dst, src, n, k, 0, n);
}

/**
 * quantizeQ8_0Rows split over the thread pool (its (out, x, w, n, k, m, j0, j1) convention, m = n):
 * rows j0..j1 of x at src into dst, and the padding rows with the range that ends at n. Each row's
 * codes do not depend on the split.
 */
export function quantizeQ8_0RowRange(dst: usize, src: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  quantizeRows(dst, src, n, k, j0, j1);
}

/**
 * trunc(y + copysign(0.5 - 2^-25, y)) as i32 lanes for |y| < 2^22 (the finite blocks, where
 * |y| <= 127 and a bit): the sum truncated with f32x4.trunc, then converted by adding 1.5 · 2^23
 * (exact for integers this small), whose bits are 0x4b400000 plus the integer. Equal to roundAway
 * there, in 5 x64 instructions where i32x4.trunc_sat_f32x4_s takes several for its NaN and range rules.
 */
// @ts-ignore: decorator
@inline function roundAwaySmall(y: v128): v128 {
  const half = v128.or(f32x4.splat(<f32>0.49999997), v128.and(y, i32x4.splat(0x80000000)));
  return i32x4.sub(f32x4.add(f32x4.trunc(f32x4.add(y, half)), f32x4.splat(12582912)), i32x4.splat(0x4b400000));
}

/** The absolute values' bits of 8 vectors reduced to the largest: unsigned order is |x| order, NaN above ∞. */
// @ts-ignore: decorator
@inline function absMaxBits(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, v6: v128, v7: v128): u32 {
  const m01 = i32x4.max_u(f32x4.abs(v0), f32x4.abs(v1)), m23 = i32x4.max_u(f32x4.abs(v2), f32x4.abs(v3));
  const m45 = i32x4.max_u(f32x4.abs(v4), f32x4.abs(v5)), m67 = i32x4.max_u(f32x4.abs(v6), f32x4.abs(v7));
  let m = i32x4.max_u(i32x4.max_u(m01, m23), i32x4.max_u(m45, m67));
  m = i32x4.max_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  m = i32x4.max_u(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
  return i32x4.extract_lane(m, 0);
}

// @ts-ignore: decorator
@inline function quantizeRows(dst: usize, src: usize, n: i32, k: i32, i0: i32, i1: i32): void {
  const nb = k >> 5, n4 = (n + 3) & ~3;
  for (let i = i0; i < i1; i++) {
    const xr = src + ((<usize>i * <usize>k) << 2);
    const qr = dst + <usize>(i >> 2) * <usize>nb * GROUP_BLOCK + (<usize>(i & 3) << 6), sr = qr - (<usize>(i & 3) << 6) + 256 + (<usize>(i & 3) << 2);
    for (let b = 0; b < nb; b++) {
      const xb = xr + (<usize>b << 7);
      const v0 = v128.load(xb), v1 = v128.load(xb, 16), v2 = v128.load(xb, 32), v3 = v128.load(xb, 48);
      const v4 = v128.load(xb, 64), v5 = v128.load(xb, 80), v6 = v128.load(xb, 96), v7 = v128.load(xb, 112);
      // amax = max |x| (NaN when any x is NaN, as f32 max gives): its bits from the unsigned maximum.
      const amaxBits = absMaxBits(v0, v1, v2, v3, v4, v5, v6, v7);
      const amax = reinterpret<f32>(amaxBits);
      const d: f32 = amax / <f32>127;
      const id = f32x4.splat(d != 0 ? <f32>1 / d : <f32>0);
      const qb = qr + <usize>b * GROUP_BLOCK;
      let c01: v128, c23: v128, c45: v128, c67: v128;
      // Two copies of the four lines below rather than a branch per pair: the branch cost 5-7%.
      if (amaxBits == 0 || (amaxBits >= 0x0c000000 && amaxBits < 0x7f800000)) {
        // amax 0 (every code 0) or in [2^-103, ∞): id is finite and every |x · id| <= 127 (and a
        // rounding), so the short rounding is exact. Otherwise (a tiny amax, whose id may overflow
        // to ∞, or a ±∞ or NaN x) x · id may not be finite: roundAway's rules, as before.
        c01 = i16x8.narrow_i32x4_s(roundAwaySmall(f32x4.mul(v0, id)), roundAwaySmall(f32x4.mul(v1, id)));
        c23 = i16x8.narrow_i32x4_s(roundAwaySmall(f32x4.mul(v2, id)), roundAwaySmall(f32x4.mul(v3, id)));
        c45 = i16x8.narrow_i32x4_s(roundAwaySmall(f32x4.mul(v4, id)), roundAwaySmall(f32x4.mul(v5, id)));
        c67 = i16x8.narrow_i32x4_s(roundAwaySmall(f32x4.mul(v6, id)), roundAwaySmall(f32x4.mul(v7, id)));
      } else {
        c01 = i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v0, id)), roundAway(f32x4.mul(v1, id)));
        c23 = i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v2, id)), roundAway(f32x4.mul(v3, id)));
        c45 = i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v4, id)), roundAway(f32x4.mul(v5, id)));
        c67 = i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v6, id)), roundAway(f32x4.mul(v7, id)));
      }
      v128.store(qb, c01); v128.store(qb, c23, 16); v128.store(qb, c45, 32); v128.store(qb, c67, 48);
      store<f32>(sr + <usize>b * GROUP_BLOCK, f16(f32ToF16Bits(d)));
      if (ASC_FEATURE_RELAXED_SIMD) {
        const ib = qb - (<usize>(i & 3) << 6) + I8_CODES + (<usize>(i & 3) << 5);
        v128.store(ib, i8x16.narrow_i16x8_s(c01, c23)); v128.store(ib, i8x16.narrow_i16x8_s(c45, c67), 16);
        // Lane l of the pair sums: codes at k ≡ 2l, 2l + 1 (mod 8); even l: k ≡ 0, 1 (mod 4), odd: 2, 3.
        // Lanes 0 and 1 of pairs + (its lanes 2, 3) are the even and odd sums (|sum| <= 2032), times -8
        // (|.| <= 16256: exact in int16), stored as the low and high halves of one i32. (Only a block
        // whose f16 scale is 0, with amax under 2^-103, can hold larger codes; it adds 0 to the output.)
        const pairs = i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.add(c01, c23), i16x8.add(c45, c67)));
        const eo = i32x4.neg(i32x4.shl(i32x4.add(pairs, i32x4.shuffle(pairs, pairs, 2, 3, 0, 1)), 3));
        v128.store32_lane(qb - (<usize>(i & 3) << 6) + CODE_SUMS + (<usize>(i & 3) << 2), i16x8.narrow_i32x4_s(eo, eo), 0);
      }
    }
  }
  // Padding rows: zero codes and scales.
  for (let i = i1 < n ? n4 : n; i < n4; i++) {
    const qr = dst + <usize>(i >> 2) * <usize>nb * GROUP_BLOCK + (<usize>(i & 3) << 6);
    for (let b = 0; b < nb; b++) {
      const qb = qr + <usize>b * GROUP_BLOCK, z = i32x4.splat(0);
      v128.store(qb, z); v128.store(qb, z, 16); v128.store(qb, z, 32); v128.store(qb, z, 48);
      store<f32>(qb - (<usize>(i & 3) << 6) + 256 + (<usize>(i & 3) << 2), 0);
      if (ASC_FEATURE_RELAXED_SIMD) {
        const gb = qb - (<usize>(i & 3) << 6);
        v128.store(gb + I8_CODES + (<usize>(i & 3) << 5), z); v128.store(gb + I8_CODES + (<usize>(i & 3) << 5), z, 16);
        store<i32>(gb + CODE_SUMS + (<usize>(i & 3) << 2), 0);
      }
    }
  }
}

/*
 * Weights in the "x8" layout (written at placement by layouts.ts ggufX8Layout from the GGUF
 * blocks): the columns (weight rows) in groups of 8, zero columns padding the last group; group
 * g's block b (k values 32b..32b+31) is BS bytes at w + (g nb + b) BS:
 *   8 f32 scales (the blocks' f16 d widened, exactly), then the codes of the 8 columns interleaved
 *   by pairs of k, so that one 16-byte load gives a k-pair of every column:
 *   Q8_0 (BS 288): for k-pair t = 0..15, 16 bytes: byte 2c + e = code of column c at k = 2t + e.
 *   Q4_0 (BS 160): for quad u = 0..7, 16 bytes: byte 2c + e = v(c, 4u + e) | v(c, 4u + 2 + e) << 4,
 *   v = the value (GGUF's nibble - 8) as 4-bit two's complement (the nibble xor 8): the low
 *   nibbles are k-pair 2u, the high ones 2u + 1; shifts sign-extend them with no constants.
 * Widened to int16, a k-pair of 4 columns is one i16x8; i32x4.dot_i16x8_s against the activation
 * row's k-pair splat to all lanes (one 32-bit load) gives those 4 columns' partial dot products
 * in the 4 lanes, so no horizontal sum is needed.
 */
const BS_Q8: usize = 288;
const BS_Q4: usize = 160;

/**
 * 8 columns (group at wg) × the 4 rows of activation group xg: per block the int32 dots of the
 * 32 (row, column) pairs in 8 i32x4, one k-pair per step (8 accumulators, 2 weight vectors and
 * 4 broadcast activation pairs fit the 15 vector registers V8 allocates on x64), then
 * out[row][col] = out + (f32)isum · (dx · dw) in place (the 4 rows' 8 outputs zeroed first):
 * the recurrence of the contract, per lane.
 */
// @ts-ignore: decorator
@inline function tile4x8(wg: usize, nb: i32, fmt: i32, bs: usize, xg: usize, o: usize, rm: usize): void {
  const z = f32x4.splat(0);
  v128.store(o, z); v128.store(o, z, 16); v128.store(o + rm, z); v128.store(o + rm, z, 16);
  v128.store(o + 2 * rm, z); v128.store(o + 2 * rm, z, 16); v128.store(o + 3 * rm, z); v128.store(o + 3 * rm, z, 16);
  for (let b = 0; b < nb; b++) {
    const wb = wg + <usize>b * bs, xb = xg + <usize>b * GROUP_BLOCK;
    let p0 = i32x4.splat(0), q0 = i32x4.splat(0), p1 = i32x4.splat(0), q1 = i32x4.splat(0);
    let p2 = i32x4.splat(0), q2 = i32x4.splat(0), p3 = i32x4.splat(0), q3 = i32x4.splat(0);
    // x and (Q8_0) weight pointers stepped rather than indexed: fewer scalar instructions per step.
    for (let t = 0, xp = xb, c8 = wb + 32; t < 16; t++, xp += 4, c8 += 16) {
      let a0: v128, a1: v128;
      if (fmt == 0) {
        a0 = v128.load8x8_s(c8); a1 = v128.load8x8_s(c8, 8);
      } else {
        // The high nibbles on odd steps, the low ones on even: a branch, so both shifts are constants.
        const cp = wb + 32 + (<usize>(t >> 1) << 4);
        const v = v128.load8x8_s(cp), w = v128.load8x8_s(cp, 8);
        if (t & 1) { a0 = i16x8.shr_s(v, 4); a1 = i16x8.shr_s(w, 4); }
        else { a0 = i16x8.shr_s(i16x8.shl(v, 12), 12); a1 = i16x8.shr_s(i16x8.shl(w, 12), 12); }
      }
      const s0 = v128.load32_splat(xp), s1 = v128.load32_splat(xp, 64), s2 = v128.load32_splat(xp, 128), s3 = v128.load32_splat(xp, 192);
      p0 = i32x4.add(p0, i32x4.dot_i16x8_s(s0, a0)); q0 = i32x4.add(q0, i32x4.dot_i16x8_s(s0, a1));
      p1 = i32x4.add(p1, i32x4.dot_i16x8_s(s1, a0)); q1 = i32x4.add(q1, i32x4.dot_i16x8_s(s1, a1));
      p2 = i32x4.add(p2, i32x4.dot_i16x8_s(s2, a0)); q2 = i32x4.add(q2, i32x4.dot_i16x8_s(s2, a1));
      p3 = i32x4.add(p3, i32x4.dot_i16x8_s(s3, a0)); q3 = i32x4.add(q3, i32x4.dot_i16x8_s(s3, a1));
    }
    const dl = v128.load(wb), dh = v128.load(wb, 16);
    let d = v128.load32_splat(xb, 256), r = o;
    v128.store(r, f32x4.add(v128.load(r), f32x4.mul(f32x4.convert_i32x4_s(p0), f32x4.mul(d, dl))));
    v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(f32x4.convert_i32x4_s(q0), f32x4.mul(d, dh))), 16);
    d = v128.load32_splat(xb, 260); r += rm;
    v128.store(r, f32x4.add(v128.load(r), f32x4.mul(f32x4.convert_i32x4_s(p1), f32x4.mul(d, dl))));
    v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(f32x4.convert_i32x4_s(q1), f32x4.mul(d, dh))), 16);
    d = v128.load32_splat(xb, 264); r += rm;
    v128.store(r, f32x4.add(v128.load(r), f32x4.mul(f32x4.convert_i32x4_s(p2), f32x4.mul(d, dl))));
    v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(f32x4.convert_i32x4_s(q2), f32x4.mul(d, dh))), 16);
    d = v128.load32_splat(xb, 268); r += rm;
    v128.store(r, f32x4.add(v128.load(r), f32x4.mul(f32x4.convert_i32x4_s(p3), f32x4.mul(d, dl))));
    v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(f32x4.convert_i32x4_s(q3), f32x4.mul(d, dh))), 16);
  }
}

/**
 * 8 columns (group at wg) × one activation row (codes at xr within its group's blocks, scale at
 * sr), the f32 accumulators in registers; stores columns c0..c1-1 of the group at out o.
 */
// @ts-ignore: decorator
@inline function row1x8(wg: usize, nb: i32, fmt: i32, bs: usize, xr: usize, sr: usize, o: usize, c0: i32, c1: i32): void {
  let al = f32x4.splat(0), ah = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const wb = wg + <usize>b * bs, xb = xr + <usize>b * GROUP_BLOCK;
    let p = i32x4.splat(0), q = i32x4.splat(0);
    // Pointers stepped rather than indexed: fewer scalar instructions per step.
    if (fmt == 0) {
      for (let cp = wb + 32, xp = xb, ce = wb + 288; cp < ce; cp += 16, xp += 4) {
        const s = v128.load32_splat(xp);
        p = i32x4.add(p, i32x4.dot_i16x8_s(s, v128.load8x8_s(cp)));
        q = i32x4.add(q, i32x4.dot_i16x8_s(s, v128.load8x8_s(cp, 8)));
      }
    } else {
      // One row leaves registers to spare: both k-pairs of a 16-byte group per step, fixed shifts.
      for (let cp = wb + 32, xp = xb, ce = wb + 160; cp < ce; cp += 16, xp += 8) {
        const v = v128.load8x8_s(cp), w = v128.load8x8_s(cp, 8);
        const s = v128.load32_splat(xp), s2 = v128.load32_splat(xp, 4);
        p = i32x4.add(p, i32x4.add(i32x4.dot_i16x8_s(s, i16x8.shr_s(i16x8.shl(v, 12), 12)), i32x4.dot_i16x8_s(s2, i16x8.shr_s(v, 4))));
        q = i32x4.add(q, i32x4.add(i32x4.dot_i16x8_s(s, i16x8.shr_s(i16x8.shl(w, 12), 12)), i32x4.dot_i16x8_s(s2, i16x8.shr_s(w, 4))));
      }
    }
    const d = v128.load32_splat(sr + <usize>b * GROUP_BLOCK);
    al = f32x4.add(al, f32x4.mul(f32x4.convert_i32x4_s(p), f32x4.mul(d, v128.load(wb))));
    ah = f32x4.add(ah, f32x4.mul(f32x4.convert_i32x4_s(q), f32x4.mul(d, v128.load(wb, 16))));
  }
  storeColumns8(o, al, ah, c0, c1);
}

/**
 * This instance's scratch (set once per thread by the host: each thread instantiates the module,
 * so each has its own copy of these globals and its own region of the shared memory).
 */
let scratch: usize = 0;
let scratchBytes: usize = 0;

/** Gives this instance (one thread) the scratch region [at, at + bytes) of the shared memory. */
export function setScratch(at: usize, bytes: usize): void {
  scratch = at;
  scratchBytes = bytes;
}

/**
 * A Q4_0 x8 group (nb blocks at src) widened into the Q8_0 x8 layout at dst: the same values, one
 * byte each, so a group met by many row groups runs the Q8_0 kernel's shorter inner loop.
 */
// @ts-ignore: decorator
@inline function widenQ4Group(dst: usize, src: usize, nb: i32): void {
  for (let b = 0; b < nb; b++) {
    const s = src + <usize>b * BS_Q4, d = dst + <usize>b * BS_Q8;
    v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
    for (let u: usize = 0; u < 8; u++) {
      const v = v128.load(s + 32 + (u << 4));
      v128.store(d + 32 + (u << 5), i8x16.shr_s(i8x16.shl(v, 4), 4));
      v128.store(d + 48 + (u << 5), i8x16.shr_s(v, 4));
    }
  }
}

/**
 * Columns j0..j1 of x · W^T for x8-layout Q8_0 (fmt 0) or Q4_0 (fmt 1) weights, x the
 * q8-activation buffer. Rows in tiles of about 256 KB of activations (L2); per tile each group of
 * 8 columns stays in L1 while it meets every 4-row group of the tile. Groups cut by j0 or j1 and
 * the last n % 4 rows run one row at a time, storing only their own columns.
 */
// @ts-ignore: decorator
@inline function matmulX8(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32, fmt: i32, bs: usize): void {
  const nb = k >> 5, rm = <usize>m << 2, nfull = n & ~3, groupBytes = <usize>nb * GROUP_BLOCK, wgBytes = <usize>nb * bs;
  const g0 = j0 >> 3, g1 = (j1 + 7) >> 3;
  const tile = max(4, (262144 / (nb * 68)) & ~3);
  for (let i0 = 0; i0 < nfull; i0 += tile) {
    const i1 = min(nfull, i0 + tile);
    for (let g = g0; g < g1; g++) {
      const jc = g << 3, wg = w + <usize>g * wgBytes;
      if (jc >= j0 && jc + 8 <= j1) {
        if (fmt == 1 && i1 - i0 >= 8 && <usize>nb * BS_Q8 <= scratchBytes) {
          if (ASC_FEATURE_RELAXED_SIMD) {
            // Q4_0 met by 2+ row groups: nibbles rewritten once into this thread's scratch for the relaxed dot (q4relaxed.ts).
            widenQ4Unsigned(scratch, wg, nb);
            for (let i = i0; i < i1; i += 4) tile4x8U(scratch, nb, x + <usize>(i >> 2) * groupBytes, out + ((<usize>i * <usize>m + <usize>jc) << 2), rm);
          } else {
            // Q4_0 met by 2+ row groups: widened once into this thread's scratch, then as Q8_0.
            widenQ4Group(scratch, wg, nb);
            for (let i = i0; i < i1; i += 4) tile4x8(scratch, nb, 0, BS_Q8, x + <usize>(i >> 2) * groupBytes, out + ((<usize>i * <usize>m + <usize>jc) << 2), rm);
          }
        } else {
          for (let i = i0; i < i1; i += 4) tile4x8(wg, nb, fmt, bs, x + <usize>(i >> 2) * groupBytes, out + ((<usize>i * <usize>m + <usize>jc) << 2), rm);
        }
      } else {
        for (let i = i0; i < i1; i++) rowX8(wg, nb, fmt, bs, x, groupBytes, i, out + ((<usize>i * <usize>m + <usize>jc) << 2), j0 - jc, j1 - jc);
      }
    }
  }
  for (let i = nfull; i < n; i++) {
    for (let g = g0; g < g1; g++) {
      const jc = g << 3;
      rowX8(w + <usize>g * wgBytes, nb, fmt, bs, x, groupBytes, i, out + ((<usize>i * <usize>m + <usize>jc) << 2), j0 - jc, j1 - jc);
    }
  }
}

/** row1x8 for activation row i of buffer x, columns max(c0, 0)..min(c1, 8) of the group. */
// @ts-ignore: decorator
@inline function rowX8(wg: usize, nb: i32, fmt: i32, bs: usize, x: usize, groupBytes: usize, i: i32, o: usize, c0: i32, c1: i32): void {
  const xg = x + <usize>(i >> 2) * groupBytes, r = <usize>(i & 3);
  if (ASC_FEATURE_RELAXED_SIMD && fmt == 1) row1x8U(wg, nb, xg + I8_CODES + (r << 5), xg + 256 + (r << 2), xg + CODE_SUMS + (r << 2), o, max(c0, 0), min(c1, 8));
  else row1x8(wg, nb, fmt, bs, xg + (r << 6), xg + 256 + (r << 2), o, max(c0, 0), min(c1, 8));
}

/** Q8_0 weights in the x8 layout × q8 activations (x: the quantizeQ8_0Rows buffer; k a multiple of 32). */
export function matmulQ8_0(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulX8(out, x, w, n, k, m, j0, j1, 0, BS_Q8);
}

/** Q4_0 weights in the x8 layout × q8 activations (x: the quantizeQ8_0Rows buffer; k a multiple of 32). */
export function matmulQ4_0(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulX8(out, x, w, n, k, m, j0, j1, 1, BS_Q4);
}
