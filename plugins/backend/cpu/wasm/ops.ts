// AssemblyScript source of ops.wasm (built by scripts/build-wasm.sh; not TypeScript).
// The cpu backend's non-matmul hot loops: paged attention (f32 SIMD, split over threads: a
// two-pass softmax over a row of scores in the thread's scratch, or an online softmax for rows
// longer than it; and the f64 loops of plugins/attention/paged/cpu.ts ported exactly, for head sizes
// that are not multiples of 4), SiLU-gated multiply (f32 SIMD) and RMSNorm (the f64 operations of
// plugins/backend/cpu/kernels.ts, bit-identical). Everything is plain wasm arithmetic, so each
// gives the same bits on Node, Bun and Deno.

// @ts-nocheck -- AssemblyScript types (v128, f64, usize); tsc only parses this file.

/** f16-cache attention in half precision (attend-half.ts; a pool entry point). */
export { attendHalfItems } from "./attend-half";
/** int8/fp8 KV cache rows decoded to f32 (kv-dequant.ts). */
export { dequantKv8 } from "./kv-dequant";

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

/** 2^f for f in [0, 1) per lane: the degree-6 polynomial of siluMul and expNeg (f32 Horner steps, no fused multiply-add). */
// @ts-ignore: decorator
@inline function exp2Frac4(f: v128): v128 {
  let p = f32x4.splat(2.1877504756454154e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.238782147949024e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(9.684580452660593e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.548042632544682e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.402305020450907e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(6.93146928693023e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.000000002586889));
  return p;
}

/** e^x per lane, see siluMul. */
function exp4(x: v128): v128 {
  let t = f32x4.mul(x, f32x4.splat(1.44269504088896341));
  t = f32x4.max(f32x4.splat(-126), f32x4.min(f32x4.splat(127), t));
  const n = f32x4.floor(t);
  const f = f32x4.sub(t, n);
  const p = exp2Frac4(f);
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** kernels.ts rmsNorm: per row, scale = 1 / sqrt(Σx²/dim + eps); out = x * scale * w, f64. */
export function rmsNorm(out: usize, x: usize, w: usize, eps: f64, n: i32, dim: i32): void {
  for (let i = 0; i < n; i++) {
    const row = <usize>i * <usize>dim << 2;
    let ss: f64 = 0;
    for (let p = 0; p < dim; p++) {
      const v = <f64>load<f32>(x + row + (<usize>p << 2));
      ss += v * v;
    }
    const scale = 1 / sqrt(ss / <f64>dim + eps);
    for (let p = 0; p < dim; p++) {
      const o = <usize>p << 2;
      store<f32>(out + row + o, <f32>(<f64>load<f32>(x + row + o) * scale * <f64>load<f32>(w + o)));
    }
  }
}

/** e^x for x <= 0 in f32 (2^(x·log2 e): integer part into the exponent, a degree-6 polynomial for
 * the fraction, a least-squares fit to 2^f on Chebyshev nodes; about 3e-9 in exact arithmetic, f32 rounding on top), 0 below -103. Pure wasm arithmetic: the same bits everywhere. */
function expNeg(x: f32): f32 {
  if (x < -103.0) return 0;
  const t: f32 = x * 1.44269504088896341;
  const n: f32 = floor(t);
  const f: f32 = t - n; // [0, 1)
  let p: f32 = 2.1877504756454154e-4;
  p = p * f + 1.238782147949024e-3;
  p = p * f + 9.684580452660593e-3;
  p = p * f + 5.548042632544682e-2;
  p = p * f + 2.402305020450907e-1;
  p = p * f + 6.93146928693023e-1;
  p = p * f + 1.000000002586889;
  const e = <i32>n;
  if (e < -126) return p * reinterpret<f32>((e + 126 + 127) << 23) * reinterpret<f32>(1 << 23); // 2^e as 2^(e+126) · 2^-126
  return p * reinterpret<f32>((e + 127) << 23);
}

/** expNeg on each lane, with the same bits (the two exponent cases and the cut-off as lane selects). */
function expNeg4(x: v128): v128 {
  const t = f32x4.mul(x, f32x4.splat(1.44269504088896341));
  const n = f32x4.floor(t);
  const f = f32x4.sub(t, n);
  const p = exp2Frac4(f);
  const e = i32x4.trunc_sat_f32x4_s(n);
  const normal = f32x4.mul(p, i32x4.shl(i32x4.add(e, i32x4.splat(127)), 23));
  const tiny = f32x4.mul(f32x4.mul(p, i32x4.shl(i32x4.add(e, i32x4.splat(126 + 127)), 23)), i32x4.splat(1 << 23));
  const r = v128.bitselect(tiny, normal, i32x4.lt_s(e, i32x4.splat(-126)));
  return v128.bitselect(f32x4.splat(0), r, f32x4.lt(x, f32x4.splat(-103)));
}

/** (hsum4(a0), hsum4(a1), hsum4(a2), hsum4(a3)) by a transpose: the same additions in the same order. */
function hsum4x4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 2, 6), v128.shuffle<f32>(a0, a1, 1, 5, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 2, 6), v128.shuffle<f32>(a2, a3, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

function hsum4(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/**
 * This instance's scratch (set once per thread by the host, as in kernels.wasm: each thread has
 * its own instance, so its own copy of these globals, and its own region of the shared memory).
 */
let scratch: usize = 0;
let scratchBytes: usize = 0;

/** Gives this instance (one thread) the scratch region [at, at + bytes) of the shared memory. */
export function setScratch(at: usize, bytes: usize): void {
  scratch = at;
  scratchBytes = bytes;
}

/** max of four lanes. */
// @ts-ignore: decorator
@inline function hmax4(a: v128): f32 {
  return max(max(f32x4.extract_lane(a, 0), f32x4.extract_lane(a, 1)), max(f32x4.extract_lane(a, 2), f32x4.extract_lane(a, 3)));
}

/** q · k over headDim (a multiple of 4) as four lanes, reduced by hsum4: one score of the tail. */
// @ts-ignore: decorator
@inline function dot1(q: usize, k: usize, headDim: i32): f32 {
  let a = f32x4.splat(0);
  for (let d = 0; d < headDim; d += 4) a = f32x4.add(a, f32x4.mul(v128.load(q + (<usize>d << 2)), v128.load(k + (<usize>d << 2))));
  return hsum4(a);
}

/**
 * One query head over its `len` keys with the softmax taken in two passes over a row of scores in
 * this thread's scratch (so no rescaling per block): scores s_j = (q · k_j) · scale, four keys per
 * step (the lanes reduced as hsum4 each); m = max s_j; p_j = expNeg(s_j - m), S = Σ p_j (four
 * lane sums, then hsum4, then the tail); out = (Σ_j p_j v_j) · (1 / S), the keys in order, 16
 * output dimensions per pass held in registers (then 8, then 4). Depends only on this query's data.
 */
function attendTwoPass(out: usize, q: usize, kBase: usize, vBase: usize, offs: usize, len: i32, headDim: i32, scale: f32): void {
  const sc = scratch, len4 = len & ~3, sv = f32x4.splat(scale);
  if (len == 0) {
    for (let d = 0; d < headDim; d += 4) v128.store(out + (<usize>d << 2), f32x4.splat(0));
    return;
  }
  let mx = f32x4.splat(-Infinity);
  for (let j = 0; j < len4; j += 4) {
    const op = offs + (<usize>j << 2);
    const k0 = kBase + (<usize>load<i32>(op) << 2), k1 = kBase + (<usize>load<i32>(op, 4) << 2);
    const k2 = kBase + (<usize>load<i32>(op, 8) << 2), k3 = kBase + (<usize>load<i32>(op, 12) << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let d = 0; d < headDim; d += 4) {
      const o = <usize>d << 2, qv = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + o)));
    }
    const s = f32x4.mul(hsum4x4(a0, a1, a2, a3), sv);
    v128.store(sc + (<usize>j << 2), s);
    mx = f32x4.max(mx, s);
  }
  let m = hmax4(mx);
  for (let j = len4; j < len; j++) {
    const s = dot1(q, kBase + (<usize>load<i32>(offs + (<usize>j << 2)) << 2), headDim) * scale;
    store<f32>(sc + (<usize>j << 2), s);
    m = max(m, s);
  }
  const mv = f32x4.splat(m);
  let sumv = f32x4.splat(0);
  for (let j = 0; j < len4; j += 4) {
    const p = expNeg4(f32x4.sub(v128.load(sc + (<usize>j << 2)), mv));
    v128.store(sc + (<usize>j << 2), p);
    sumv = f32x4.add(sumv, p);
  }
  let sum = hsum4(sumv);
  for (let j = len4; j < len; j++) {
    const p = expNeg(load<f32>(sc + (<usize>j << 2)) - m);
    store<f32>(sc + (<usize>j << 2), p);
    sum += p;
  }
  const inv = f32x4.splat(<f32>1.0 / sum);
  let d0 = 0;
  for (; d0 + 16 <= headDim; d0 += 16) {
    const vo = vBase + (<usize>d0 << 2);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    for (let j = 0; j < len; j++) {
      const p = v128.load32_splat(sc + (<usize>j << 2)), v = vo + (<usize>load<i32>(offs + (<usize>j << 2)) << 2);
      c0 = f32x4.add(c0, f32x4.mul(p, v128.load(v))); c1 = f32x4.add(c1, f32x4.mul(p, v128.load(v, 16)));
      c2 = f32x4.add(c2, f32x4.mul(p, v128.load(v, 32))); c3 = f32x4.add(c3, f32x4.mul(p, v128.load(v, 48)));
    }
    const o = out + (<usize>d0 << 2);
    v128.store(o, f32x4.mul(c0, inv)); v128.store(o, f32x4.mul(c1, inv), 16);
    v128.store(o, f32x4.mul(c2, inv), 32); v128.store(o, f32x4.mul(c3, inv), 48);
  }
  if (d0 + 8 <= headDim) {
    const vo = vBase + (<usize>d0 << 2);
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    for (let j = 0; j < len; j++) {
      const p = v128.load32_splat(sc + (<usize>j << 2)), v = vo + (<usize>load<i32>(offs + (<usize>j << 2)) << 2);
      c0 = f32x4.add(c0, f32x4.mul(p, v128.load(v))); c1 = f32x4.add(c1, f32x4.mul(p, v128.load(v, 16)));
    }
    const o = out + (<usize>d0 << 2);
    v128.store(o, f32x4.mul(c0, inv)); v128.store(o, f32x4.mul(c1, inv), 16);
    d0 += 8;
  }
  for (; d0 < headDim; d0 += 4) {
    const vo = vBase + (<usize>d0 << 2);
    let c = f32x4.splat(0);
    for (let j = 0; j < len; j++) {
      c = f32x4.add(c, f32x4.mul(v128.load32_splat(sc + (<usize>j << 2)), v128.load(vo + (<usize>load<i32>(offs + (<usize>j << 2)) << 2))));
    }
    v128.store(out + (<usize>d0 << 2), f32x4.mul(c, inv));
  }
}

