import type { LLMEngine } from "../engine/llm-engine.ts";
import { UsageError } from "../util/errors.ts";
import { benchSampling, checkLengths, modelInfo, newRecord, randomPrompts, recordOutputs, specialIds, type RequestRecord } from "./common.ts";
import { mean, percentile, round } from "./stats.ts";

export interface LatencyOptions {
  batchSize: number;
  inputLen: number;
  outputLen: number;
  numIters: number;
  numItersWarmup: number;
  seed: number;
  temperature?: number;
}

export interface LatencyResult {
  model: string; backend: string; attention: string; quant: string;
  batch_size: number; input_len: number; output_len: number; num_iters: number; num_iters_warmup: number;
  avg_latency_s: number;
  /** Latency percentiles in seconds, keyed as vLLM's benchmark_latency ("10", "25", "50", "75", "90", "99"). */
  percentiles: Record<string, number>;
  avg_ttft_ms: number;
  /** Input tokens of the batch / time until every request had its first token. */
  prefill_tok_per_s: number;
  /** Tokens after the first / time from the batch's last first token to its end (0 when output_len is 1). */
  decode_tok_per_s: number;
}

interface Iteration { latencyMs: number; ttftMs: number; decodeMs: number }

/** One batch from arrival to the last token; fresh random prompts each time so the prefix cache cannot help. */
async function runBatch(engine: LLMEngine, o: LatencyOptions, seed: number): Promise<Iteration> {
  const prompts = randomPrompts({ numPrompts: o.batchSize, inputLen: o.inputLen, vocabSize: engine.loaded.config.vocabSize, seed, exclude: specialIds(engine) });
  const records = new Map<string, RequestRecord>();
  const t0 = performance.now();
  prompts.forEach((p, i) => {
    const id = `latency-${i}`;
    records.set(id, newRecord(t0));
    engine.addRequest(id, p, benchSampling(o.outputLen, o.temperature ?? 1, seed + i), { outputKind: "delta" });
  });
  let done = 0;
  while (done < o.batchSize) {
    const finished = recordOutputs(records, await engine.step(), performance.now());
    done += finished;
    if (finished === 0 && !engine.hasUnfinishedRequests()) throw new Error("latency benchmark: the engine went idle with requests unfinished");
  }
  const end = performance.now();
  const firstAll = Math.max(...[...records.values()].map((r) => r.first!));
  return { latencyMs: end - t0, ttftMs: firstAll - t0, decodeMs: end - firstAll };
}

/** vLLM's latency benchmark: the end-to-end time of one batch, repeated; plus prefill and decode rates. */
export async function runLatency(engine: LLMEngine, model: string, o: LatencyOptions): Promise<LatencyResult> {
  const posInt = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`invalid ${name} ${v}; accepted: an integer >= ${min}`);
  };
  posInt("batch size", o.batchSize, 1);
  posInt("number of iterations", o.numIters, 1);
  posInt("number of warmup iterations", o.numItersWarmup, 0);
  checkLengths(engine, o.inputLen, o.outputLen);
  if (engine.hasUnfinishedRequests()) throw new UsageError("the engine has unfinished requests; benchmark on an idle engine");
  for (let i = 0; i < o.numItersWarmup; i++) await runBatch(engine, o, o.seed + 1_000_003 * (i + 1));
  const iters: Iteration[] = [];
  for (let i = 0; i < o.numIters; i++) iters.push(await runBatch(engine, o, o.seed + 7_919 * (i + 1)));
  const lat = iters.map((x) => x.latencyMs / 1000);
  const sum = (f: (x: Iteration) => number) => iters.reduce((a, x) => a + f(x), 0);
  const decodeTokens = o.batchSize * (o.outputLen - 1) * iters.length;
  return {
    ...modelInfo(engine, model),
    batch_size: o.batchSize, input_len: o.inputLen, output_len: o.outputLen, num_iters: o.numIters, num_iters_warmup: o.numItersWarmup,
    avg_latency_s: round(mean(lat), 4),
    percentiles: Object.fromEntries([10, 25, 50, 75, 90, 99].map((q) => [String(q), round(percentile(lat, q), 4)])),
    avg_ttft_ms: round(mean(iters.map((x) => x.ttftMs)), 3),
    prefill_tok_per_s: round((o.batchSize * o.inputLen * iters.length) / (sum((x) => x.ttftMs) / 1000), 2),
    decode_tok_per_s: decodeTokens > 0 ? round(decodeTokens / (sum((x) => x.decodeMs) / 1000), 2) : 0,
  };
}
