// AssemblyScript kernels for the GGML K-quants Q4_K and Q6_K (super-blocks of 256 weights; layouts
// in src/quant/ggml/decode.ts). Each 32-weight sub-block is decoded to f32 once, to the same
// values as the JS decoder (the products involved are exact in f32), and dotted with 1 or 2 x
// rows. See kernels.ts for the calling convention; not TypeScript.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { blockDot, f16, hsum, q8hi, q8hi2, q8lo, q8lo2, rowTile } from "./common";

/** 6-bit scale (which = 0) or min (which = 1) of Q4_K sub-block s from the 12 bytes at sc. */
// @ts-ignore: decorator
@inline function scaleMinK4(sc: usize, s: i32, which: i32): u32 {
  const u = <usize>s;
  if (s < 4) return <u32>load<u8>(sc + u + (<usize>which << 2)) & 63;
  if (which == 0) return (<u32>load<u8>(sc + u + 4) & 15) | ((<u32>load<u8>(sc + u - 4) >> 6) << 4);
  return (<u32>load<u8>(sc + u + 4) >> 4) | ((<u32>load<u8>(sc + u) >> 6) << 4);
}

// @ts-ignore: decorator
@inline function rowQ4_K(wr: usize, nb: i32, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, R: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const low = i8x16.splat(15);
  for (let b = 0; b < nb; b++) {
    const wb = wr + <usize>b * 144;
    const d = f16(<u32>load<u16>(wb)), dmin = f16(<u32>load<u16>(wb + 2));
    for (let s = 0; s < 8; s++) {
      const d1 = f32x4.splat(d * <f32>scaleMinK4(wb + 4, s, 0)), m1 = f32x4.splat(dmin * <f32>scaleMinK4(wb + 4, s, 1));
      const qp = wb + 16 + (<usize>(s >> 1) << 5);
      let v0 = v128.load(qp), v1 = v128.load(qp + 16);
      if (s & 1) { v0 = i8x16.shr_u(v0, 4); v1 = i8x16.shr_u(v1, 4); } else { v0 = v128.and(v0, low); v1 = v128.and(v1, low); }
      const q0 = f32x4.sub(f32x4.mul(d1, q8lo(v0)), m1), q1 = f32x4.sub(f32x4.mul(d1, q8hi(v0)), m1);
      const q2 = f32x4.sub(f32x4.mul(d1, q8lo2(v0)), m1), q3 = f32x4.sub(f32x4.mul(d1, q8hi2(v0)), m1);
      const q4 = f32x4.sub(f32x4.mul(d1, q8lo(v1)), m1), q5 = f32x4.sub(f32x4.mul(d1, q8hi(v1)), m1);
      const q6 = f32x4.sub(f32x4.mul(d1, q8lo2(v1)), m1), q7 = f32x4.sub(f32x4.mul(d1, q8hi2(v1)), m1);
      const xo = (<usize>b << 10) + (<usize>s << 7);
      a0 = f32x4.add(a0, blockDot(x0 + xo, q0, q1, q2, q3, q4, q5, q6, q7));
      if (R > 1) a1 = f32x4.add(a1, blockDot(x1 + xo, q0, q1, q2, q3, q4, q5, q6, q7));
      if (R > 2) { a2 = f32x4.add(a2, blockDot(x2 + xo, q0, q1, q2, q3, q4, q5, q6, q7)); a3 = f32x4.add(a3, blockDot(x3 + xo, q0, q1, q2, q3, q4, q5, q6, q7)); }
    }
  }
  store<f32>(o0, hsum(a0));
  if (R > 1) store<f32>(o1, hsum(a1));
  if (R > 2) { store<f32>(o2, hsum(a2)); store<f32>(o3, hsum(a3)); }
}

/** Q4_K weights (k a multiple of 256; rows of k/256 super-blocks of 144 bytes), 4 x rows per pass (then 2, then 1). */
export function matmulQ4_K(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const nb = k >> 8, rowBytes = <usize>nb * 144, rk = <usize>k << 2, rm = <usize>m << 2;
  for (let i0 = 0, tile = rowTile(k); i0 < n; i0 += tile) {
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = w + <usize>j * rowBytes;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ4_K(wr, nb, x0, x0 + rk, x0 + 2 * rk, x0 + 3 * rk, o, o + rm, o + 2 * rm, o + 3 * rm, 4);
      }
      if (i + 2 <= i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ4_K(wr, nb, x0, x0 + rk, x0, x0, o, o + rm, o, o, 2);
        i += 2;
      }
      if (i < i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ4_K(wr, nb, x0, x0, x0, x0, o, o, o, o, 1);
      }
    }
  }
}

