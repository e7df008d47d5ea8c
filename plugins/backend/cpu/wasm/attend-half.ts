// AssemblyScript source (part of ops.wasm, exported from ops.ts; not TypeScript).
// Paged attention over an f16 KV cache in half precision, the WebAssembly port of
// plugins/attention/paged/half-attention.ts (llama.cpp's CPU flash attention for an f16 cache)
// with identical bits: every rounding (f64 → f32 → f16) and every f64 sum in the same order.
// The halves are read straight from the cache words (src/quant/kv-cache.ts layout: per slot, per
// KV head, ceil(headDim / 2) u32 words, element d the little-endian u16 at byte 2d of the head's run).

// @ts-nocheck -- AssemblyScript types (v128, f64, usize); tsc only parses this file.
import { f16, f16x4 } from "./common";

/** f32 bits → IEEE half bits, round to nearest even (src/loader/gguf/dequantize.ts f32BitsToF16, step for step). */
// @ts-ignore: decorator
@inline function f32BitsToF16(x: u32): u32 {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp == 0xff) return sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0);
  const e = <i32>exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const m = mant | 0x800000;
    const shift = <u32>(14 - e);
    let h = m >>> shift;
    const rem = m & ((<u32>1 << shift) - 1);
    const half = <u32>1 << (shift - 1);
    if (rem > half || (rem == half && (h & 1) != 0)) h++;
    return sign | h;
  }
  let h = (<u32>e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) h++; // a carry into the exponent is correct (up to inf)
  return sign | h;
}

/** cpu.ts toHalf: x rounded to f32, then to the nearest half (ties to even); that half's value. */
// @ts-ignore: decorator
@inline function toHalf(x: f64): f32 {
  return f16(f32BitsToF16(reinterpret<u32>(<f32>x)));
}

/**
 * toHalf on four f32 lanes, the same values (NaN stays NaN): a normal half by rounding the f32
 * mantissa to 10 bits (nearest, ties to even: add 0xfff plus the kept LSB, then clear 13 bits; a
 * carry into the exponent is right), above 65504 (after rounding) ±inf, below 2^-14 a subnormal
 * half as (|x| + 0.5) - 0.5 in f32 (rounds |x| to a multiple of 2^-24, ties to even), sign kept.
 */
// @ts-ignore: decorator
@inline function toHalf4(x: v128): v128 {
  const a = v128.and(x, i32x4.splat(0x7fffffff));
  const rn = v128.and(i32x4.add(a, i32x4.add(i32x4.splat(0xfff), v128.and(i32x4.shr_u(a, 13), i32x4.splat(1)))), i32x4.splat(~0x1fff));
  let r = v128.bitselect(i32x4.splat(0x7f800000), rn, i32x4.gt_s(rn, i32x4.splat(0x477fe000)));
  const sub = f32x4.sub(f32x4.add(a, f32x4.splat(0.5)), f32x4.splat(0.5));
  r = v128.bitselect(sub, r, i32x4.lt_s(a, i32x4.splat(0x38800000)));
  r = v128.bitselect(a, r, i32x4.gt_s(a, i32x4.splat(0x7f800000)));
  return v128.or(r, v128.and(x, i32x4.splat(0x80000000)));
}

/** Two f64x2 (lanes 0-1 and 2-3) rounded to f32 (as a Float32Array store does) into one f32x4. */
// @ts-ignore: decorator
@inline function demote4(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** The high two f32 lanes of a as f64x2. */
// @ts-ignore: decorator
@inline function promoteHigh(a: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 2, 3));
}

/**
 * One key of the online softmax given its weight e = fround(dexp(...)): on a new maximum (isMax)
 * ms = e rescales the V accumulator (halves as f32, kept in out), else vs = e weighs v; then
 * acc + v · vs rounded to a half, four dimensions at a time (f64x2 arithmetic, then toHalf4: per
 * element the operations of the scalar loop). Returns the new sum S.
 */
// @ts-ignore: decorator
@inline function applyKey(isMax: bool, e: f32, v0: usize, out: usize, headDim: i32, S: f32): f32 {
  const d4 = headDim & ~3;
  let ms: f32 = 1, vs: f32 = 1;
  if (isMax) {
    ms = e;
    const m2 = f64x2.splat(<f64>ms);
    let d = 0;
    for (; d < d4; d += 4) {
      const a = out + (<usize>d << 2), acc = v128.load(a);
      v128.store(a, toHalf4(demote4(f64x2.mul(f64x2.promote_low_f32x4(acc), m2), f64x2.mul(promoteHigh(acc), m2))));
    }
    for (; d < headDim; d++) {
      const a = out + (<usize>d << 2);
      store<f32>(a, toHalf(<f64>load<f32>(a) * <f64>ms));
    }
  } else {
    vs = e;
  }
  const v2 = f64x2.splat(<f64>vs);
  let d = 0;
  for (; d < d4; d += 4) {
    const a = out + (<usize>d << 2), acc = v128.load(a), v = f16x4(v128.load16x4_u(v0 + (<usize>d << 1)));
    const lo = f64x2.add(f64x2.promote_low_f32x4(acc), f64x2.mul(f64x2.promote_low_f32x4(v), v2));
    const hi = f64x2.add(promoteHigh(acc), f64x2.mul(promoteHigh(v), v2));
    v128.store(a, toHalf4(demote4(lo, hi)));
  }
  for (; d < headDim; d++) {
    const a = out + (<usize>d << 2);
    store<f32>(a, toHalf(<f64>load<f32>(a) + <f64>f16(<u32>load<u16>(v0 + (<usize>d << 1))) * <f64>vs));
  }
  return <f32>(<f64><f32>(<f64>S * <f64>ms) + <f64>vs);
}

