// AssemblyScript kernels for per-channel 8-bit weights: int8 (weight-only and with dynamically
// quantized int8 activations) and fp8 (e4m3, e5m2). Placed layout of a weight matrix [m, k]:
// header (i32 format: 0 int8, 1 fp8 e4m3, 2 fp8 e5m2; 12 bytes free), f32 scales [m], then the
// codes [m, k] from a 16-byte boundary. See kernels.ts for the calling convention; not TypeScript.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { align16, f16, f16x4, hsum, hsumI32, rowTile } from "./common";

/** Four codes (u32 lanes) → f32x4: int8 (format 0), fp8 e4m3 (1) or fp8 e5m2 (2), exactly. */
// @ts-ignore: decorator
@inline function decode4(c: v128, format: i32): v128 {
  if (format == 0) return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(c, 24), 24));
  if (format == 2) return f16x4(i32x4.shl(c, 8)); // e5m2 is the top byte of an IEEE half
  // e4m3fn: magnitude bits into an f32 scaled by 2^120 (subnormals included); S.1111.111 is NaN.
  const mag = v128.and(c, i32x4.splat(0x7f));
  let f = f32x4.mul(i32x4.shl(mag, 20), f32x4.splat(reinterpret<f32>(0x7b800000)));
  f = v128.or(f, v128.and(i32x4.eq(mag, i32x4.splat(0x7f)), i32x4.splat(0x7fc00000)));
  return v128.or(f, i32x4.shl(v128.and(c, i32x4.splat(0x80)), 24));
}

// @ts-ignore: decorator
@inline function decode1(c: u32, format: i32): f32 {
  if (format == 0) return <f32>(<i32>(c << 24) >> 24);
  if (format == 2) return f16(c << 8);
  const mag = c & 0x7f;
  if (mag == 0x7f) return NaN;
  const v = reinterpret<f32>(mag << 20) * reinterpret<f32>(0x7b800000);
  return c & 0x80 ? -v : v;
}

/** Four lanes over p < k & ~3 (8 codes per load), the fixed reduction, the tail, times the row scale. */
// @ts-ignore: decorator
@inline function row8(wr: usize, k: i32, scale: f32, format: i32, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, R: i32): void {
  const k8 = k & ~7, k4 = k & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let p = 0; p < k8; p += 8) {
    const v = v128.load8x8_u(wr + <usize>p);
    const wl = decode4(i32x4.extend_low_i16x8_u(v), format), wh = decode4(i32x4.extend_high_i16x8_u(v), format);
    const xo = <usize>p << 2;
    a0 = f32x4.add(f32x4.add(a0, f32x4.mul(v128.load(x0 + xo), wl)), f32x4.mul(v128.load(x0 + xo + 16), wh));
    if (R > 1) a1 = f32x4.add(f32x4.add(a1, f32x4.mul(v128.load(x1 + xo), wl)), f32x4.mul(v128.load(x1 + xo + 16), wh));
    if (R > 2) { a2 = f32x4.add(f32x4.add(a2, f32x4.mul(v128.load(x2 + xo), wl)), f32x4.mul(v128.load(x2 + xo + 16), wh)); a3 = f32x4.add(f32x4.add(a3, f32x4.mul(v128.load(x3 + xo), wl)), f32x4.mul(v128.load(x3 + xo + 16), wh)); }
  }
  if (k4 > k8) {
    const wl = decode4(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(wr + <usize>k8))), format);
    const xo = <usize>k8 << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + xo), wl));
    if (R > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(x1 + xo), wl));
    if (R > 2) { a2 = f32x4.add(a2, f32x4.mul(v128.load(x2 + xo), wl)); a3 = f32x4.add(a3, f32x4.mul(v128.load(x3 + xo), wl)); }
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (let p = k4; p < k; p++) {
    const wv = decode1(<u32>load<u8>(wr + <usize>p), format), xo = <usize>p << 2;
    s0 += load<f32>(x0 + xo) * wv;
    if (R > 1) s1 += load<f32>(x1 + xo) * wv;
    if (R > 2) { s2 += load<f32>(x2 + xo) * wv; s3 += load<f32>(x3 + xo) * wv; }
  }
  store<f32>(o0, s0 * scale);
  if (R > 1) store<f32>(o1, s1 * scale);
  if (R > 2) { store<f32>(o2, s2 * scale); store<f32>(o3, s3 * scale); }
}

