/**
 * Code generation: one kernel per (score mod, mask mod), built with `new Function`, with the mods'
 * expressions pasted into its loops (no call per element). It exports
 *   attendBlock(st, q, k, v, kvOff, stride, count, pos0, full, b): one KV block for a tile of lanes,
 *     FlashAttention-style: S = Q·K^T (shared tile math), then the generated part (scale, score
 *     mod, mask, online softmax; a full block skips the mask), then acc += P·V,
 *   classify(b, heads, nHeads, qPos, q0, q1, kv0, kv1): 0 empty, 1 partial, 2 full (for the block mask).
 * Arithmetic is f64 with det-math's exp (D.exp), identical on every runtime.
 */
import { dcos, dexp, dlog, dpow, dsin } from "../../../src/util/det-math.ts";
import { pvBlock, qkBlock } from "../flashinfer/tile-math.ts";
import { ModCompilation } from "./compile-mods.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";
import type { FlexTile } from "./tile.ts";

export interface FlexKernel {
  attendBlock(st: FlexTile, q: Float32Array, k: Float32Array, v: Float32Array, kvOff: number, stride: number, count: number, pos0: number, full: boolean, b: number): void;
  classify(b: number, heads: Int32Array, nHeads: number, qPos: Int32Array, q0: number, q1: number, kv0: number, kv1: number): 0 | 1 | 2;
  /** Whether the mask reads h (then the block mask is built per KV head). */
  readonly maskUsesHead: boolean;
  /** The generated source (for --explain and tests), and mods that could not be inlined. */
  readonly source: string;
  readonly notes: readonly string[];
}

function dtanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  const e = dexp(-2 * Math.abs(x));
  const t = (1 - e) / (1 + e);
  return x < 0 ? -t : t;
}

/** det-math for generated code: D.exp etc. */
export const DET = Object.freeze({ exp: dexp, log: dlog, tanh: dtanh, pow: dpow, sin: dsin, cos: dcos });

export function generateKernel(score: ScoreMod | undefined, mask: MaskMod | undefined, smScale: number): FlexKernel {
  const c = new ModCompilation();
  const scoreStmts = c.score(score).join("\n          ");
  const maskExpr = c.mask(mask);
  const hoist = [...c.consts.keys()].map((k) => `const ${k} = P.${k};`).join("\n");
  const source = `"use strict";
${hoist}
const SM_SCALE = ${smScale};
function attendBlock(st, q, k, v, kvOff, stride, count, pos0, full, b) {
  const HD = st.headDim, n = st.n, sc = st.scores, laneH = st.laneH, laneQPos = st.laneQPos;
  const M = st.m, L = st.l, acc = st.acc;
  QK(sc, q, st.laneQOff, n, k, kvOff, stride, count, HD);
  for (let l = 0; l < n; l++) {
    const h = laneH[l], q_idx = laneQPos[l], base = l * count;
    let mx = -Infinity;
    if (full) {
      for (let j = 0; j < count; j++) {
        const kv_idx = pos0 + j;
        let score = sc[base + j] * SM_SCALE;
          ${scoreStmts}
        sc[base + j] = score;
        if (score > mx) mx = score;
      }
    } else {
      for (let j = 0; j < count; j++) {
        const kv_idx = pos0 + j;
        if (!(${maskExpr})) { sc[base + j] = -Infinity; continue; }
        let score = sc[base + j] * SM_SCALE;
          ${scoreStmts}
        sc[base + j] = score;
        if (score > mx) mx = score;
      }
    }
    if (mx === -Infinity) { for (let j = 0; j < count; j++) sc[base + j] = 0; continue; }
    const mOld = M[l], mNew = mOld > mx ? mOld : mx;
    let sum = 0;
    for (let j = 0; j < count; j++) { const e = D.exp(sc[base + j] - mNew); sc[base + j] = e; sum += e; }
    if (mOld !== mNew) {
      const alpha = mOld === -Infinity ? 0 : D.exp(mOld - mNew);
      L[l] *= alpha;
      for (let d = 0, ao = l * HD; d < HD; d++) acc[ao + d] *= alpha;
    }
    L[l] += sum;
    M[l] = mNew;
  }
  PV(acc, sc, n, v, kvOff, stride, count, HD);
}
function classify(b, heads, nHeads, qPos, q0, q1, kv0, kv1) {
  let any = false, all = true;
  for (let hi = 0; hi < nHeads; hi++) {
    const h = heads[hi];
    for (let qi = q0; qi < q1; qi++) {
      const q_idx = qPos[qi];
      for (let kv_idx = kv0; kv_idx < kv1; kv_idx++) {
        if (${maskExpr}) any = true; else all = false;
        if (any && !all) return 1;
      }
    }
  }
  return any ? (all ? 2 : 1) : 0;
}
return { attendBlock, classify };`;
  const P = Object.fromEntries(c.consts);
  const made = new Function("P", "F", "D", "Math", "QK", "PV", source)(P, c.fallbacks, DET, Math, qkBlock, pvBlock) as Pick<FlexKernel, "attendBlock" | "classify">;
  return { ...made, maskUsesHead: c.maskUses.has("h"), source, notes: c.notes };
}
