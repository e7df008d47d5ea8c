/**
 * FlashInfer's plan parameters, resolved from the model's AttentionShape and the models.yaml
 * options (`plugins: { attention: { name: flashinfer, window_left: 4095, cascade: false } }`).
 */
import type { AttentionShape } from "../../../src/plugin/types.ts";

export interface FlashInferOptions {
  /** A query at position p sees KV positions p - windowLeft .. p; -1 = unbounded (FlashInfer's convention). */
  windowLeft: number;
  /** cap * tanh(score / cap) on the scaled logits; 0 = off. */
  logitsSoftCap: number;
  smScale: number;
  /** Detect shared prefixes (identical leading block ids) and attend them once per group. */
  cascade: boolean;
  /** Split-KV partition length in tokens (a multiple of the page size is used); null = chosen by plan. */
  kvChunkSize: number | null;
  /** Parallel lanes the plan schedules partitions onto (threads later; today they run in turn). */
  numWorkers: number;
  /** Shortest partition the automatic split makes, in tokens. */
  minKvChunkSize: number;
}

const KEYS = ["window_left", "logits_soft_cap", "sm_scale", "cascade", "kv_chunk_size", "num_workers", "min_kv_chunk_size"];

/** Resolve options; every problem is a reason for check() (never thrown). */
export function resolveFlashInferOptions(shape: AttentionShape): { options: FlashInferOptions; reasons: string[] } {
  const reasons: string[] = [];
  const raw = shape.options ?? {};
  for (const k of Object.keys(raw)) if (!KEYS.includes(k)) reasons.push(`flashinfer: unknown option '${k}'; accepted: ${KEYS.join(", ")}`);
  const num = (k: string, ok: (n: number) => boolean, what: string): number | undefined => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !ok(v)) { reasons.push(`flashinfer: option ${k} must be ${what}, got ${JSON.stringify(v)}`); return undefined; }
    return v;
  };
  const modelWindowLeft = shape.slidingWindow === null ? -1 : shape.slidingWindow - 1;
  const windowLeft = num("window_left", (n) => Number.isInteger(n) && n >= -1, "an integer >= -1") ?? modelWindowLeft;
  if (modelWindowLeft >= 0 && windowLeft !== modelWindowLeft) reasons.push(`flashinfer: window_left ${windowLeft} contradicts the model's sliding window of ${shape.slidingWindow} tokens`);
  const modelCap = shape.logitsSoftCap ?? 0;
  const logitsSoftCap = num("logits_soft_cap", (n) => n >= 0 && Number.isFinite(n), "a number >= 0") ?? modelCap;
  if (modelCap > 0 && logitsSoftCap !== modelCap) reasons.push(`flashinfer: logits_soft_cap ${logitsSoftCap} contradicts the model's ${modelCap}`);
  const smScale = num("sm_scale", (n) => n > 0 && Number.isFinite(n), "a positive number") ?? shape.smScale;
  const cascadeRaw = raw.cascade;
  if (cascadeRaw !== undefined && typeof cascadeRaw !== "boolean") reasons.push(`flashinfer: option cascade must be true or false`);
  const kvChunkSize = num("kv_chunk_size", (n) => Number.isInteger(n) && n >= 1, "a positive integer") ?? null;
  const numWorkers = num("num_workers", (n) => Number.isInteger(n) && n >= 1 && n <= 1024, "an integer in 1..1024") ?? 1;
  const minKvChunkSize = num("min_kv_chunk_size", (n) => Number.isInteger(n) && n >= 1, "a positive integer") ?? 256;
  return {
    options: { windowLeft, logitsSoftCap, smScale, cascade: cascadeRaw !== false, kvChunkSize, numWorkers, minKvChunkSize },
    reasons,
  };
}