/** Weight row wr against x rows i0..i1-1, 4 (then 2, then 1) per pass; oj: out + 4 j. */
// @ts-ignore: decorator
@inline function code8Rows(wr: usize, k: i32, scale: f32, format: i32, x: usize, oj: usize, i0: i32, i1: i32, rk: usize, rm: usize): void {
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const x0 = x + <usize>i * rk, o = oj + <usize>i * rm;
    row8(wr, k, scale, format, x0, x0 + rk, x0 + 2 * rk, x0 + 3 * rk, o, o + rm, o + 2 * rm, o + 3 * rm, 4);
  }
  if (i + 2 <= i1) {
    const x0 = x + <usize>i * rk, o = oj + <usize>i * rm;
    row8(wr, k, scale, format, x0, x0 + rk, x0, x0, o, o + rm, o, o, 2);
    i += 2;
  }
  if (i < i1) {
    const x0 = x + <usize>i * rk, o = oj + <usize>i * rm;
    row8(wr, k, scale, format, x0, x0, x0, x0, o, o, o, o, 1);
  }
}

/**
 * int8 or fp8 weights with one f32 scale per row (layout above), f32 activations, 4 x rows per
 * pass: out = scale · Σ x · decode(code).
 */
export function matmulCode8(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const format = load<i32>(w), scales = w + 16, codes = scales + align16(<usize>m << 2);
  const rk = <usize>k << 2, rm = <usize>m << 2;
  for (let i0 = 0, tile = rowTile(k); i0 < n; i0 += tile) {
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = codes + <usize>j * <usize>k, scale = load<f32>(scales + (<usize>j << 2));
      // One loop per format so the decode is specialised (the format test folds away when inlined).
      if (format == 0) code8Rows(wr, k, scale, 0, x, out + (<usize>j << 2), i0, i1, rk, rm);
      else if (format == 1) code8Rows(wr, k, scale, 1, x, out + (<usize>j << 2), i0, i1, rk, rm);
      else code8Rows(wr, k, scale, 2, x, out + (<usize>j << 2), i0, i1, rk, rm);
    }
  }
}

/**
 * int8 weights (layout above, format 0) × int8 activations quantized per row. x holds f32 row
 * scales xs[n], then the int8 rows xq[n, k]. Exact integer dot products (i16 pairs summed into
 * i32 lanes; |Σ| < 2^31 for k < 133,000), then out = xs[i] · ws[j] · dot in f64 rounded to f32,
 * the JS kernel's arithmetic exactly. Two x rows per pass share each weight load.
 */
export function matmulInt8Dynamic(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const scales = w + 16, codes = scales + align16(<usize>m << 2), xq = x + (<usize>n << 2);
  const rm = <usize>m << 2, rk = <usize>k;
  for (let i0 = 0, tile = rowTile(k) << 2; i0 < n; i0 += tile) { // int8 rows: 4x as many per cache block
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = codes + <usize>j * rk, ws = <f64>load<f32>(scales + (<usize>j << 2)), oj = out + (<usize>j << 2);
      let i = i0;
      for (; i + 2 <= i1; i += 2) dotDyn(wr, k, ws, x, xq + <usize>i * rk, i, oj + <usize>i * rm, rk, rm, 2);
      if (i < i1) dotDyn(wr, k, ws, x, xq + <usize>i * rk, i, oj + <usize>i * rm, rk, rm, 1);
    }
  }
}

/** R (1 or 2) int8 x rows from xr (row i first) against weight row wr: exact i32 dots, then xs[i] · ws · dot. */
// @ts-ignore: decorator
@inline function dotDyn(wr: usize, k: i32, ws: f64, xs: usize, xr: usize, i: i32, o: usize, rk: usize, rm: usize, R: i32): void {
  const k8 = k & ~7;
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  for (let p = 0; p < k8; p += 8) {
    const wv = v128.load8x8_s(wr + <usize>p);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load8x8_s(xr + <usize>p), wv));
    if (R > 1) a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load8x8_s(xr + rk + <usize>p), wv));
  }
  let s0 = hsumI32(a0), s1 = hsumI32(a1);
  for (let p = k8; p < k; p++) {
    const wv = <i32>load<i8>(wr + <usize>p);
    s0 += <i32>load<i8>(xr + <usize>p) * wv;
    if (R > 1) s1 += <i32>load<i8>(xr + rk + <usize>p) * wv;
  }
  store<f32>(o, <f32>(<f64>load<f32>(xs + (<usize>i << 2)) * ws * <f64>s0));
  if (R > 1) store<f32>(o + rm, <f32>(<f64>load<f32>(xs + (<usize>(i + 1) << 2)) * ws * <f64>s1));
}