/**
 * Attention for items j0..j1-1 of a table (the thread pool's column range), each item one query
 * head: six i32 words per item (out, q, kBase, vBase, offs addresses, len). An item whose scores
 * fit this thread's scratch runs attendTwoPass; a longer one an online softmax over blocks of four
 * keys accumulating into out (attendTile); headDim a multiple of 4; scale passed as f32 bits. Each
 * item's arithmetic depends on its own data only, whatever the split: identical bits.
 * The (out, x, w, n, k, m, j0, j1) shape is the pool's calling convention: out = table,
 * n = headDim, k = scale bits, m = item count (x, w unused).
 */
export function attendItems(table: usize, x: usize, w: usize, headDim: i32, scaleBits: i32, m: i32, j0: i32, j1: i32): void {
  const scale = reinterpret<f32>(scaleBits);
  let it = j0;
  while (it < j1) {
    const e0 = table + <usize>it * 24, len0 = load<i32>(e0 + 20);
    if (<usize>len0 << 2 <= scratchBytes) {
      // The query's scores fit this thread's scratch: the two-pass softmax (attendTwoPass).
      attendTwoPass(<usize>load<u32>(e0), <usize>load<u32>(e0 + 4), <usize>load<u32>(e0 + 8), <usize>load<u32>(e0 + 12), <usize>load<u32>(e0 + 16), len0, headDim, scale);
      it++;
      continue;
    }
    // Up to 4 consecutive items reading the same keys (one head's queries of a request) form a
    // tile: each key block is loaded once for all of them. Each query's arithmetic is what it is
    // alone (same blocks in the same order), so tiling never changes a result.
    const e = table + <usize>it * 24;
    const kBase = <usize>load<u32>(e + 8), vBase = <usize>load<u32>(e + 12), offs = <usize>load<u32>(e + 16);
    let n = 1;
    while (n < 4 && it + n < j1) {
      const f = e + <usize>n * 24;
      if (<usize>load<u32>(f + 8) != kBase || <usize>load<u32>(f + 12) != vBase || <usize>load<u32>(f + 16) != offs) break;
      n++;
    }
    attendTile(e, n, kBase, vBase, offs, headDim, scale);
    it += n;
  }
}

