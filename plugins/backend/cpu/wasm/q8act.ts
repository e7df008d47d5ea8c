// AssemblyScript kernels for GGML Q8_0 and Q4_0 weights × activations quantized to Q8_0 ("q8
// activations", the llama.cpp semantics of ggml_vec_dot_q8_0_q8_0 / q4_0_q8_0 with the float
// accumulation order pinned down). See kernels.ts for the calling convention; not TypeScript.
//
// The host quantizes x once per call with quantizeQ8_0Rows into a scratch buffer and passes that
// buffer as x. Its layout (k a multiple of 32, nb = k / 32, rows padded with zero rows to n4, a
// multiple of 4): groups of 4 rows; group g's block b is 272 bytes at x + (g nb + b) 272: the 4
// rows' 32 codes each as int16 (widened so the kernels load them ready for i32x4.dot_i16x8_s),
// then the 4 rows' f32 scales. A kernel pass over 4 rows reads one stream with fixed offsets.
// For every (row i, column j): acc = 0; per block b in order: isum = Σ qx qw as an exact int32,
// s = dx_b * dw_b (f32), acc = acc + (f32)isum * s (f32 multiply, then f32 add; no fused
// multiply-add in wasm SIMD). The kernels put 4 rows (or 4 columns) of that recurrence in the 4
// lanes of one f32x4, which computes each lane exactly as the scalar formula: results do not
// depend on n, the row or column blocking or the thread split.
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.
import { f16, f16x4, hsumI32 } from "./common";

/** Bytes of one block of a 4-row group of quantized activations: 4 × 32 int16 codes, 4 f32 scales. */
const GROUP_BLOCK: usize = 272;

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

/** roundf (halves away from zero) of four lanes, as i32. v - trunc(v) is exact for |v| < 2^23. */
// @ts-ignore: decorator
@inline function roundAway(v: v128): v128 {
  const t = f32x4.trunc(v);
  const half = f32x4.ge(f32x4.abs(f32x4.sub(v, t)), f32x4.splat(0.5));
  const one = v128.or(f32x4.splat(1), v128.and(v, i32x4.splat(0x80000000)));
  return i32x4.trunc_sat_f32x4_s(f32x4.add(t, v128.and(half, one)));
}

/**
 * x [n, k] f32 → the q8-activation buffer at dst (layout above), exactly as llama.cpp's
 * quantize_row_q8_0_ref: per block amax = max |x|, d = amax / 127, id = d ? 1 / d : 0,
 * q = roundf(x id), stored scale dx = f16(d) widened back to f32.
 */
export function quantizeQ8_0Rows(dst: usize, src: usize, n: i32, k: i32): void {
  const nb = k >> 5, n4 = (n + 3) & ~3;
  for (let i = 0; i < n; i++) {
    const xr = src + ((<usize>i * <usize>k) << 2);
    const qr = dst + <usize>(i >> 2) * <usize>nb * GROUP_BLOCK + (<usize>(i & 3) << 6), sr = qr - (<usize>(i & 3) << 6) + 256 + (<usize>(i & 3) << 2);
    for (let b = 0; b < nb; b++) {
      const xb = xr + (<usize>b << 7);
      const v0 = v128.load(xb), v1 = v128.load(xb, 16), v2 = v128.load(xb, 32), v3 = v128.load(xb, 48);
      const v4 = v128.load(xb, 64), v5 = v128.load(xb, 80), v6 = v128.load(xb, 96), v7 = v128.load(xb, 112);
      const m01 = f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), m23 = f32x4.max(f32x4.abs(v2), f32x4.abs(v3));
      const m45 = f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), m67 = f32x4.max(f32x4.abs(v6), f32x4.abs(v7));
      const mx = f32x4.max(f32x4.max(m01, m23), f32x4.max(m45, m67));
      const amax = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
      const d: f32 = amax / <f32>127;
      const id = f32x4.splat(d != 0 ? <f32>1 / d : <f32>0);
      const qb = qr + <usize>b * GROUP_BLOCK;
      v128.store(qb, i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v0, id)), roundAway(f32x4.mul(v1, id))));
      v128.store(qb, i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v2, id)), roundAway(f32x4.mul(v3, id))), 16);
      v128.store(qb, i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v4, id)), roundAway(f32x4.mul(v5, id))), 32);
      v128.store(qb, i16x8.narrow_i32x4_s(roundAway(f32x4.mul(v6, id)), roundAway(f32x4.mul(v7, id))), 48);
      store<f32>(sr + <usize>b * GROUP_BLOCK, f16(f32ToF16Bits(d)));
    }
  }
  // Padding rows: zero codes and scales.
  for (let i = n; i < n4; i++) {
    const qr = dst + <usize>(i >> 2) * <usize>nb * GROUP_BLOCK + (<usize>(i & 3) << 6);
    for (let b = 0; b < nb; b++) {
      const qb = qr + <usize>b * GROUP_BLOCK, z = i32x4.splat(0);
      v128.store(qb, z); v128.store(qb, z, 16); v128.store(qb, z, 32); v128.store(qb, z, 48);
      store<f32>(qb - (<usize>(i & 3) << 6) + 256 + (<usize>(i & 3) << 2), 0);
    }
  }
}

