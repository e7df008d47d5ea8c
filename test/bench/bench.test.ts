import { describe, expect, it } from "vitest";
import { randomPrompts } from "../../src/bench/common.ts";
import { runLatency } from "../../src/bench/latency.ts";
import { percentile, summarize } from "../../src/bench/stats.ts";
import { runThroughput } from "../../src/bench/throughput.ts";
import { UsageError } from "../../src/util/errors.ts";
import { testEngine } from "../helpers/engine.ts";

const SUMMARY_KEYS = ["p50", "p90", "p99", "mean"];

describe("bench statistics and prompts", () => {
  it("percentiles interpolate like numpy; empty samples summarise to zeros", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5, 1, 3], 0)).toBe(1);
    expect(percentile([5, 1, 3], 100)).toBe(5);
    expect(percentile([0, 10], 90)).toBe(9);
    expect(summarize([])).toEqual({ p50: 0, p90: 0, p99: 0, mean: 0 });
  });

  it("random prompts are seeded, share the prefix asked for, and avoid excluded ids", () => {
    const o = { numPrompts: 4, inputLen: 20, sharedPrefixLen: 8, vocabSize: 32, seed: 3, exclude: [1, 2] };
    const a = randomPrompts(o);
    expect(randomPrompts(o)).toEqual(a);
    expect(randomPrompts({ ...o, seed: 4 })).not.toEqual(a);
    expect(a.every((p) => p.length === 20 && p.every((id) => id >= 0 && id < 32 && id !== 1 && id !== 2))).toBe(true);
    expect(new Set(a.map((p) => p.slice(0, 8).join())).size).toBe(1);
    expect(new Set(a.map((p) => p.slice(8).join())).size).toBe(4);
  });
});

describe("runThroughput / runLatency on stories260k", () => {
  it("throughput: every request generates exactly output_len tokens; the report has every field", async () => {
    const engine = await testEngine();
    const r = await runThroughput(engine, "stories260k", { numPrompts: 8, inputLen: 24, outputLen: 6, maxConcurrency: 3, seed: 1 });
    expect(r.num_output_tokens).toBe(8 * 6);
    expect(r.num_input_tokens).toBe(8 * 24);
    expect(r).toMatchObject({ model: "stories260k", backend: "cpu", attention: "paged", num_prompts: 8, concurrency: 3, input_len: 24, output_len: 6, shared_prefix_len: 0 });
    for (const k of ["ttft_ms", "itl_ms", "e2e_ms"] as const) expect(Object.keys(r[k])).toEqual(SUMMARY_KEYS);
    expect(r.ttft_ms.p50).toBeGreaterThan(0);
    expect(r.e2e_ms.mean).toBeGreaterThanOrEqual(r.ttft_ms.mean);
    expect(r.output_tok_per_s).toBeGreaterThan(0);
    expect(r.total_tok_per_s).toBeGreaterThan(r.output_tok_per_s);
    expect(r.peak_kv_usage).toBeGreaterThan(0);
    expect(r.num_preemptions).toBe(0);
    expect(r.prefix_cache_hit_rate).toBe(0);
    expect(engine.hasUnfinishedRequests()).toBe(false);
    JSON.parse(JSON.stringify(r));
  });

  it("a shared prefix hits the prefix cache; with caching off it does not", async () => {
    const o = { numPrompts: 6, inputLen: 64, outputLen: 2, maxConcurrency: 2, sharedPrefixLen: 48, seed: 2, temperature: 0 };
    const on = await runThroughput(await testEngine(), "stories260k", o);
    expect(on.prefix_cache_hit_rate).toBeGreaterThan(0.4);
    const off = await runThroughput(await testEngine({ enablePrefixCaching: false }), "stories260k", o);
    expect(off.prefix_cache_hit_rate).toBe(0);
    expect(off.num_output_tokens).toBe(on.num_output_tokens);
  });

  it("max concurrency defaults to all prompts; runs reuse one idle engine", async () => {
    const engine = await testEngine();
    const a = await runThroughput(engine, "m", { numPrompts: 3, inputLen: 8, outputLen: 4, seed: 5, temperature: 0, maxConcurrency: 1 });
    const b = await runThroughput(engine, "m", { numPrompts: 3, inputLen: 8, outputLen: 4, seed: 5, temperature: 0 });
    expect(b.num_output_tokens).toBe(a.num_output_tokens);
    expect(b.concurrency).toBe(3);
  });

  it("latency: one JSON-able report with percentiles and prefill/decode rates", async () => {
    const engine = await testEngine();
    const r = await runLatency(engine, "stories260k", { batchSize: 2, inputLen: 16, outputLen: 4, numIters: 2, numItersWarmup: 1, seed: 0 });
    expect(Object.keys(r.percentiles)).toEqual(["10", "25", "50", "75", "90", "99"]);
    expect(r.avg_latency_s).toBeGreaterThan(0);
    expect(r.prefill_tok_per_s).toBeGreaterThan(0);
    expect(r.decode_tok_per_s).toBeGreaterThan(0);
    expect(r).toMatchObject({ batch_size: 2, input_len: 16, output_len: 4, num_iters: 2, num_iters_warmup: 1 });
  });

  it("refuses lengths that do not fit and bad counts with a UsageError", async () => {
    const engine = await testEngine({ maxModelLen: 64 });
    await expect(runThroughput(engine, "m", { numPrompts: 1, inputLen: 60, outputLen: 8, seed: 0 })).rejects.toThrow(/exceeds max_model_len 64/);
    await expect(runThroughput(engine, "m", { numPrompts: 0, inputLen: 8, outputLen: 8, seed: 0 })).rejects.toThrow(UsageError);
    await expect(runThroughput(engine, "m", { numPrompts: 2, inputLen: 8, outputLen: 8, sharedPrefixLen: 9, seed: 0 })).rejects.toThrow(/shared prefix length 9/);
    await expect(runLatency(engine, "m", { batchSize: 1, inputLen: 8, outputLen: 8, numIters: 0, numItersWarmup: 0, seed: 0 })).rejects.toThrow(/number of iterations 0/);
  });
});
