import type { LLMEngine } from "../engine/llm-engine.ts";
import { UsageError } from "../util/errors.ts";
import { benchSampling, checkLengths, modelInfo, newRecord, randomPrompts, recordOutputs, specialIds, type RequestRecord } from "./common.ts";
import { round, summarize, type Summary } from "./stats.ts";

export interface ThroughputOptions {
  numPrompts: number;
  inputLen: number;
  outputLen: number;
  /** Most requests in flight at once (default: all of them). */
  maxConcurrency?: number;
  /** The first this-many prompt tokens are the same for every prompt (default 0). */
  sharedPrefixLen?: number;
  seed: number;
  /** 0 = greedy; default 1 (random sampling, seeded per request). */
  temperature?: number;
}

export interface ThroughputResult {
  model: string; backend: string; attention: string; quant: string;
  num_prompts: number; concurrency: number; input_len: number; output_len: number; shared_prefix_len: number; temperature: number;
  elapsed_s: number; requests_per_s: number; output_tok_per_s: number; total_tok_per_s: number;
  num_input_tokens: number; num_output_tokens: number;
  ttft_ms: Summary; itl_ms: Summary; e2e_ms: Summary;
  prefix_cache_hit_rate: number; peak_kv_usage: number; num_preemptions: number;
}

/**
 * vLLM's throughput benchmark on the engine core: random token-id prompts, every request generating
 * exactly `outputLen` tokens, at most `maxConcurrency` in flight (a new one is added as soon as one
 * finishes). TTFT, ITL and end-to-end latency come from the times each step's delta outputs return.
 */
export async function runThroughput(engine: LLMEngine, model: string, o: ThroughputOptions): Promise<ThroughputResult> {
  const n = o.numPrompts;
  const prefixLen = o.sharedPrefixLen ?? 0;
  const temperature = o.temperature ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`invalid number of prompts ${n}; accepted: an integer >= 1`);
  checkLengths(engine, o.inputLen, o.outputLen);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > o.inputLen) {
    throw new UsageError(`invalid shared prefix length ${prefixLen}; accepted: an integer in [0, input length ${o.inputLen}]`);
  }
  const concurrency = Math.min(o.maxConcurrency ?? n, n);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`invalid max concurrency ${o.maxConcurrency}; accepted: an integer >= 1`);
  if (engine.hasUnfinishedRequests()) throw new UsageError("the engine has unfinished requests; benchmark on an idle engine");
  const prompts = randomPrompts({
    numPrompts: n, inputLen: o.inputLen, sharedPrefixLen: prefixLen, vocabSize: engine.loaded.config.vocabSize, seed: o.seed, exclude: specialIds(engine),
  });
  const stats0 = engine.stats();
  const records = new Map<string, RequestRecord>();
  let next = 0, inFlight = 0, done = 0, peakKv = 0;
  const t0 = performance.now();
  while (done < n) {
    while (next < n && inFlight < concurrency) {
      const id = `bench-${next}`;
      records.set(id, newRecord(performance.now()));
      engine.addRequest(id, prompts[next]!, benchSampling(o.outputLen, temperature, o.seed + next), { outputKind: "delta" });
      next++;
      inFlight++;
    }
    const outs = await engine.step();
    const finished = recordOutputs(records, outs, performance.now());
    peakKv = Math.max(peakKv, engine.kvCacheManager.usage);
    done += finished;
    inFlight -= finished;
    if (finished === 0 && !engine.hasUnfinishedRequests()) throw new Error("throughput benchmark: the engine went idle with requests unfinished");
  }
  const elapsedMs = performance.now() - t0;
  const stats1 = engine.stats();
  const recs = [...records.values()];
  const outTokens = recs.reduce((a, r) => a + r.numTokens, 0);
  const inTokens = n * o.inputLen;
  const queries = stats1.prefixCacheQueries - stats0.prefixCacheQueries;
  const s = elapsedMs / 1000;
  return {
    ...modelInfo(engine, model),
    num_prompts: n, concurrency, input_len: o.inputLen, output_len: o.outputLen, shared_prefix_len: prefixLen, temperature,
    elapsed_s: round(s, 3),
    requests_per_s: round(n / s, 3),
    output_tok_per_s: round(outTokens / s, 2),
    total_tok_per_s: round((inTokens + outTokens) / s, 2),
    num_input_tokens: inTokens,
    num_output_tokens: outTokens,
    ttft_ms: summarize(recs.map((r) => r.first! - r.arrival)),
    itl_ms: summarize(recs.flatMap((r) => r.itls)),
    e2e_ms: summarize(recs.map((r) => r.last - r.arrival)),
    prefix_cache_hit_rate: round(queries > 0 ? (stats1.prefixCacheHits - stats0.prefixCacheHits) / queries : 0, 4),
    peak_kv_usage: round(peakKv, 4),
    num_preemptions: stats1.numPreemptions - stats0.numPreemptions,
  };
}