/**
 * ops.ts dexp on both f64x2 lanes, the same value per lane (NaN stays NaN) without a branch: the
 * same steps (jsRound as floor and a compare, the same Horner polynomial, 2^k built in the
 * exponent bits), and dexp's special cases as lane selects: x > 709.78... gives inf,
 * x < -745.13... gives 0, k < -1000 scales in two steps (2^(k+200) then 2^-200), k > 1023 gives p · inf.
 */
// @ts-ignore: decorator
@inline function dexp2(x: v128): v128 {
  const y = f64x2.mul(x, f64x2.splat(1.44269504088896338700));
  const fl = f64x2.floor(y);
  const kf = v128.bitselect(f64x2.add(fl, f64x2.splat(1)), fl, f64x2.ge(f64x2.sub(y, fl), f64x2.splat(0.5)));
  const r = f64x2.sub(f64x2.sub(x, f64x2.mul(kf, f64x2.splat(6.93147180369123816490e-1))), f64x2.mul(kf, f64x2.splat(1.90821492927058770002e-10)));
  let p = f64x2.splat(1.0 / 87178291200.0);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6227020800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1));
  // k as i64 lanes (x outside [-745.2, 709.8] or NaN: any k, the lane is replaced below).
  const k = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(kf));
  let e = f64x2.mul(p, i64x2.shl(i64x2.add(k, i64x2.splat(1023)), 52));
  const tiny = f64x2.mul(f64x2.mul(p, i64x2.shl(i64x2.add(k, i64x2.splat(1023 + 200)), 52)), f64x2.splat(reinterpret<f64>(<u64>(1023 - 200) << 52)));
  e = v128.bitselect(tiny, e, i64x2.lt_s(k, i64x2.splat(-1000)));
  e = v128.bitselect(f64x2.mul(p, f64x2.splat(Infinity)), e, i64x2.gt_s(k, i64x2.splat(1023)));
  e = v128.bitselect(f64x2.splat(Infinity), e, f64x2.gt(x, f64x2.splat(709.782712893384)));
  e = v128.bitselect(f64x2.splat(0), e, f64x2.lt(x, f64x2.splat(-745.1332191019412)));
  return v128.bitselect(x, e, f64x2.ne(x, x));
}

/** The raw scores (q16 · k0, q16 · k1) as f64x2 lanes, each lane the f64 additions in order d = 0..headDim-1. */
// @ts-ignore: decorator
@inline function dot2(q16: usize, k0: usize, k1: usize, headDim: i32): v128 {
  const d4 = headDim & ~3;
  let s2 = f64x2.splat(0);
  let d = 0;
  for (; d < d4; d += 4) {
    const a = f16x4(v128.load16x4_u(k0 + (<usize>d << 1))), b = f16x4(v128.load16x4_u(k1 + (<usize>d << 1)));
    const t01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
    const qp = q16 + (<usize>d << 2);
    s2 = f64x2.add(s2, f64x2.mul(f64x2.splat(<f64>load<f32>(qp)), f64x2.promote_low_f32x4(t01)));
    s2 = f64x2.add(s2, f64x2.mul(f64x2.splat(<f64>load<f32>(qp, 4)), promoteHigh(t01)));
    s2 = f64x2.add(s2, f64x2.mul(f64x2.splat(<f64>load<f32>(qp, 8)), f64x2.promote_low_f32x4(t23)));
    s2 = f64x2.add(s2, f64x2.mul(f64x2.splat(<f64>load<f32>(qp, 12)), promoteHigh(t23)));
  }
  for (; d < headDim; d++) {
    const qd = f64x2.splat(<f64>load<f32>(q16 + (<usize>d << 2)));
    s2 = f64x2.add(s2, f64x2.mul(qd, f64x2(<f64>f16(<u32>load<u16>(k0 + (<usize>d << 1))), <f64>f16(<u32>load<u16>(k1 + (<usize>d << 1))))));
  }
  return s2;
}

