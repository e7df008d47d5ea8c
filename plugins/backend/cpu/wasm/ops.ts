// AssemblyScript source of ops.wasm (built by scripts/build-wasm.sh; not TypeScript).
// The cpu backend's non-matmul hot loops: paged attention (f32 SIMD split over threads, in
// attend-f32.ts; and the f64 loops of plugins/attention/paged/cpu.ts ported exactly, for head sizes
// that are not multiples of 4), SiLU-gated multiply (f32 SIMD) and RMSNorm (the f64 operations of
// plugins/backend/cpu/kernels.ts, bit-identical). Everything is plain wasm arithmetic, so each
// gives the same bits on Node, Bun and Deno.

// @ts-nocheck -- AssemblyScript types (v128, f64, usize); tsc only parses this file.

/** f16-cache attention in half precision (attend-half.ts; a pool entry point). */
export { attendHalfItems } from "./attend-half";
/** int8/fp8 KV cache rows decoded to f32 (kv-dequant.ts). */
export { dequantKv8 } from "./kv-dequant";
/** f32 paged attention over an item table (attend-f32.ts; a pool entry point), and the per-thread scratch it uses. */
export { attendItems, setScratch } from "./attend-f32";
import { exp2Frac4 } from "./attend-f32";

const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700;

/** 2^k for -1022 <= k <= 1023 (exact). */
function pow2(k: i32): f64 {
  return reinterpret<f64>(<u64>(k + 1023) << 52);
}

/** JavaScript's Math.round: the nearest integer, ties toward +infinity. */
function jsRound(y: f64): f64 {
  const r = floor(y);
  return y - r >= 0.5 ? r + 1 : r;
}

/** det-math dexp, operation for operation. */
export function dexp(x: f64): f64 {
  if (x != x) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const kf = jsRound(x * INV_LN2);
  const k = <i32>kf;
  const r = (x - kf * LN2_HI) - kf * LN2_LO;
  let p: f64 = 1.0 / 87178291200.0;
  p = p * r + 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  if (k < -1000) return (p * pow2(k + 200)) * pow2(-200);
  if (k > 1023) return p * Infinity;
  return p * pow2(k);
}

/**
 * One query head: out[d] = Σ_j softmax(scale · q·k_j)_j · v_j[d] over `len` positions whose K/V
 * rows start at kBase/vBase + 4·offs[j] (f32), q and out headDim f32; sc (len f64) and acc
 * (headDim f64) are scratch. Keys are taken four at a time (independent sums, each in the
 * reference's order); the V sum runs two dims per f64x2 lane pair (per-dim order unchanged).
 */
