// AssemblyScript source (part of ops.wasm, built by scripts/build-wasm.sh; not TypeScript).
// The cpu backend's f32 paged attention (ops.ts re-exports attendItems and setScratch): per item
// (one query head) a two-pass softmax over a row of scores in the thread's scratch, consecutive
// items that read the same keys going through them together (attendGroup), or an online softmax
// for rows longer than the scratch. Pure wasm arithmetic: the same bits on every runtime.

// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.

/** Keys per chunk of the group passes: a chunk's K rows (or V strips) stay in L1 while each query of the group reads them. */
const CHUNK: i32 = 64;
/** Most items one group takes (its score rows must also fit the scratch). */
const GROUP_MAX: i32 = 8;

/** 2^f for f in [0, 1) per lane: the degree-6 polynomial of siluMul and expNeg (f32 Horner steps, no fused multiply-add). */
// @ts-ignore: decorator
@inline export function exp2Frac4(f: v128): v128 {
  let p = f32x4.splat(2.1877504756454154e-4);
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.238782147949024e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(9.684580452660593e-3));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(5.548042632544682e-2));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(2.402305020450907e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(6.93146928693023e-1));
  p = f32x4.add(f32x4.mul(p, f), f32x4.splat(1.000000002586889));
  return p;
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
// @ts-ignore: decorator
@inline function expNeg4(x: v128): v128 {
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
  }
  for (let j = len4; j < len; j++) store<f32>(sc + (<usize>j << 2), dot1(q, kBase + (<usize>load<i32>(offs + (<usize>j << 2)) << 2), headDim) * scale);
  const inv = f32x4.splat(softmaxRow(sc, len));
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
 * fit this thread's scratch runs attendTwoPass, or attendGroup (the same bits) together with the
 * next items that have the same keys and length; a longer one an online softmax over blocks of
 * four keys accumulating into out (attendTile); headDim a multiple of 4; scale passed as f32 bits.
 * Each item's arithmetic depends on its own data only, whatever the order or the split: identical bits.
 * The (out, x, w, n, k, m, j0, j1) shape is the pool's calling convention: out = table,
 * n = headDim, k = scale bits, m = item count (x, w unused).
 */
