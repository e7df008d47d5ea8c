// AssemblyScript kernel for 4-bit weights in the int4 group layout of the int4 quant plugin
// (GGML Q4_0 blocks: q8act.ts) (see kernels.ts for the calling convention; not TypeScript).
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { align16, blockDot, hsum, q8hi, q8hi2, q8lo, q8lo2, rowTile } from "./common";

/**
 * One row of the int4 group layout: 32 weights (16 bytes; byte t holds element 2t in its low
 * nibble, 2t + 1 in its high nibble) at a time, minus the group's zero point, widened to f32,
 * dotted with x and scaled by the group's scale.
 */
// @ts-ignore: decorator
@inline function rowInt4(pr: usize, sr: usize, zr: usize, nc: i32, gshift: i32, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, R: i32): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const low = i8x16.splat(15);
  for (let c = 0; c < nc; c++) {
    const g = <usize>(c >> gshift);
    const z = i8x16.splat(<i8>load<u8>(zr + g));
    const s = f32x4.splat(load<f32>(sr + (g << 2)));
    const v = v128.load(pr + (<usize>c << 4));
    const lo = v128.and(v, low), hi = i8x16.shr_u(v, 4);
    const e0 = i8x16.sub(i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), z);
    const e1 = i8x16.sub(i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), z);
    const q0 = q8lo(e0), q1 = q8hi(e0), q2 = q8lo2(e0), q3 = q8hi2(e0);
    const q4 = q8lo(e1), q5 = q8hi(e1), q6 = q8lo2(e1), q7 = q8hi2(e1);
    const xo = <usize>c << 7;
    a0 = f32x4.add(a0, f32x4.mul(blockDot(x0 + xo, q0, q1, q2, q3, q4, q5, q6, q7), s));
    if (R > 1) a1 = f32x4.add(a1, f32x4.mul(blockDot(x1 + xo, q0, q1, q2, q3, q4, q5, q6, q7), s));
    if (R > 2) { a2 = f32x4.add(a2, f32x4.mul(blockDot(x2 + xo, q0, q1, q2, q3, q4, q5, q6, q7), s)); a3 = f32x4.add(a3, f32x4.mul(blockDot(x3 + xo, q0, q1, q2, q3, q4, q5, q6, q7), s)); }
  }
  store<f32>(o0, hsum(a0));
  if (R > 1) store<f32>(o1, hsum(a1));
  if (R > 2) { store<f32>(o2, hsum(a2)); store<f32>(o3, hsum(a3)); }
}

/**
 * int4 groups (k a multiple of the group size G = 32, 64 or 128). Placed layout: header
 * (i32 G, 12 bytes free), scales f32 [m, k/G], zeros u8 [m, k/G] (from a 16-byte boundary),
 * packed nibbles [m, k/2] (from a 16-byte boundary).
 */
export function matmulInt4(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const gs = load<i32>(w), gshift = gs == 32 ? 0 : gs == 64 ? 1 : 2;
  const groups = <usize>(k / gs), nc = k >> 5;
  const scales = w + 16, zeros = scales + align16(<usize>m * groups << 2), packed = zeros + align16(<usize>m * groups);
  const rowBytes = <usize>k >> 1, rk = <usize>k << 2, rm = <usize>m << 2;
  for (let i0 = 0, tile = rowTile(k); i0 < n; i0 += tile) {
    const i1 = min(n, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const pr = packed + <usize>j * rowBytes, sr = scales + ((<usize>j * groups) << 2), zr = zeros + <usize>j * groups;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowInt4(pr, sr, zr, nc, gshift, x0, x0 + rk, x0 + 2 * rk, x0 + 3 * rk, o, o + rm, o + 2 * rm, o + 3 * rm, 4);
      }
      if (i + 2 <= i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowInt4(pr, sr, zr, nc, gshift, x0, x0 + rk, x0, x0, o, o + rm, o, o, 2);
        i += 2;
      }
      if (i < i1) {
        const x0 = x + <usize>i * rk, o = out + <usize>i * rm + (<usize>j << 2);
        rowInt4(pr, sr, zr, nc, gshift, x0, x0, x0, x0, o, o, o, o, 1);
      }
    }
  }
}
