import type { SamplingParams } from "./params.ts";
import type { Prng } from "./prng.ts";
import { dexp } from "../util/det-math.ts";

/** What the sampler needs of a request besides its logits. */
export interface SamplingContext {
  params: SamplingParams;
  promptTokenIds: readonly number[];
  outputTokenIds: readonly number[];
  rng: Prng;
}

/**
 * Whether sampling with these params needs the logits row on the host: anything but plain greedy
 * (temperature 0 with no bias or penalties) and no log-probabilities asked for. Plain greedy can be
 * done on the device (BackendOps.argmaxRows).
 */
export function needsLogitsRow(p: SamplingParams): boolean {
  const bias = p.logitBias != null && Object.keys(p.logitBias).length > 0;
  return p.temperature !== 0 || bias || p.repetitionPenalty !== 1 || p.frequencyPenalty !== 0 || p.presencePenalty !== 0 || p.logprobs != null;
}

/** Index of the largest value; ties go to the lowest index. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Apply penalties in place (vLLM semantics): repetition penalty over prompt and output tokens
 * (divide positive logits, multiply negative ones), then frequency (per occurrence) and presence
 * (once) penalties over output tokens.
 */
export function applyPenalties(logits: Float64Array, ctx: SamplingContext): void {
  const { repetitionPenalty: rp, frequencyPenalty: fp, presencePenalty: pp } = ctx.params;
  if (rp !== 1) {
    const seen = new Set<number>([...ctx.promptTokenIds, ...ctx.outputTokenIds]);
    for (const id of seen) {
      if (id < 0 || id >= logits.length) continue;
      const l = logits[id]!;
      logits[id] = l > 0 ? l / rp : l * rp;
    }
  }
  if (fp !== 0 || pp !== 0) {
    const counts = new Map<number, number>();
    for (const id of ctx.outputTokenIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, c] of counts) {
      if (id < 0 || id >= logits.length) continue;
      logits[id] = logits[id]! - fp * c - pp;
    }
  }
}

/** Add OpenAI-style logit_bias (token id → bias) in place; ids outside the vocabulary are ignored. */
export function applyLogitBias(logits: Float64Array, bias: Readonly<Record<number, number>> | null | undefined): void {
  if (!bias) return;
  for (const [k, b] of Object.entries(bias)) {
    const id = Number(k);
    if (id >= 0 && id < logits.length) logits[id] = logits[id]! + b;
  }
}

/**
 * Pick the next token. Order as in vLLM: logit bias, penalties, then greedy when temperature is 0; otherwise
 * temperature, min-p, top-k, top-p, and a draw from the request's seeded generator.
 */
export function sampleToken(rawLogits: Float32Array, ctx: SamplingContext): number {
  // Plain greedy: the argmax of the row as it is (widening to f64 changes no comparison).
  if (!needsLogitsRow(ctx.params)) return argmax(rawLogits);
  const logits = Float64Array.from(rawLogits);
  applyLogitBias(logits, ctx.params.logitBias);
  applyPenalties(logits, ctx);
  const { temperature, topK, topP, minP } = ctx.params;
  if (temperature === 0) return argmax(logits);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const probs = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) probs[i] = dexp((logits[i]! - max) / temperature);
  // Candidates in order of decreasing probability (ties: lower id first).
  let cand: number[] = [];
  const cutoff = minP > 0 ? minP : 0; // max prob is exp(0) = 1 before normalisation
  for (let i = 0; i < probs.length; i++) if (probs[i]! >= cutoff && probs[i]! > 0) cand.push(i);
  const needSort = (topK > 0 && topK < cand.length) || topP < 1;
  if (needSort) {
    cand.sort((a, b) => probs[b]! - probs[a]! || a - b);
    if (topK > 0 && topK < cand.length) cand = cand.slice(0, topK);
    if (topP < 1) {
      let total = 0;
      for (const i of cand) total += probs[i]!;
      let cum = 0;
      let keep = 0;
      while (keep < cand.length) {
        cum += probs[cand[keep]!]!;
        keep++;
        if (cum / total >= topP) break;
      }
      cand = cand.slice(0, keep);
    }
  }
  let total = 0;
  for (const i of cand) total += probs[i]!;
  let u = ctx.rng.nextFloat() * total;
  for (const i of cand) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return cand[cand.length - 1]!;
}