/**
 * One row of Q6_K super-blocks (210 bytes: ql[128], qh[64], int8 scales[16], f16 d). Group g
 * (0..3) of 32 weights in half h takes the low (g < 2) or high nibbles of ql[64h + 32(g & 1) ..],
 * bits 2g..2g+1 of qh[32h ..] above them, minus 32; its two 16-weight halves use scales 8h + 2g
 * and 8h + 2g + 1.
 */
// @ts-ignore: decorator
@inline function rowQ6_K(wr: usize, nb: i32, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, R: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const low = i8x16.splat(15), three = i8x16.splat(3), c32 = i8x16.splat(32);
  for (let b = 0; b < nb; b++) {
    const wb = wr + <usize>b * 210;
    const d = f16(<u32>load<u16>(wb + 208));
    for (let h = 0; h < 2; h++) {
      const ql = wb + (<usize>h << 6), qh = wb + 128 + (<usize>h << 5), sc = wb + 192 + (<usize>h << 3);
      const h0 = v128.load(qh), h1 = v128.load(qh + 16);
      for (let g = 0; g < 4; g++) {
        const src = ql + (<usize>(g & 1) << 5);
        let v0 = v128.load(src), v1 = v128.load(src + 16);
        if (g < 2) { v0 = v128.and(v0, low); v1 = v128.and(v1, low); } else { v0 = i8x16.shr_u(v0, 4); v1 = i8x16.shr_u(v1, 4); }
        const sh = g << 1;
        v0 = i8x16.sub(v128.or(v0, i8x16.shl(v128.and(i8x16.shr_u(h0, sh), three), 4)), c32);
        v1 = i8x16.sub(v128.or(v1, i8x16.shl(v128.and(i8x16.shr_u(h1, sh), three), 4)), c32);
        const s0 = f32x4.splat(d * <f32>load<i8>(sc + (<usize>g << 1))), s1 = f32x4.splat(d * <f32>load<i8>(sc + (<usize>g << 1) + 1));
        const q0 = f32x4.mul(s0, q8lo(v0)), q1 = f32x4.mul(s0, q8hi(v0)), q2 = f32x4.mul(s0, q8lo2(v0)), q3 = f32x4.mul(s0, q8hi2(v0));
        const q4 = f32x4.mul(s1, q8lo(v1)), q5 = f32x4.mul(s1, q8hi(v1)), q6 = f32x4.mul(s1, q8lo2(v1)), q7 = f32x4.mul(s1, q8hi2(v1));
        const xo = (<usize>b << 10) + (<usize>h << 9) + (<usize>g << 7);
        a0 = f32x4.add(a0, blockDot(x0 + xo, q0, q1, q2, q3, q4, q5, q6, q7));
        if (R > 1) a1 = f32x4.add(a1, blockDot(x1 + xo, q0, q1, q2, q3, q4, q5, q6, q7));
        if (R > 2) { a2 = f32x4.add(a2, blockDot(x2 + xo, q0, q1, q2, q3, q4, q5, q6, q7)); a3 = f32x4.add(a3, blockDot(x3 + xo, q0, q1, q2, q3, q4, q5, q6, q7)); }
      }
    }
  }
  store<f32>(o0, hsum(a0));
  if (R > 1) store<f32>(o1, hsum(a1));
  if (R > 2) { store<f32>(o2, hsum(a2)); store<f32>(o3, hsum(a3)); }
}

/** Q6_K weights (k a multiple of 256; rows of k/256 super-blocks of 210 bytes), 4 x rows per pass (then 2, then 1). */
export function matmulQ6_K(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const nb = k >> 8, rowBytes = <usize>nb * 210, rk = <usize>k << 2, rm = <usize>m << 2;
  for (let i0 = 0, tile = rowTile(k); i0 < n; i0 += tile) {
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = w + <usize>j * rowBytes;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ6_K(wr, nb, x0, x0 + rk, x0 + 2 * rk, x0 + 3 * rk, o, o + rm, o + 2 * rm, o + 3 * rm, 4);
      }
      if (i + 2 <= i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ6_K(wr, nb, x0, x0 + rk, x0, x0, o, o + rm, o, o, 2);
        i += 2;
      }
      if (i < i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowQ6_K(wr, nb, x0, x0, x0, x0, o, o, o, o, 1);
      }
    }
  }
}