/** Four i32x4 → one i32x4 of their lane sums [Σa, Σb, Σc, Σd]. */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const t0 = i32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7));
  const t1 = i32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return i32x4.add(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7));
}

/**
 * Half a weight block at wh = block + h (h = 0 or 8) as two i16x8: halfLo elements h..h+7, halfHi
 * elements h+16..h+23. fmt 0 = Q8_0 (34-byte blocks: f16 d, 32 int8), fmt 1 = Q4_0 (18-byte
 * blocks: f16 d, byte t holds element t in its low nibble and t + 16 in its high nibble, value
 * nibble - 8).
 */
// @ts-ignore: decorator
@inline function halfLo(wh: usize, fmt: i32): v128 {
  if (fmt == 0) return v128.load8x8_s(wh, 2);
  return i16x8.sub(v128.and(v128.load8x8_u(wh, 2), i16x8.splat(15)), i16x8.splat(8));
}
// @ts-ignore: decorator
@inline function halfHi(wh: usize, fmt: i32): v128 {
  if (fmt == 0) return v128.load8x8_s(wh, 18);
  return i16x8.sub(i16x8.shr_u(v128.load8x8_u(wh, 2), 4), i16x8.splat(8));
}

/**
 * One weight row (wr) × the 4 activation rows of group xg, the rows in the lanes: per block each
 * weight half is decoded once and used for 4 rows, the four int32 dots reduced into one i32x4 and
 * scaled by dx4 · dw. Half a block per inner iteration keeps V8 from hoisting every load ahead
 * (and spilling registers). Writes out[o + r rm] for r < R (the group's rows past n are the
 * buffer's zero padding: computed, not stored).
 */
// @ts-ignore: decorator
@inline function rows4(wr: usize, nb: i32, fmt: i32, bs: usize, xg: usize, o: usize, rm: usize, R: i32): void {
  let acc = f32x4.splat(0);
  const wend = wr + <usize>nb * bs;
  for (let wb = wr, xb = xg; wb < wend; wb += bs, xb += GROUP_BLOCK) {
    let p0 = i32x4.splat(0), p1 = i32x4.splat(0), p2 = i32x4.splat(0), p3 = i32x4.splat(0);
    for (let h: usize = 0; h < 16; h += 8) {
      const wh = wb + h, xa = xb + (h << 1);
      const wa = halfLo(wh, fmt), wc = halfHi(wh, fmt);
      p0 = i32x4.add(p0, i32x4.add(i32x4.dot_i16x8_s(v128.load(xa), wa), i32x4.dot_i16x8_s(v128.load(xa, 32), wc)));
      p1 = i32x4.add(p1, i32x4.add(i32x4.dot_i16x8_s(v128.load(xa, 64), wa), i32x4.dot_i16x8_s(v128.load(xa, 96), wc)));
      p2 = i32x4.add(p2, i32x4.add(i32x4.dot_i16x8_s(v128.load(xa, 128), wa), i32x4.dot_i16x8_s(v128.load(xa, 160), wc)));
      p3 = i32x4.add(p3, i32x4.add(i32x4.dot_i16x8_s(v128.load(xa, 192), wa), i32x4.dot_i16x8_s(v128.load(xa, 224), wc)));
    }
    const s = f32x4.mul(v128.load(xb, 256), f32x4.splat(f16(<u32>load<u16>(wb))));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sum4(p0, p1, p2, p3)), s));
  }
  store<f32>(o, f32x4.extract_lane(acc, 0));
  if (R > 1) store<f32>(o + rm, f32x4.extract_lane(acc, 1));
  if (R > 2) store<f32>(o + 2 * rm, f32x4.extract_lane(acc, 2));
  if (R > 3) store<f32>(o + 3 * rm, f32x4.extract_lane(acc, 3));
}

/**
 * One activation row (xr) × 4 weight rows (wr, stride rowBytes), the columns in the lanes: the
 * row's block stays in registers for the four columns; the four f16 scales are widened together.
 * Writes out[o .. o + 16).
 */
