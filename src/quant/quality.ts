/**
 * Quality of a quantized model against its f32 original: next-token distributions compared by
 * KL divergence KL(P_f32 || P_quant) (nats, from log-softmax in f64) and greedy top-1 agreement,
 * teacher-forced on the same token sequences.
 */
import type { LlamaModel } from "../model/llama.ts";
import type { AttentionImpl } from "../plugin/types.ts";
import { singleRequestInput } from "../runner/model-input.ts";

function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
  return out;
}

/** KL(P || Q) in nats for P = softmax(ref), Q = softmax(test). */
export function klDivergence(ref: Float32Array, test: Float32Array): number {
  const lp = logSoftmax(ref), lq = logSoftmax(test);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) {
    const p = Math.exp(lp[i]!);
    if (p > 0) kl += p * (lp[i]! - lq[i]!);
  }
  return Math.max(0, kl);
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface LogitsComparison {
  positions: number;
  meanKl: number;
  maxKl: number;
  /** Fraction of positions whose argmax agrees. */
  top1: number;
}

export function compareLogits(ref: readonly Float32Array[], test: readonly Float32Array[]): LogitsComparison {
  if (ref.length !== test.length) throw new RangeError(`compareLogits: ${ref.length} reference rows, ${test.length} test rows`);
  let sum = 0, max = 0, agree = 0;
  for (let i = 0; i < ref.length; i++) {
    const kl = klDivergence(ref[i]!, test[i]!);
    sum += kl;
    max = Math.max(max, kl);
    if (argmax(ref[i]!) === argmax(test[i]!)) agree++;
  }
  const n = ref.length;
  return { positions: n, meanKl: n ? sum / n : 0, maxKl: max, top1: n ? agree / n : 1 };
}

/** Merges per-sequence comparisons, weighting by positions. */
export function mergeComparisons(parts: readonly LogitsComparison[]): LogitsComparison {
  const n = parts.reduce((a, p) => a + p.positions, 0);
  const w = (f: (p: LogitsComparison) => number) => (n ? parts.reduce((a, p) => a + f(p) * p.positions, 0) / n : 0);
  return { positions: n, meanKl: w((p) => p.meanKl), maxKl: Math.max(0, ...parts.map((p) => p.maxKl)), top1: n ? w((p) => p.top1) : 1 };
}

/**
 * Runs `ids` through the model in one prefill (a fresh cache) and returns the logits rows at
 * `rows` (row r predicts token r + 1).
 */
export async function teacherForcedLogits(model: LlamaModel, attn: AttentionImpl, ids: readonly number[], rows: readonly number[]): Promise<Float32Array[]> {
  const blockSize = 16;
  const numBlocks = Math.ceil(ids.length / blockSize);
  const cache = attn.allocateKvCache(numBlocks + 1, blockSize);
  try {
    const blockIds = Array.from({ length: numBlocks }, (_, i) => i + 1);
    const input = { ...singleRequestInput([...ids], 0, blockIds, blockSize), logitsIndices: Int32Array.from(rows) };
    const out = model.forward(input, attn, cache);
    const vocab = model.config.vocabSize;
    const all = (await model.backend.read(out, rows.length * vocab)) as Float32Array;
    return rows.map((_, i) => all.slice(i * vocab, (i + 1) * vocab));
  } finally {
    for (const [k, v] of cache.layers) { model.backend.free(k); model.backend.free(v); }
  }
}
