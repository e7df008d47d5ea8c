// AssemblyScript helpers shared by the kernels (see kernels.ts; not TypeScript).
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.

/** (l0 + l1) + (l2 + l3): the fixed reduction of four f32 lanes. */
// @ts-ignore: decorator
@inline export function hsum(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/** Four i32 lanes added (integers: any order gives the same sum). */
// @ts-ignore: decorator
@inline export function hsumI32(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

/** IEEE half → f32 (exact for all 65536 patterns). */
export function f16(h: u32): f32 {
  const sign = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (e == 0) {
    const v = <f32>mant * reinterpret<f32>(0x33800000); // 2^-24, exact
    return sign ? -v : v;
  }
  if (e == 31) return reinterpret<f32>(sign | 0x7f800000 | (mant << 13));
  return reinterpret<f32>(sign | ((e + 112) << 23) | (mant << 13));
}

/**
 * Four halves (i32x4 lanes holding u16 bits) → f32x4, exact for every pattern: the magnitude
 * bits shifted into an f32 and scaled by 2^112 (subnormals included), exponent 31 widened to 255.
 */
// @ts-ignore: decorator
@inline export function f16x4(h: v128): v128 {
  let f = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(reinterpret<f32>(0x77800000)));
  const infnan = i32x4.eq(v128.and(h, i32x4.splat(0x7c00)), i32x4.splat(0x7c00));
  f = v128.or(f, v128.and(infnan, i32x4.splat(0x7f800000)));
  return v128.or(f, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** Eight int8 → two f32x4 (low and high halves of an i16x8). */
// @ts-ignore: decorator
@inline export function q8lo(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline export function q8hi(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline export function q8lo2(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(v))); }
// @ts-ignore: decorator
@inline export function q8hi2(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(v))); }

/** Σ over one 32-wide block of x · q, in a fixed order (8 products added one after another). */
// @ts-ignore: decorator
@inline export function blockDot(xb: usize, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128): v128 {
  let s = f32x4.mul(v128.load(xb), q0);
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 16), q1));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 32), q2));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 48), q3));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 64), q4));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 80), q5));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 96), q6));
  s = f32x4.add(s, f32x4.mul(v128.load(xb + 112), q7));
  return s;
}

/** The byte offset of the next multiple of 16 at or above `b`. */
// @ts-ignore: decorator
@inline export function align16(b: usize): usize { return (b + 15) & ~(<usize>15); }

/**
 * x rows per cache block: the weight matrix's columns are swept once per block of rows, so the
 * block's activations (about 32 KB) stay in cache while every weight row is decoded against them.
 * A multiple of 4 so the 4-row passes fall the same way; results do not depend on it.
 */
// @ts-ignore: decorator
@inline export function rowTile(k: i32): i32 { return max(4, (8192 / max(k, 1)) & ~3); }

/** Columns c0..c1-1 (0 <= c0 < c1 <= 8) of the 8 f32 lanes al (columns 0-3), ah (4-7) stored at o. */
// @ts-ignore: decorator
@inline export function storeColumns8(o: usize, al: v128, ah: v128, c0: i32, c1: i32): void {
  if (c0 == 0 && c1 == 8) {
    v128.store(o, al); v128.store(o, ah, 16);
    return;
  }
  if (c0 <= 0 && c1 > 0) store<f32>(o, f32x4.extract_lane(al, 0));
  if (c0 <= 1 && c1 > 1) store<f32>(o, f32x4.extract_lane(al, 1), 4);
  if (c0 <= 2 && c1 > 2) store<f32>(o, f32x4.extract_lane(al, 2), 8);
  if (c0 <= 3 && c1 > 3) store<f32>(o, f32x4.extract_lane(al, 3), 12);
  if (c0 <= 4 && c1 > 4) store<f32>(o, f32x4.extract_lane(ah, 0), 16);
  if (c0 <= 5 && c1 > 5) store<f32>(o, f32x4.extract_lane(ah, 1), 20);
  if (c0 <= 6 && c1 > 6) store<f32>(o, f32x4.extract_lane(ah, 2), 24);
  if (c0 <= 7 && c1 > 7) store<f32>(o, f32x4.extract_lane(ah, 3), 28);
}