// @ts-ignore: decorator
@inline function cols4(wr: usize, rowBytes: usize, nb: i32, fmt: i32, bs: usize, xr: usize, sr: usize, o: usize): void {
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const xb = xr + <usize>b * GROUP_BLOCK;
    const wb0 = wr + <usize>b * bs, wb1 = wb0 + rowBytes, wb2 = wb1 + rowBytes, wb3 = wb2 + rowBytes;
    let p0 = i32x4.splat(0), p1 = i32x4.splat(0), p2 = i32x4.splat(0), p3 = i32x4.splat(0);
    for (let h: usize = 0; h < 16; h += 8) {
      const xl = v128.load(xb + (h << 1)), xh = v128.load(xb + (h << 1), 32);
      p0 = i32x4.add(p0, i32x4.add(i32x4.dot_i16x8_s(xl, halfLo(wb0 + h, fmt)), i32x4.dot_i16x8_s(xh, halfHi(wb0 + h, fmt))));
      p1 = i32x4.add(p1, i32x4.add(i32x4.dot_i16x8_s(xl, halfLo(wb1 + h, fmt)), i32x4.dot_i16x8_s(xh, halfHi(wb1 + h, fmt))));
      p2 = i32x4.add(p2, i32x4.add(i32x4.dot_i16x8_s(xl, halfLo(wb2 + h, fmt)), i32x4.dot_i16x8_s(xh, halfHi(wb2 + h, fmt))));
      p3 = i32x4.add(p3, i32x4.add(i32x4.dot_i16x8_s(xl, halfLo(wb3 + h, fmt)), i32x4.dot_i16x8_s(xh, halfHi(wb3 + h, fmt))));
    }
    let hb = i32x4.splat(<i32>load<u16>(wb0));
    hb = i32x4.replace_lane(hb, 1, <i32>load<u16>(wb1));
    hb = i32x4.replace_lane(hb, 2, <i32>load<u16>(wb2));
    hb = i32x4.replace_lane(hb, 3, <i32>load<u16>(wb3));
    const s = f32x4.mul(f32x4.splat(load<f32>(sr + <usize>b * GROUP_BLOCK)), f16x4(hb));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sum4(p0, p1, p2, p3)), s));
  }
  v128.store(o, acc);
}

/** One activation row × one weight row, the f32 recurrence in scalar code. */
// @ts-ignore: decorator
@inline function one(wr: usize, nb: i32, fmt: i32, bs: usize, xr: usize, sr: usize, o: usize): void {
  let acc: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const wb = wr + <usize>b * bs, xb = xr + <usize>b * GROUP_BLOCK;
    const p = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(v128.load(xb), halfLo(wb, fmt)), i32x4.dot_i16x8_s(v128.load(xb, 32), halfHi(wb, fmt))),
      i32x4.add(i32x4.dot_i16x8_s(v128.load(xb, 16), halfLo(wb + 8, fmt)), i32x4.dot_i16x8_s(v128.load(xb, 48), halfHi(wb + 8, fmt))));
    const s = load<f32>(sr + <usize>b * GROUP_BLOCK) * f16(<u32>load<u16>(wb));
    acc = acc + <f32>hsumI32(p) * s;
  }
  store<f32>(o, acc);
}

/**
 * Columns j0..j1 of x · W^T for Q8_0 (fmt 0, 34-byte blocks) or Q4_0 (fmt 1, 18-byte blocks)
 * weights, x the q8-activation buffer. Rows in groups of 4 (rows in lanes), swept over the
 * columns one cache block of rows at a time; then the last n % 4 rows (see below).
 */
// @ts-ignore: decorator
@inline function matmulQ8Act(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32, fmt: i32, bs: usize): void {
  const nb = k >> 5, rowBytes = <usize>nb * bs, rm = <usize>m << 2, nfull = n & ~3, groupBytes = <usize>nb * GROUP_BLOCK;
  // 16-32 KB of quantized rows per cache block (a multiple of 4 rows).
  const tile = max(4, (16384 / k) & ~3);
  for (let i0 = 0; i0 < nfull; i0 += tile) {
    const i1 = min(nfull, i0 + tile);
    for (let j = j0; j < j1; j++) {
      const wr = w + <usize>j * rowBytes, oj = out + (<usize>j << 2);
      for (let i = i0; i < i1; i += 4) rows4(wr, nb, fmt, bs, x + <usize>(i >> 2) * groupBytes, oj + <usize>i * rm, rm, 4);
    }
  }
  const rest = n - nfull, xg = x + <usize>(nfull >> 2) * groupBytes, og = out + <usize>nfull * rm;
  if (rest > 1) {
    // 2 or 3 rows: one pass over the weights, rows in lanes (the padding lanes are not stored).
    for (let j = j0; j < j1; j++) rows4(w + <usize>j * rowBytes, nb, fmt, bs, xg, og + (<usize>j << 2), rm, rest);
  } else if (rest == 1) {
    // One row (decode): Q4_0 four columns in lanes; Q8_0 one column at a time (a single weight
    // stream runs faster from DRAM than four interleaved ones of 34-byte blocks).
    const sr = xg + 256;
    let j = j0;
    if (fmt == 1) for (; j + 4 <= j1; j += 4) cols4(w + <usize>j * rowBytes, rowBytes, nb, fmt, bs, xg, sr, og + (<usize>j << 2));
    for (; j < j1; j++) one(w + <usize>j * rowBytes, nb, fmt, bs, xg, sr, og + (<usize>j << 2));
  }
}

/** Q8_0 weights × q8 activations (x: the quantizeQ8_0Rows buffer; k a multiple of 32). */
export function matmulQ8_0(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulQ8Act(out, x, w, n, k, m, j0, j1, 0, 34);
}

/** Q4_0 weights × q8 activations (x: the quantizeQ8_0Rows buffer; k a multiple of 32). */
export function matmulQ4_0(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  matmulQ8Act(out, x, w, n, k, m, j0, j1, 1, 18);
}
