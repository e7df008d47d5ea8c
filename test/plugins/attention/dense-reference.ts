/**
 * The oracle: dense attention in f64 over each request's logical K/V (positions 0..seqLen-1),
 * written as plainly as possible. Math.exp/Math.tanh on purpose: it shares no code with the plugins.
 */
export interface DenseOptions {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  smScale: number;
  causal: boolean;
  slidingWindow: number | null;
  logitsSoftCap: number | null;
  /** FlexAttention-style mods, applied after scale and soft-cap. */
  scoreMod?: (score: number, b: number, h: number, qIdx: number, kvIdx: number) => number;
  maskMod?: (b: number, h: number, qIdx: number, kvIdx: number) => boolean;
}

/** One request: its queries ([qLen, numHeads*headDim]) at positions qPos, and K/V rows per position. */
export interface DenseRequest {
  q: Float64Array;
  qPos: number[];
  k: Float64Array; // [seqLen, numKvHeads*headDim]
  v: Float64Array;
  seqLen: number;
}

/** out [qLen, numHeads*headDim] per request; a query that sees nothing gets zeros. */
export function denseAttention(reqs: DenseRequest[], o: DenseOptions): Float64Array[] {
  const { numHeads, numKvHeads, headDim: D } = o;
  const group = numHeads / numKvHeads, kvDim = numKvHeads * D;
  return reqs.map((r, b) => {
    const out = new Float64Array(r.qPos.length * numHeads * D);
    for (let i = 0; i < r.qPos.length; i++) {
      const qp = r.qPos[i]!;
      for (let h = 0; h < numHeads; h++) {
        const kvh = Math.floor(h / group);
        const scores: number[] = [];
        const keep: number[] = [];
        for (let j = 0; j < r.seqLen; j++) {
          if (o.causal && j > qp) continue;
          if (o.slidingWindow !== null && j < qp - o.slidingWindow + 1) continue;
          if (o.maskMod && !o.maskMod(b, h, qp, j)) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += r.q[(i * numHeads + h) * D + d]! * r.k[j * kvDim + kvh * D + d]!;
          s *= o.smScale;
          if (o.logitsSoftCap) s = o.logitsSoftCap * Math.tanh(s / o.logitsSoftCap);
          if (o.scoreMod) s = o.scoreMod(s, b, h, qp, j);
          scores.push(s);
          keep.push(j);
        }
        if (keep.length === 0) continue;
        const max = Math.max(...scores);
        const w = scores.map((s) => Math.exp(s - max));
        const sum = w.reduce((a, c) => a + c, 0);
        for (let n = 0; n < keep.length; n++) {
          const vo = keep[n]! * kvDim + kvh * D;
          for (let d = 0; d < D; d++) out[(i * numHeads + h) * D + d] += (w[n]! / sum) * r.v[vo + d]!;
        }
      }
    }
    return out;
  });
}