export function attendHead(out: usize, q: usize, kBase: usize, vBase: usize, offs: usize, len: i32, headDim: i32, scale: f64, sc: usize, acc: usize): void {
  let max: f64 = -Infinity;
  let j = 0;
  for (; j + 4 <= len; j += 4) {
    const k0 = kBase + (<usize>load<i32>(offs + (<usize>j << 2)) << 2);
    const k1 = kBase + (<usize>load<i32>(offs + (<usize>(j + 1) << 2)) << 2);
    const k2 = kBase + (<usize>load<i32>(offs + (<usize>(j + 2) << 2)) << 2);
    const k3 = kBase + (<usize>load<i32>(offs + (<usize>(j + 3) << 2)) << 2);
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (let d = 0; d < headDim; d++) {
      const o = <usize>d << 2;
      const qd = <f64>load<f32>(q + o);
      s0 += qd * <f64>load<f32>(k0 + o);
      s1 += qd * <f64>load<f32>(k1 + o);
      s2 += qd * <f64>load<f32>(k2 + o);
      s3 += qd * <f64>load<f32>(k3 + o);
    }
    s0 *= scale; s1 *= scale; s2 *= scale; s3 *= scale;
    const so = sc + (<usize>j << 3);
    store<f64>(so, s0); store<f64>(so + 8, s1); store<f64>(so + 16, s2); store<f64>(so + 24, s3);
    if (s0 > max) max = s0;
    if (s1 > max) max = s1;
    if (s2 > max) max = s2;
    if (s3 > max) max = s3;
  }
  for (; j < len; j++) {
    const k0 = kBase + (<usize>load<i32>(offs + (<usize>j << 2)) << 2);
    let s: f64 = 0;
    for (let d = 0; d < headDim; d++) s += <f64>load<f32>(q + (<usize>d << 2)) * <f64>load<f32>(k0 + (<usize>d << 2));
    s *= scale;
    store<f64>(sc + (<usize>j << 3), s);
    if (s > max) max = s;
  }
  let sum: f64 = 0;
  for (j = 0; j < len; j++) {
    const at = sc + (<usize>j << 3);
    const e = dexp(load<f64>(at) - max);
    store<f64>(at, e);
    sum += e;
  }
  const d2 = headDim & ~1;
  for (let d = 0; d < headDim; d++) store<f64>(acc + (<usize>d << 3), 0);
  for (j = 0; j < len; j++) {
    const w = load<f64>(sc + (<usize>j << 3)) / sum;
    const wv = f64x2.splat(w);
    const v0 = vBase + (<usize>load<i32>(offs + (<usize>j << 2)) << 2);
    let d = 0;
    for (; d < d2; d += 2) {
      const ao = acc + (<usize>d << 3);
      const vv = f64x2.promote_low_f32x4(v128.load64_zero(v0 + (<usize>d << 2)));
      v128.store(ao, f64x2.add(v128.load(ao), f64x2.mul(wv, vv)));
    }
    for (; d < headDim; d++) {
      const ao = acc + (<usize>d << 3);
      store<f64>(ao, load<f64>(ao) + w * <f64>load<f32>(v0 + (<usize>d << 2)));
    }
  }
  for (let d = 0; d < headDim; d++) store<f32>(out + (<usize>d << 2), <f32>load<f64>(acc + (<usize>d << 3)));
}

/**
 * out[i] = silu(gate[i]) * up[i] = gate / (1 + e^-gate) * up in f32x4 lanes: e^x as 2^(x·log2 e)
 * with the integer part (clamped to [-126, 127]) in the exponent and a degree-6 polynomial for the
 * fraction (a least-squares fit, about 3e-9 before f32 rounding). Pure wasm arithmetic: the same bits on every runtime.
 */
export function siluMul(out: usize, gate: usize, up: usize, len: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gate + o);
    v128.store(out + o, f32x4.mul(f32x4.div(g, f32x4.add(one, exp4(f32x4.neg(g)))), v128.load(up + o)));
  }
  for (; i < len; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    store<f32>(out + o, f32x4.extract_lane(f32x4.mul(f32x4.div(f32x4.splat(g), f32x4.add(one, exp4(f32x4.splat(-g)))), f32x4.splat(load<f32>(up + o))), 0));
  }
}

/**
 * e^x per lane, see siluMul. The clamp uses pmin/pmax (one minps/maxps each on x64, where
 * f32x4.min/max cost several instructions for their NaN and signed-zero rules): they differ from
 * min/max only for a NaN t, and a NaN gate makes the product NaN either way. 2^n is built without a
 * float-to-int conversion: n + 127 + 2^23 (exact, n + 127 in 1..254) holds n + 127 in its low
 * mantissa bits, and the shift by 23 keeps exactly those 9 bits as the exponent field.
 */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  let t = f32x4.mul(x, f32x4.splat(1.44269504088896341));
  t = f32x4.pmax(f32x4.splat(-126), f32x4.pmin(f32x4.splat(127), t));
  const n = f32x4.floor(t);
  const f = f32x4.sub(t, n);
  const p = exp2Frac4(f);
  const e = i32x4.shl(f32x4.add(n, f32x4.splat(8388608 + 127)), 23);
  return f32x4.mul(p, e);
}