/** One block of up to four keys into one query's state st = [max, sum, -, -] (out accumulates). */
// @ts-ignore: decorator
@inline function blockStep(st: v128, out: usize, q: usize, k0: usize, k1: usize, k2: usize, k3: usize, v0: usize, v1: usize, v2: usize, v3: usize, cnt: i32, headDim: i32, scale: f32): v128 {
  let max = f32x4.extract_lane(st, 0), sum = f32x4.extract_lane(st, 1);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let d = 0; d < headDim; d += 4) {
    const o = <usize>d << 2;
    const qv = v128.load(q + o);
    a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
    a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k1 + o)));
    a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k2 + o)));
    a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k3 + o)));
  }
  // The four scores as lanes (missing keys -inf); then the same scalar max as one lane at a time.
  let sv = f32x4.mul(hsum4x4(a0, a1, a2, a3), f32x4.splat(scale));
  if (cnt < 4) sv = v128.bitselect(sv, f32x4.splat(-Infinity), i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(cnt)));
  const s0 = f32x4.extract_lane(sv, 0), s1 = f32x4.extract_lane(sv, 1), s2 = f32x4.extract_lane(sv, 2), s3 = f32x4.extract_lane(sv, 3);
  let bm = s0 > s1 ? s0 : s1;
  const bm2 = s2 > s3 ? s2 : s3;
  bm = bm > bm2 ? bm : bm2;
  if (bm > max) {
    // Rescale what was accumulated under the old maximum.
    const r = expNeg(max - bm);
    sum *= r;
    const rv = f32x4.splat(r);
    for (let d = 0; d < headDim; d += 4) v128.store(out + (<usize>d << 2), f32x4.mul(v128.load(out + (<usize>d << 2)), rv));
    max = bm;
  }
  const pv = expNeg4(f32x4.sub(sv, f32x4.splat(max)));
  sum += hsum4(pv);
  const w0 = v128.shuffle<f32>(pv, pv, 0, 0, 0, 0), w1 = v128.shuffle<f32>(pv, pv, 1, 1, 1, 1);
  const w2 = v128.shuffle<f32>(pv, pv, 2, 2, 2, 2), w3 = v128.shuffle<f32>(pv, pv, 3, 3, 3, 3);
  for (let d = 0; d < headDim; d += 4) {
    const o = <usize>d << 2;
    let a = v128.load(out + o);
    a = f32x4.add(a, f32x4.add(f32x4.add(f32x4.mul(w0, v128.load(v0 + o)), f32x4.mul(w1, v128.load(v1 + o))), f32x4.add(f32x4.mul(w2, v128.load(v2 + o)), f32x4.mul(w3, v128.load(v3 + o)))));
    v128.store(out + o, a);
  }
  return f32x4.replace_lane(f32x4.splat(max), 1, sum);
}

