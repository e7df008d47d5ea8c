/**
 * Built-in mods, written exactly as a user would write one: a single-expression function whose
 * closed-over values are passed in params under the same names (so codegen can inline them).
 */
import { dpow } from "../../../src/util/det-math.ts";
import { and, maskMod, or, scoreMod, type MaskMod, type ScoreMod } from "./mods.ts";

/** kvIdx <= qIdx. */
export function causal(): MaskMod {
  return maskMod((b, h, qIdx, kvIdx) => kvIdx <= qIdx, {}, "causal");
}

/** A query sees the `windowSize` positions ending at itself (and, left alone, any later ones: combine with causal()). */
export function slidingWindow(windowSize: number): MaskMod {
  if (!Number.isInteger(windowSize) || windowSize < 1) throw new RangeError(`sliding_window: window must be a positive integer, got ${windowSize}`);
  return maskMod((b, h, qIdx, kvIdx) => qIdx - kvIdx < windowSize, { windowSize }, `sliding_window(${windowSize})`);
}

/** Prefix-LM: the first prefixLen positions are visible to every query (bidirectional prefix), the rest causally. */
export function prefixLm(prefixLen: number): MaskMod {
  if (!Number.isInteger(prefixLen) || prefixLen < 0) throw new RangeError(`prefix_lm: prefix_len must be an integer >= 0, got ${prefixLen}`);
  return or(maskMod((b, h, qIdx, kvIdx) => kvIdx < prefixLen, { prefixLen }, `prefix(${prefixLen})`), causal());
}

/** Document masking for packed sequences: attend only within the same document (documentIds per position). */
export function documentMask(documentIds: ArrayLike<number>): MaskMod {
  const ids = Int32Array.from(documentIds as ArrayLike<number>);
  return maskMod((b, h, qIdx, kvIdx) => ids[qIdx] === ids[kvIdx], { ids }, `document(${ids.length} positions)`);
}

/** ALiBi slopes for n heads (Press et al.): 2^(-8/n · (h+1)), interleaved for n not a power of two. */
export function alibiSlopes(numHeads: number, maxBias = 8): Float64Array {
  let pow2 = 1;
  while (pow2 * 2 <= numHeads) pow2 *= 2;
  const base = (n: number) => Array.from({ length: n }, (_, i) => dpow(2, (-maxBias / n) * (i + 1)));
  const slopes = base(pow2);
  if (pow2 < numHeads) slopes.push(...base(2 * pow2).filter((_, i) => i % 2 === 0).slice(0, numHeads - pow2));
  return Float64Array.from(slopes);
}

/** ALiBi: score + slope_h · (kvIdx - qIdx), a linear penalty on distance per head. */
export function alibi(numHeads: number, maxBias = 8): ScoreMod {
  const slopes = alibiSlopes(numHeads, maxBias);
  return scoreMod((score, b, h, qIdx, kvIdx) => score + slopes[h]! * (kvIdx - qIdx), { slopes }, `alibi(${numHeads})`);
}

/** Logit soft-capping (Gemma 2, Grok): cap · tanh(score / cap). */
export function tanhSoftCap(cap: number): ScoreMod {
  if (!(cap > 0)) throw new RangeError(`tanh_soft_cap: cap must be > 0, got ${cap}`);
  return scoreMod((score) => cap * Math.tanh(score / cap), { cap }, `tanh_soft_cap(${cap})`);
}

/** Learned relative position bias by distance: score + bias[min(|qIdx - kvIdx|, bias.length - 1)]. */
export function relativePositionBias(bias: ArrayLike<number>): ScoreMod {
  const table = Float64Array.from(bias as ArrayLike<number>);
  if (table.length === 0) throw new RangeError("relative_position_bias: bias must have at least one entry");
  return scoreMod((score, b, h, qIdx, kvIdx) => score + table[Math.min(Math.abs(qIdx - kvIdx), table.length - 1)]!, { table }, `relative_position_bias(${table.length})`);
}

/** Sliding window with causality, as models use it. */
export function causalSlidingWindow(windowSize: number): MaskMod {
  return and(causal(), slidingWindow(windowSize));
}