/**
 * kernels.ts rmsNorm, the same operations in the same order: per row, Σx² in f64 as four partial
 * sums (element p into sum p mod 4: two f64x2 accumulators), (s0 + s2) + (s1 + s3), then the
 * dim mod 4 last squares in order; scale = 1 / sqrt(Σx²/dim + eps); out = f32(x · scale · w) in f64,
 * two lanes at a time.
 */
export function rmsNorm(out: usize, x: usize, w: usize, eps: f64, n: i32, dim: i32): void {
  const dim4 = dim & ~3;
  for (let i = 0; i < n; i++) {
    const row = <usize>i * <usize>dim << 2, xr = x + row, orow = out + row;
    let a = f64x2.splat(0), b = f64x2.splat(0);
    for (let p = 0; p < dim4; p += 4) {
      const v = v128.load(xr + (<usize>p << 2));
      const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      a = f64x2.add(a, f64x2.mul(lo, lo));
      b = f64x2.add(b, f64x2.mul(hi, hi));
    }
    const t = f64x2.add(a, b);
    let ss = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (let p = dim4; p < dim; p++) {
      const v = <f64>load<f32>(xr + (<usize>p << 2));
      ss += v * v;
    }
    const scale = 1 / sqrt(ss / <f64>dim + eps), sv = f64x2.splat(scale);
    for (let p = 0; p < dim4; p += 4) {
      const o = <usize>p << 2;
      const v = v128.load(xr + o), g = v128.load(w + o);
      const lo = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(v), sv), f64x2.promote_low_f32x4(g));
      const hi = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), sv), f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 0, 1)));
      v128.store(orow + o, i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
    }
    for (let p = dim4; p < dim; p++) {
      const o = <usize>p << 2;
      store<f32>(orow + o, <f32>(<f64>load<f32>(xr + o) * scale * <f64>load<f32>(w + o)));
    }
  }
}

/*
 * Pool entry points (the (out, x, w, n, k, m, j0, j1) calling convention, split over threads by
 * ranges of m): each element or row is computed exactly as by the single-threaded function, so the
 * split never changes a result.
 */

/** siluMul over elements j0..j1 of out/gate(x)/up(w); m = the length. */
export function siluMulRange(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const o = <usize>j0 << 2;
  siluMul(out + o, x + o, w + o, j1 - j0);
}

/**
 * SiLU-and-mul of a merged gate/up product (vLLM's SiluAndMul): rows j0..j1 of x, each 2n values
 * [gate | up], to rows of n at out: siluMul's arithmetic per element (the same bits as siluMul of
 * separate gate and up rows). m = rows.
 */
export function siluAndMulRows(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const rowIn = <usize>n << 3, rowOut = <usize>n << 2;
  for (let r = j0; r < j1; r++) {
    const g = x + <usize>r * rowIn;
    siluMul(out + <usize>r * rowOut, g, g + rowOut, n);
  }
}

/**
 * Rows j0..j1 of columns [k, k + n) of x, whose rows hold w values, copied to rows of n at out (one
 * part of a merged q/k/v product). m = rows. 16 bytes at a time, then single values.
 */
export function copyColumnsRows(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const n4 = n & ~3;
  for (let r = j0; r < j1; r++) {
    const src = x + ((<usize>r * w + <usize>k) << 2), dst = out + ((<usize>r * <usize>n) << 2);
    let i = 0;
    for (; i < n4; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
    for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
  }
}

/** rmsNorm of rows j0..j1 of x (n = row length, k = address of eps as f64, m = rows). */
export function rmsNormRows(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  const o = (<usize>j0 * <usize>n) << 2;
  rmsNorm(out + o, x + o, w, load<f64>(<usize>k), j1 - j0, n);
}

/** out[i] += x[i] (f32) over elements j0..j1. */
export function addRange(out: usize, x: usize, w: usize, n: i32, k: i32, m: i32, j0: i32, j1: i32): void {
  let i = j0;
  for (; i + 4 <= j1; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(x + o)));
  }
  for (; i < j1; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(out + o) + load<f32>(x + o));
  }
}