/**
 * n (1..4) items at e sharing kBase, vBase and offs: online softmax over blocks of four keys,
 * accumulating into each item's out (no scratch, so threads share nothing); a query whose len
 * ends inside a block uses that block's first key for the missing ones (masked, weight 0), as alone.
 */
function attendTile(e: usize, n: i32, kBase: usize, vBase: usize, offs: usize, headDim: i32, scale: f32): void {
  const out0 = <usize>load<u32>(e), out1 = n > 1 ? <usize>load<u32>(e + 24) : out0;
  const out2 = n > 2 ? <usize>load<u32>(e + 48) : out0, out3 = n > 3 ? <usize>load<u32>(e + 72) : out0;
  const q0 = <usize>load<u32>(e + 4), q1 = n > 1 ? <usize>load<u32>(e + 28) : q0;
  const q2 = n > 2 ? <usize>load<u32>(e + 52) : q0, q3 = n > 3 ? <usize>load<u32>(e + 76) : q0;
  const len0 = load<i32>(e + 20), len1 = n > 1 ? load<i32>(e + 44) : 0, len2 = n > 2 ? load<i32>(e + 68) : 0, len3 = n > 3 ? load<i32>(e + 92) : 0;
  const maxLen = max(max(len0, len1), max(len2, len3));
  const init = f32x4(-Infinity, 0, 0, 0);
  let st0 = init, st1 = init, st2 = init, st3 = init;
  for (let i = 0; i < n; i++) {
    const o = i == 0 ? out0 : i == 1 ? out1 : i == 2 ? out2 : out3;
    for (let d = 0; d < headDim; d += 4) v128.store(o + (<usize>d << 2), f32x4.splat(0));
  }
  for (let j = 0; j < maxLen; j += 4) {
    const c = maxLen - j < 4 ? maxLen - j : 4;
    const o0 = <usize>load<i32>(offs + (<usize>j << 2)) << 2;
    const o1 = c > 1 ? <usize>load<i32>(offs + (<usize>(j + 1) << 2)) << 2 : o0;
    const o2 = c > 2 ? <usize>load<i32>(offs + (<usize>(j + 2) << 2)) << 2 : o0;
    const o3 = c > 3 ? <usize>load<i32>(offs + (<usize>(j + 3) << 2)) << 2 : o0;
    for (let i = 0; i < n; i++) {
      const len = i == 0 ? len0 : i == 1 ? len1 : i == 2 ? len2 : len3;
      const cnt = len - j < 4 ? len - j : 4;
      if (cnt <= 0) continue;
      const p1 = cnt > 1 ? o1 : o0, p2 = cnt > 2 ? o2 : o0, p3 = cnt > 3 ? o3 : o0;
      const out = i == 0 ? out0 : i == 1 ? out1 : i == 2 ? out2 : out3;
      const q = i == 0 ? q0 : i == 1 ? q1 : i == 2 ? q2 : q3;
      const st = i == 0 ? st0 : i == 1 ? st1 : i == 2 ? st2 : st3;
      const nst = blockStep(st, out, q, kBase + o0, kBase + p1, kBase + p2, kBase + p3, vBase + o0, vBase + p1, vBase + p2, vBase + p3, cnt, headDim, scale);
      if (i == 0) st0 = nst; else if (i == 1) st1 = nst; else if (i == 2) st2 = nst; else st3 = nst;
    }
  }
  for (let i = 0; i < n; i++) {
    const o = i == 0 ? out0 : i == 1 ? out1 : i == 2 ? out2 : out3;
    const st = i == 0 ? st0 : i == 1 ? st1 : i == 2 ? st2 : st3;
    const inv = f32x4.splat(<f32>1.0 / f32x4.extract_lane(st, 1));
    for (let d = 0; d < headDim; d += 4) v128.store(o + (<usize>d << 2), f32x4.mul(v128.load(o + (<usize>d << 2)), inv));
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