export function attendItems(table: usize, x: usize, w: usize, headDim: i32, scaleBits: i32, m: i32, j0: i32, j1: i32): void {
  const scale = reinterpret<f32>(scaleBits);
  let it = j0;
  while (it < j1) {
    const e0 = table + <usize>it * 24, len0 = load<i32>(e0 + 20);
    if (len0 > 0 && it + 1 < j1) {
      // Items with the same keys and length (a GQA group's heads at one position, consecutive in
      // the table) whose score rows all fit the scratch: attendGroup, each with attendTwoPass's bits.
      const kb = <usize>load<u32>(e0 + 8), vb = <usize>load<u32>(e0 + 12), ob = <usize>load<u32>(e0 + 16);
      const rowBytes = <usize>((len0 + 3) & ~3) << 2;
      const room = scratchBytes > <usize>GROUP_MAX << 2 ? scratchBytes - (<usize>GROUP_MAX << 2) : 0;
      const fit = <i32>min<usize>(<usize>GROUP_MAX, room / rowBytes);
      let n = 1;
      while (n < fit && it + n < j1) {
        const f = e0 + <usize>n * 24;
        if (load<i32>(f + 20) != len0 || <usize>load<u32>(f + 8) != kb || <usize>load<u32>(f + 12) != vb || <usize>load<u32>(f + 16) != ob) break;
        n++;
      }
      if (n > 1) {
        attendGroup(e0, n, len0, rowBytes, kb, vb, ob, headDim, scale);
        it += n;
        continue;
      }
    }
    if (<usize>len0 << 2 <= scratchBytes) {
      // The query's scores fit this thread's scratch: the two-pass softmax (attendTwoPass).
      attendTwoPass(<usize>load<u32>(e0), <usize>load<u32>(e0 + 4), <usize>load<u32>(e0 + 8), <usize>load<u32>(e0 + 12), <usize>load<u32>(e0 + 16), len0, headDim, scale);
      it++;
      continue;
    }
    // Up to 4 consecutive items reading the same keys whose scores do not fit the scratch either
    // form a tile: each key block is loaded once for all of them. Each query's arithmetic is what
    // it is alone (same blocks in the same order), and whether an item takes this path depends on
    // its own length only, so neither tiling nor the split over threads changes a result.
    const e = table + <usize>it * 24;
    const kBase = <usize>load<u32>(e + 8), vBase = <usize>load<u32>(e + 12), offs = <usize>load<u32>(e + 16);
    let n = 1;
    while (n < 4 && it + n < j1) {
      const f = e + <usize>n * 24;
      if (<usize>load<u32>(f + 8) != kBase || <usize>load<u32>(f + 12) != vBase || <usize>load<u32>(f + 16) != offs) break;
      if (<usize>load<i32>(f + 20) << 2 <= scratchBytes) break;
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

/** Key i (1..3) of the block at op, or the block's first key (offset o0) past the c keys left. */
// @ts-ignore: decorator
@inline function keyRow(kBase: usize, op: usize, c: i32, i: i32, o0: usize): usize {
  return kBase + ((c > i ? <usize>load<i32>(op + (<usize>i << 2)) : o0) << 2);
}

/**
 * Scores of two queries (qa, qb) for keys j0..j1-1 (j0 a multiple of 4; keys from len on are not
 * read: the last block repeats key j0's row and its extra scores land in the row's padding), into
 * rows sa, sb: s_j = hsum4(Σ_d q·k_j lanes) · scale, the bits of attendTwoPass; each K load serves both.
 */
function scoresPair(qa: usize, qb: usize, sa: usize, sb: usize, kBase: usize, offs: usize, j0: i32, j1: i32, len: i32, headDim: i32, sv: v128): void {
  for (let j = j0; j < j1; j += 4) {
    const op = offs + (<usize>j << 2), c = len - j;
    const o0 = <usize>load<i32>(op);
    const k0 = kBase + (o0 << 2), k1 = keyRow(kBase, op, c, 1, o0), k2 = keyRow(kBase, op, c, 2, o0), k3 = keyRow(kBase, op, c, 3, o0);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    for (let o: usize = 0, e = <usize>headDim << 2; o < e; o += 16) {
      const x = v128.load(qa + o), y = v128.load(qb + o);
      let kv = v128.load(k0 + o);
      a0 = f32x4.add(a0, f32x4.mul(x, kv)); b0 = f32x4.add(b0, f32x4.mul(y, kv));
      kv = v128.load(k1 + o);
      a1 = f32x4.add(a1, f32x4.mul(x, kv)); b1 = f32x4.add(b1, f32x4.mul(y, kv));
      kv = v128.load(k2 + o);
      a2 = f32x4.add(a2, f32x4.mul(x, kv)); b2 = f32x4.add(b2, f32x4.mul(y, kv));
      kv = v128.load(k3 + o);
      a3 = f32x4.add(a3, f32x4.mul(x, kv)); b3 = f32x4.add(b3, f32x4.mul(y, kv));
    }
    const at = <usize>j << 2;
    v128.store(sa + at, f32x4.mul(hsum4x4(a0, a1, a2, a3), sv));
    v128.store(sb + at, f32x4.mul(hsum4x4(b0, b1, b2, b3), sv));
  }
}

/** scoresPair for one query. */
function scoresOne(q: usize, s: usize, kBase: usize, offs: usize, j0: i32, j1: i32, len: i32, headDim: i32, sv: v128): void {
  for (let j = j0; j < j1; j += 4) {
    const op = offs + (<usize>j << 2), c = len - j;
    const o0 = <usize>load<i32>(op);
    const k0 = kBase + (o0 << 2), k1 = keyRow(kBase, op, c, 1, o0), k2 = keyRow(kBase, op, c, 2, o0), k3 = keyRow(kBase, op, c, 3, o0);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let o: usize = 0, e = <usize>headDim << 2; o < e; o += 16) {
      const x = v128.load(q + o);
      a0 = f32x4.add(a0, f32x4.mul(x, v128.load(k0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(x, v128.load(k1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(x, v128.load(k2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(x, v128.load(k3 + o)));
    }
    v128.store(s + (<usize>j << 2), f32x4.mul(hsum4x4(a0, a1, a2, a3), sv));
  }
}

/**
 * A row of len scores s_j in place to p_j = expNeg(s_j - m), m = max s_j; returns 1 / Σ p_j with
 * the sum in attendTwoPass's order (four lane sums over the blocks of four, hsum4, then the tail).
 */
function softmaxRow(s: usize, len: i32): f32 {
  const len4 = len & ~3;
  let mx = f32x4.splat(-Infinity);
  for (let j = 0; j < len4; j += 4) mx = f32x4.max(mx, v128.load(s + (<usize>j << 2)));
  let m = hmax4(mx);
  for (let j = len4; j < len; j++) m = max(m, load<f32>(s + (<usize>j << 2)));
  const mv = f32x4.splat(m);
  let sumv = f32x4.splat(0);
  let j = 0;
  for (const len8 = len & ~7; j < len8; j += 8) {
    const at = s + (<usize>j << 2);
    const p = expNeg4(f32x4.sub(v128.load(at), mv)), r = expNeg4(f32x4.sub(v128.load(at, 16), mv));
    v128.store(at, p);
    v128.store(at, r, 16);
    sumv = f32x4.add(f32x4.add(sumv, p), r);
  }
  for (; j < len4; j += 4) {
    const p = expNeg4(f32x4.sub(v128.load(s + (<usize>j << 2)), mv));
    v128.store(s + (<usize>j << 2), p);
    sumv = f32x4.add(sumv, p);
  }
  let sum = hsum4(sumv);
  for (let j = len4; j < len; j++) {
    const p = expNeg(load<f32>(s + (<usize>j << 2)) - m);
    store<f32>(s + (<usize>j << 2), p);
    sum += p;
  }
  return <f32>1.0 / sum;
}

/**
 * Σ_j p_j v_j over keys j0..j1-1 for two queries (weight rows pa, pb) into their outputs, 16
 * dimensions at a time (then 8, then 4) in registers, each V load serving both: the running sums
 * start at 0 (first chunk) or at what out holds (an exact f32 round trip), the keys in order, so
 * each dimension's sum is attendTwoPass's; the last chunk stores them times inv.
 */
function weightedPair(oa: usize, ob: usize, pa: usize, pb: usize, vBase: usize, offs: usize, j0: i32, j1: i32, headDim: i32, first: bool, last: bool, ia: f32, ib: f32): void {
  const iva = f32x4.splat(last ? ia : 1), ivb = f32x4.splat(last ? ib : 1);
  let d0 = 0;
  for (; d0 + 16 <= headDim; d0 += 16) {
    const vo = vBase + (<usize>d0 << 2), xa = oa + (<usize>d0 << 2), xb = ob + (<usize>d0 << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    if (!first) {
      a0 = v128.load(xa); a1 = v128.load(xa, 16); a2 = v128.load(xa, 32); a3 = v128.load(xa, 48);
      b0 = v128.load(xb); b1 = v128.load(xb, 16); b2 = v128.load(xb, 32); b3 = v128.load(xb, 48);
    }
    for (let j = j0; j < j1; j++) {
      const at = <usize>j << 2, v = vo + (<usize>load<i32>(offs + at) << 2);
      const wa = v128.load32_splat(pa + at), wb = v128.load32_splat(pb + at);
      let x = v128.load(v);
      a0 = f32x4.add(a0, f32x4.mul(wa, x)); b0 = f32x4.add(b0, f32x4.mul(wb, x));
      x = v128.load(v, 16);
      a1 = f32x4.add(a1, f32x4.mul(wa, x)); b1 = f32x4.add(b1, f32x4.mul(wb, x));
      x = v128.load(v, 32);
      a2 = f32x4.add(a2, f32x4.mul(wa, x)); b2 = f32x4.add(b2, f32x4.mul(wb, x));
      x = v128.load(v, 48);
      a3 = f32x4.add(a3, f32x4.mul(wa, x)); b3 = f32x4.add(b3, f32x4.mul(wb, x));
    }
    if (last) {
      a0 = f32x4.mul(a0, iva); a1 = f32x4.mul(a1, iva); a2 = f32x4.mul(a2, iva); a3 = f32x4.mul(a3, iva);
      b0 = f32x4.mul(b0, ivb); b1 = f32x4.mul(b1, ivb); b2 = f32x4.mul(b2, ivb); b3 = f32x4.mul(b3, ivb);
    }
    v128.store(xa, a0); v128.store(xa, a1, 16); v128.store(xa, a2, 32); v128.store(xa, a3, 48);
    v128.store(xb, b0); v128.store(xb, b1, 16); v128.store(xb, b2, 32); v128.store(xb, b3, 48);
  }
  for (; d0 < headDim; d0 += 4) {
    const vo = vBase + (<usize>d0 << 2), xa = oa + (<usize>d0 << 2), xb = ob + (<usize>d0 << 2);
    let a = first ? f32x4.splat(0) : v128.load(xa), b = first ? f32x4.splat(0) : v128.load(xb);
    for (let j = j0; j < j1; j++) {
      const at = <usize>j << 2, x = v128.load(vo + (<usize>load<i32>(offs + at) << 2));
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(pa + at), x));
      b = f32x4.add(b, f32x4.mul(v128.load32_splat(pb + at), x));
    }
    if (last) { a = f32x4.mul(a, iva); b = f32x4.mul(b, ivb); }
    v128.store(xa, a); v128.store(xb, b);
  }
}

/** weightedPair for one query. */
function weightedOne(oa: usize, pa: usize, vBase: usize, offs: usize, j0: i32, j1: i32, headDim: i32, first: bool, last: bool, ia: f32): void {
  const iva = f32x4.splat(last ? ia : 1);
  let d0 = 0;
  for (; d0 + 16 <= headDim; d0 += 16) {
    const vo = vBase + (<usize>d0 << 2), xa = oa + (<usize>d0 << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    if (!first) { a0 = v128.load(xa); a1 = v128.load(xa, 16); a2 = v128.load(xa, 32); a3 = v128.load(xa, 48); }
    for (let j = j0; j < j1; j++) {
      const at = <usize>j << 2, v = vo + (<usize>load<i32>(offs + at) << 2), wa = v128.load32_splat(pa + at);
      a0 = f32x4.add(a0, f32x4.mul(wa, v128.load(v))); a1 = f32x4.add(a1, f32x4.mul(wa, v128.load(v, 16)));
      a2 = f32x4.add(a2, f32x4.mul(wa, v128.load(v, 32))); a3 = f32x4.add(a3, f32x4.mul(wa, v128.load(v, 48)));
    }
    if (last) { a0 = f32x4.mul(a0, iva); a1 = f32x4.mul(a1, iva); a2 = f32x4.mul(a2, iva); a3 = f32x4.mul(a3, iva); }
    v128.store(xa, a0); v128.store(xa, a1, 16); v128.store(xa, a2, 32); v128.store(xa, a3, 48);
  }
  for (; d0 < headDim; d0 += 4) {
    const vo = vBase + (<usize>d0 << 2), xa = oa + (<usize>d0 << 2);
    let a = first ? f32x4.splat(0) : v128.load(xa);
    for (let j = j0; j < j1; j++) {
      const at = <usize>j << 2;
      a = f32x4.add(a, f32x4.mul(v128.load32_splat(pa + at), v128.load(vo + (<usize>load<i32>(offs + at) << 2))));
    }
    if (last) a = f32x4.mul(a, iva);
    v128.store(xa, a);
  }
}

/**
 * n (2..GROUP_MAX) items at e with the same keys (kBase, vBase, offs, len >= 1: the query heads of
 * one GQA group at one position), each with attendTwoPass's arithmetic, but each chunk of keys
 * read by all of them while it is in L1, two queries per pass sharing every K and V load. Score
 * rows of rowBytes each at the scratch's start, the 1/Σ of each query after them.
 */
function attendGroup(e: usize, n: i32, len: i32, rowBytes: usize, kBase: usize, vBase: usize, offs: usize, headDim: i32, scale: f32): void {
  const sc = scratch, inv = sc + <usize>n * rowBytes, sv = f32x4.splat(scale);
  for (let c0 = 0; c0 < len; c0 += CHUNK) {
    const c1 = min(c0 + CHUNK, len);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const f = e + <usize>i * 24, s = sc + <usize>i * rowBytes;
      scoresPair(<usize>load<u32>(f + 4), <usize>load<u32>(f + 28), s, s + rowBytes, kBase, offs, c0, c1, len, headDim, sv);
    }
    if (i < n) scoresOne(<usize>load<u32>(e + <usize>i * 24 + 4), sc + <usize>i * rowBytes, kBase, offs, c0, c1, len, headDim, sv);
  }
  for (let i = 0; i < n; i++) store<f32>(inv + (<usize>i << 2), softmaxRow(sc + <usize>i * rowBytes, len));
  for (let c0 = 0; c0 < len; c0 += CHUNK) {
    const c1 = min(c0 + CHUNK, len), first = c0 == 0, last = c1 == len;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const f = e + <usize>i * 24, s = sc + <usize>i * rowBytes;
      weightedPair(<usize>load<u32>(f), <usize>load<u32>(f + 24), s, s + rowBytes, vBase, offs, c0, c1, headDim, first, last,
        load<f32>(inv + (<usize>i << 2)), load<f32>(inv + (<usize>i << 2), 4));
    }
    if (i < n) weightedOne(<usize>load<u32>(e + <usize>i * 24), sc + <usize>i * rowBytes, vBase, offs, c0, c1, headDim, first, last, load<f32>(inv + (<usize>i << 2)));
  }
}
