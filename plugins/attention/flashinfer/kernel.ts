/**
 * The FlashAttention inner loop on the CPU: a tile of query "lanes" (query row × head of one KV
 * head's group) attends to a run of KV tokens with an online softmax (running max m, running sum l,
 * unnormalised accumulator acc). One call per KV block (a page, or a slice of this step's ragged K/V);
 * the score matrix of the block is computed lanes × tokens like a small matrix product, register-
 * blocked 4 lanes × 4 keys so each loaded element feeds four multiply-adds.
 * All arithmetic in f64 with det-math's exp, so every runtime gives the same bits.
 */
import { dexp } from "../../../src/util/det-math.ts";
import { pvBlock, qkBlock } from "./tile-math.ts";

/** Softmax scale, soft-cap (0 = none) and left window (-1 = none), FlashInfer's names. */
export interface KernelParams {
  headDim: number;
  smScale: number;
  logitsSoftCap: number;
  windowLeft: number;
}

/** e-based tanh from det-math's exp (identical bits on every runtime). */
export function dtanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  const e = dexp(-2 * Math.abs(x));
  const t = (1 - e) / (1 + e);
  return x < 0 ? -t : t;
}

/** Online-softmax state of up to `capacity` lanes, reused across tiles and layers. */
export class TileState {
  n = 0;
  m = new Float64Array(0);
  l = new Float64Array(0);
  acc = new Float64Array(0);
  /** Offset of each lane's query vector in q; the lane's query position (for causal/window masks). */
  laneQOff = new Int32Array(0);
  laneQPos = new Int32Array(0);
  scores = new Float64Array(0);

  reset(n: number, headDim: number, maxBlock: number): void {
    if (this.m.length < n) {
      this.m = new Float64Array(n); this.l = new Float64Array(n);
      this.laneQOff = new Int32Array(n); this.laneQPos = new Int32Array(n);
    }
    if (this.acc.length < n * headDim) this.acc = new Float64Array(n * headDim);
    if (this.scores.length < n * maxBlock) this.scores = new Float64Array(n * maxBlock);
    this.n = n;
    this.m.fill(-Infinity, 0, n);
    this.l.fill(0, 0, n);
    this.acc.fill(0, 0, n * headDim);
  }
}

/** Attend every lane to `count` KV tokens at positions pos0.., whose K/V rows start at kvOff + j * stride. */
export function attendBlock(
  st: TileState, p: KernelParams, q: Float32Array, k: Float32Array, v: Float32Array,
  kvOff: number, stride: number, count: number, pos0: number,
): void {
  const D = p.headDim, n = st.n, sc = st.scores;
  // 1. S = Q · K^T. 2. Scale, soft-cap, mask (causal: kv <= q; window: kv >= q - windowLeft), online softmax.
  const { smScale, logitsSoftCap: cap, windowLeft } = p;
  qkBlock(sc, q, st.laneQOff, n, k, kvOff, stride, count, D);
  for (let l = 0; l < n; l++) {
    const qp = st.laneQPos[l]!, base = l * count;
    const jHi = Math.min(count, qp - pos0 + 1);
    const jLo = windowLeft >= 0 ? Math.max(0, qp - windowLeft - pos0) : 0;
    let mx = -Infinity;
    for (let j = jLo; j < jHi; j++) {
      let s = sc[base + j]! * smScale;
      if (cap > 0) s = cap * dtanh(s / cap);
      sc[base + j] = s;
      if (s > mx) mx = s;
    }
    for (let j = 0; j < jLo && j < count; j++) sc[base + j] = 0;
    for (let j = Math.max(jHi, 0); j < count; j++) sc[base + j] = 0;
    if (mx === -Infinity) continue;
    const mOld = st.m[l]!;
    const mNew = mOld > mx ? mOld : mx;
    let sum = 0;
    for (let j = jLo; j < jHi; j++) { const e = dexp(sc[base + j]! - mNew); sc[base + j] = e; sum += e; }
    if (mOld !== mNew) {
      const alpha = mOld === -Infinity ? 0 : dexp(mOld - mNew);
      st.l[l] = st.l[l]! * alpha;
      const ao = l * D;
      for (let d = 0; d < D; d++) st.acc[ao + d] = st.acc[ao + d]! * alpha;
    }
    st.l[l] = st.l[l]! + sum;
    st.m[l] = mNew;
  }
  // 3. acc += P · V.
  pvBlock(st.acc, sc, n, v, kvOff, stride, count, D);
}
