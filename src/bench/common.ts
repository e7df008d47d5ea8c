import type { LLMEngine } from "../engine/llm-engine.ts";
import type { RequestOutput } from "../engine/request-output.ts";
import type { SamplingParams } from "../sampling/params.ts";
import { Prng } from "../sampling/prng.ts";
import { UsageError } from "../util/errors.ts";

/** What every benchmark line starts with: which model and which plugins ran it. */
export function modelInfo(engine: LLMEngine, model: string) {
  const sel = engine.loaded.selection;
  return { model, backend: sel.backendPlugin.name, attention: sel.attention.name, quant: sel.quant.name };
}

/**
 * `numPrompts` prompts of `inputLen` random token ids (seeded, so no tokenizer effects), whose first
 * `sharedPrefixLen` ids are the same for all. BOS/EOS ids are avoided.
 */
export function randomPrompts(o: { numPrompts: number; inputLen: number; sharedPrefixLen?: number; vocabSize: number; seed: number; exclude?: readonly number[] }): number[][] {
  const rng = new Prng(o.seed);
  const skip = new Set(o.exclude ?? []);
  const draw = () => {
    for (;;) {
      const id = Math.floor(rng.nextFloat() * o.vocabSize);
      if (!skip.has(id) || skip.size >= o.vocabSize) return id;
    }
  };
  const prefix = Array.from({ length: o.sharedPrefixLen ?? 0 }, draw);
  return Array.from({ length: o.numPrompts }, () => [...prefix, ...Array.from({ length: o.inputLen - prefix.length }, draw)]);
}

/** Special ids a random prompt should not contain. */
export function specialIds(engine: LLMEngine): number[] {
  const t = engine.tokenizer;
  return [t.bosId, t.eosId].filter((x): x is number => typeof x === "number");
}

/** UsageError unless every request fits: input + output within max_model_len, lengths positive. */
export function checkLengths(engine: LLMEngine, inputLen: number, outputLen: number): void {
  if (!Number.isInteger(inputLen) || inputLen < 1) throw new UsageError(`invalid input length ${inputLen}; accepted: an integer >= 1`);
  if (!Number.isInteger(outputLen) || outputLen < 1) throw new UsageError(`invalid output length ${outputLen}; accepted: an integer >= 1`);
  if (inputLen + outputLen > engine.maxModelLen) {
    throw new UsageError(`input length ${inputLen} + output length ${outputLen} exceeds max_model_len ${engine.maxModelLen}`);
  }
}

/** Sampling for benchmark requests: exactly `outputLen` tokens (EOS ignored), no stop conditions. */
export function benchSampling(outputLen: number, temperature: number, seed: number): Partial<SamplingParams> {
  return { temperature, topP: 1, topK: 0, maxTokens: outputLen, ignoreEos: true, stop: [], stopTokenIds: [], seed };
}

/** Timestamps (ms, performance.now()) of one benchmark request, from its delta outputs. */
export interface RequestRecord {
  arrival: number;
  first: number | null;
  last: number;
  numTokens: number;
  /** Gaps between successive token outputs, per token. */
  itls: number[];
  numCachedTokens: number;
  finished: boolean;
}

export function newRecord(arrival: number): RequestRecord {
  return { arrival, first: null, last: arrival, numTokens: 0, itls: [], numCachedTokens: 0, finished: false };
}

/** Applies one step's delta outputs at time `now`; returns how many requests finished. */
export function recordOutputs(records: ReadonlyMap<string, RequestRecord>, outs: readonly RequestOutput[], now: number): number {
  let finished = 0;
  for (const o of outs) {
    const r = records.get(o.requestId);
    if (!r) continue;
    const k = o.outputs.reduce((a, c) => a + c.tokenIds.length, 0);
    if (k > 0) {
      if (r.first === null) r.first = now;
      else for (let i = 0; i < k; i++) r.itls.push((now - r.last) / k);
      r.last = now;
      r.numTokens += k;
    }
    if (o.finished && !r.finished) {
      r.finished = true;
      r.numCachedTokens = o.metrics.numCachedTokens;
      finished++;
    }
  }
  return finished;
}
