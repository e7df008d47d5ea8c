// AssemblyScript kernels for 16-bit float weights (IEEE half and bfloat16), rows of k values in
// place (any k). Four f32 lanes accumulate p ≡ 0..3 (mod 4) for p < k & ~3, reduced as
// (l0 + l1) + (l2 + l3), then the tail is added one element at a time. See kernels.ts for the
// calling convention; not TypeScript.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { f16, f16x4, hsum, rowTile } from "./common";

/** Four weights at wp (bf16 when `bf`, else f16) as f32x4. */
// @ts-ignore: decorator
@inline function load4(wp: usize, bf: bool): v128 {
  const h = v128.load16x4_u(wp);
  return bf ? i32x4.shl(h, 16) : f16x4(h);
}

// @ts-ignore: decorator
@inline function load1(wp: usize, bf: bool): f32 {
  return bf ? reinterpret<f32>(<u32>load<u16>(wp) << 16) : f16(<u32>load<u16>(wp));
}

// @ts-ignore: decorator
@inline function rowHalf(wr: usize, k: i32, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, R: i32, bf: bool): void {
  const k4 = k & ~3;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let p = 0; p < k4; p += 4) {
    const wv = load4(wr + (<usize>p << 1), bf), xo = <usize>p << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x0 + xo), wv));
    if (R > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(x1 + xo), wv));
    if (R > 2) { a2 = f32x4.add(a2, f32x4.mul(v128.load(x2 + xo), wv)); a3 = f32x4.add(a3, f32x4.mul(v128.load(x3 + xo), wv)); }
  }
  let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
  for (let p = k4; p < k; p++) {
    const wv = load1(wr + (<usize>p << 1), bf), xo = <usize>p << 2;
    s0 += load<f32>(x0 + xo) * wv;
    if (R > 1) s1 += load<f32>(x1 + xo) * wv;
    if (R > 2) { s2 += load<f32>(x2 + xo) * wv; s3 += load<f32>(x3 + xo) * wv; }
  }
  store<f32>(o0, s0);
  if (R > 1) store<f32>(o1, s1);
  if (R > 2) { store<f32>(o2, s2); store<f32>(o3, s3); }
}

// @ts-ignore: decorator
@inline function matmulHalf(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32, bf: bool): void {
  const rowBytes = <usize>k << 1, rk = <usize>k << 2, rm = <usize>m << 2;
  for (let i0 = 0, tile = rowTile(k); i0 < n; i0 += tile) {
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = w + <usize>j * rowBytes;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowHalf(wr, k, x0, x0 + rk, x0 + 2 * rk, x0 + 3 * rk, o, o + rm, o + 2 * rm, o + 3 * rm, 4, bf);
      }
      if (i + 2 <= i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowHalf(wr, k, x0, x0 + rk, x0, x0, o, o + rm, o, o, 2, bf);
        i += 2;
      }
      if (i < i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowHalf(wr, k, x0, x0, x0, x0, o, o, o, o, 1, bf);
      }
    }
  }
}

/** IEEE half weights [m, k], 4 x rows per pass (then 2, then 1). */
export function matmulF16(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulHalf(out, x, w, n, k, m, j0, j1, false);
}

/** bfloat16 weights [m, k], 4 x rows per pass (then 2, then 1). */
export function matmulBF16(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulHalf(out, x, w, n, k, m, j0, j1, true);
}