/** A raw score scaled as attendHalf does: fround(fround(s) · scale). */
// @ts-ignore: decorator
@inline function scaled(s: f64, scale: f32): f32 {
  return <f32>(<f64><f32>s * <f64>scale);
}

/**
 * One query head over `len` keys: q (headDim f32) rounded to halves into q16 (headDim f32, this
 * item's own), K/V halves of key j at kBase/vBase + 4·offs[j] (offs: u32 word offsets), the f16
 * accumulator kept in out, finally out = acc · (1/S). Keys go four at a time: their scores (two
 * keys per f64x2), the running maximum after each (so every softmax argument is known before any
 * is applied) and their four dexp as two independent f64x2 chains; then applied in order.
 */
function attendHalf(out: usize, q: usize, q16: usize, kBase: usize, vBase: usize, offs: usize, len: i32, headDim: i32, scale: f32): void {
  for (let d = 0; d < headDim; d++) {
    const o = <usize>d << 2;
    store<f32>(q16 + o, toHalf(<f64>load<f32>(q + o)));
    store<f32>(out + o, 0);
  }
  let M: f32 = -Infinity, S: f32 = 0;
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const op = offs + (<usize>j << 2);
    const o0 = <usize>load<u32>(op) << 2, o1 = <usize>load<u32>(op, 4) << 2, o2 = <usize>load<u32>(op, 8) << 2, o3 = <usize>load<u32>(op, 12) << 2;
    const sA = dot2(q16, kBase + o0, kBase + o1, headDim), sB = dot2(q16, kBase + o2, kBase + o3, headDim);
    const t0 = scaled(f64x2.extract_lane(sA, 0), scale), t1 = scaled(f64x2.extract_lane(sA, 1), scale);
    const t2 = scaled(f64x2.extract_lane(sB, 0), scale), t3 = scaled(f64x2.extract_lane(sB, 1), scale);
    const max0 = t0 > M, M1 = max0 ? t0 : M;
    const max1 = t1 > M1, M2 = max1 ? t1 : M1;
    const max2 = t2 > M2, M3 = max2 ? t2 : M2;
    const max3 = t3 > M3, M4 = max3 ? t3 : M3;
    const eA = dexp2(f64x2(max0 ? <f64>M - <f64>t0 : <f64>t0 - <f64>M, max1 ? <f64>M1 - <f64>t1 : <f64>t1 - <f64>M1));
    const eB = dexp2(f64x2(max2 ? <f64>M2 - <f64>t2 : <f64>t2 - <f64>M2, max3 ? <f64>M3 - <f64>t3 : <f64>t3 - <f64>M3));
    S = applyKey(max0, <f32>f64x2.extract_lane(eA, 0), vBase + o0, out, headDim, S);
    S = applyKey(max1, <f32>f64x2.extract_lane(eA, 1), vBase + o1, out, headDim, S);
    S = applyKey(max2, <f32>f64x2.extract_lane(eB, 0), vBase + o2, out, headDim, S);
    S = applyKey(max3, <f32>f64x2.extract_lane(eB, 1), vBase + o3, out, headDim, S);
    M = M4;
  }
  for (; j < len; j++) {
    const o0 = <usize>load<u32>(offs + (<usize>j << 2)) << 2;
    const t = scaled(f64x2.extract_lane(dot2(q16, kBase + o0, kBase + o0, headDim), 0), scale), isMax = t > M;
    const e = dexp2(f64x2.splat(isMax ? <f64>M - <f64>t : <f64>t - <f64>M));
    S = applyKey(isMax, <f32>f64x2.extract_lane(e, 0), vBase + o0, out, headDim, S);
    if (isMax) M = t;
  }
  const inv: f32 = S == 0 ? 0 : <f32>(1.0 / <f64>S);
  for (let d = 0; d < headDim; d++) {
    const a = out + (<usize>d << 2);
    store<f32>(a, <f32>(<f64>load<f32>(a) * <f64>inv));
  }
}

/**
 * f16-cache attention for items j0..j1-1 of a table (the thread pool's range), each one query head:
 * seven u32 words per item (out, q, q16 scratch of headDim f32, kBase, vBase, offs addresses, len).
 * Pool calling convention (out, x, w, n, k, m, j0, j1): out = table, n = headDim, k = scale as f32
 * bits, m = item count (x, w unused). Each item depends on its own data only: any split, same bits.
 */
export function attendHalfItems(table: usize, x: usize, w: usize, headDim: i32, scaleBits: i32, m: i32, j0: i32, j1: i32): void {
  const scale = reinterpret<f32>(scaleBits);
  for (let it = j0; it < j1; it++) {
    const e = table + <usize>it * 28;
    attendHalf(<usize>load<u32>(e), <usize>load<u32>(e, 4), <usize>load<u32>(e, 8), <usize>load<u32>(e, 12), <usize>load<u32>(e, 16), <usize>load<u32>(e, 20), load<i32>(e, 24), headDim, scale);
  }
}
