import { describe, expect, it } from "vitest";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import { RequestStatus, type Request } from "../../../src/core/request.ts";
import type { SchedulerConfig } from "../../../src/core/scheduler/config.ts";
import { Scheduler } from "../../../src/core/scheduler/scheduler.ts";
import { LlmError, UsageError } from "../../../src/util/errors.ts";
import { FakeRunner } from "../helpers/fake-runner.ts";
import { makeRequest } from "../helpers/make-request.ts";
import { hashString, mix32 } from "../helpers/prng.ts";
import { expectedAlone } from "../helpers/reference.ts";
import { runToCompletion, scheduledCounts, step } from "../helpers/drive.ts";

const sample = (id: string, pos: number) => 100 + (mix32(hashString(id), pos) % 900);
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

function setup(cfg: Partial<SchedulerConfig> & { numBlocks?: number; enablePrefixCaching?: boolean } = {}) {
  const { numBlocks = 64, enablePrefixCaching = true, ...rest } = cfg;
  const config: SchedulerConfig = { maxNumBatchedTokens: 64, maxNumSeqs: 8, maxModelLen: 64, blockSize: 4, policy: "fcfs", ...rest };
  const kv = new KVCacheManager({ numBlocks, blockSize: config.blockSize, enablePrefixCaching, maxModelLen: config.maxModelLen });
  const scheduler = new Scheduler(config, kv);
  const runner = new FakeRunner(config.blockSize, sample);
  return { scheduler, kv, runner, config };
}

function expectAlone(reqs: Request[], maxModelLen: number) {
  for (const r of reqs) {
    const e = expectedAlone(r, sample, maxModelLen);
    expect(r.outputTokenIds, r.requestId).toEqual(e.tokens);
    expect(r.status, r.requestId).toBe(e.status);
  }
}

describe("Scheduler: admission and chunked prefill", () => {
  it("chunks a long prompt within the token budget and samples only when the prompt is done", () => {
    const { scheduler, runner } = setup({ maxNumBatchedTokens: 10 });
    const a = makeRequest("a", seq(25), { maxTokens: 3, ignoreEos: true });
    const b = makeRequest("b", seq(3, 500), { maxTokens: 2, ignoreEos: true });
    scheduler.addRequest(a);
    scheduler.addRequest(b);
    const s1 = scheduler.schedule();
    expect(scheduledCounts(s1)).toEqual({ a: 10 });
    expect(s1.scheduledRequests[0]!.blockIds).toEqual([1, 2, 3]);
    // A sampled entry for a partial chunk is ignored.
    const sampled = runner.execute(s1);
    expect(sampled.size).toBe(0);
    const r1 = scheduler.updateFromOutput(s1, new Map([["a", [42]]]));
    expect(r1.outputs).toEqual([]);
    expect(a.numComputedTokens).toBe(10);
    expect(a.outputTokenIds).toEqual([]);
    const s2 = step(scheduler, runner);
    expect(scheduledCounts(s2.out)).toEqual({ a: 10 });
    const s3 = step(scheduler, runner);
    expect(scheduledCounts(s3.out)).toEqual({ a: 5, b: 3 });
    expect(s3.out.scheduledRequests.map((s) => s.numComputedTokensBefore)).toEqual([20, 0]);
    expect(s3.result.outputs.map((o) => [o.request.requestId, o.newTokenIds.length])).toEqual([["a", 1], ["b", 1]]);
    const s4 = step(scheduler, runner);
    expect(scheduledCounts(s4.out)).toEqual({ a: 1, b: 1 });
    expect(s4.result.finished.map((r) => r.requestId)).toEqual(["b"]);
    runToCompletion(scheduler, runner);
    expectAlone([a, b], 64);
    expect(scheduler.getStats().kvCacheUsage).toBe(0);
  });

  it("longPrefillTokenThreshold caps each prefill chunk", () => {
    const { scheduler, runner } = setup({ longPrefillTokenThreshold: 4 });
    const a = makeRequest("a", seq(10), { maxTokens: 1 });
    scheduler.addRequest(a);
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ a: 4 });
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ a: 4 });
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ a: 2 });
    expect(a.status).toBe(RequestStatus.FINISHED_LENGTH_CAPPED);
  });

  it("without chunked prefill a prompt that does not fit the remaining budget waits", () => {
    const { scheduler, runner } = setup({ maxNumBatchedTokens: 32, maxModelLen: 32, enableChunkedPrefill: false });
    const a = makeRequest("a", seq(20), { maxTokens: 3, ignoreEos: true });
    const b = makeRequest("b", seq(20, 100), { maxTokens: 3, ignoreEos: true });
    scheduler.addRequest(a);
    scheduler.addRequest(b);
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ a: 20 });
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ a: 1, b: 20 });
    runToCompletion(scheduler, runner);
    expectAlone([a, b], 32);
  });

  it("respects maxNumSeqs", () => {
    const { scheduler, runner } = setup({ maxNumSeqs: 2 });
    const reqs = ["a", "b", "c"].map((id) => makeRequest(id, seq(3), { maxTokens: 2, ignoreEos: true }));
    for (const r of reqs) scheduler.addRequest(r);
    expect(Object.keys(scheduledCounts(step(scheduler, runner).out))).toEqual(["a", "b"]);
    expect(scheduler.numRunning).toBe(2);
    expect(scheduler.numWaiting).toBe(1);
    expect(Object.keys(scheduledCounts(step(scheduler, runner).out))).toEqual(["a", "b"]);
    expect(Object.keys(scheduledCounts(step(scheduler, runner).out))).toEqual(["c"]);
    runToCompletion(scheduler, runner);
    expectAlone(reqs, 64);
  });

  it("uses the prefix cache for a later request with the same prefix and counts hits", () => {
    const { scheduler, runner, kv } = setup();
    const prompt = seq(18);
    const a = makeRequest("a", prompt, { maxTokens: 2, ignoreEos: true });
    scheduler.addRequest(a);
    runToCompletion(scheduler, runner);
    expect(a.numCachedTokens).toBe(0);
    const b = makeRequest("b", [...prompt, 7], { maxTokens: 2, ignoreEos: true });
    scheduler.addRequest(b);
    const s = step(scheduler, runner);
    expect(b.numCachedTokens).toBe(16);
    expect(s.out.scheduledRequests[0]!.numComputedTokensBefore).toBe(16);
    expect(scheduledCounts(s.out)).toEqual({ b: 3 });
    runToCompletion(scheduler, runner);
    expectAlone([a, b], 64);
    expect(kv.prefixCacheStats).toMatchObject({ requests: 2, queries: 37, hits: 16 });
    expect(scheduler.getStats().prefixCacheHitRate).toBeCloseTo(16 / 37);
  });

  it("registers blocks only once computed: requests admitted in the same step do not hit each other", () => {
    const { scheduler, runner } = setup();
    const a = makeRequest("a", seq(12), { maxTokens: 1 });
    const b = makeRequest("b", seq(12), { maxTokens: 1 });
    scheduler.addRequest(a);
    scheduler.addRequest(b);
    runToCompletion(scheduler, runner);
    expect([a.numCachedTokens, b.numCachedTokens]).toEqual([0, 0]);
  });
});

describe("Scheduler: requests it cannot serve", () => {
  it("rejects a prompt longer than max_model_len, or with no room to generate, never truncating", () => {
    const { scheduler } = setup({ maxModelLen: 32 });
    expect(() => scheduler.addRequest(makeRequest("a", seq(33)))).toThrow(new UsageError("prompt has 33 tokens, more than max_model_len 32; shorten the prompt or raise --max-model-len"));
    expect(() => scheduler.addRequest(makeRequest("b", seq(32)))).toThrow(/prompt has 32 tokens, as many as max_model_len 32/);
    expect(() => scheduler.addRequest(makeRequest("c", []))).toThrow(UsageError);
    expect(() => scheduler.addRequest(makeRequest("d", [1, -2]))).toThrow(/token ids are non-negative integers/);
    scheduler.addRequest(makeRequest("e", seq(31)));
    expect(() => scheduler.addRequest(makeRequest("e", seq(3)))).toThrow(/already in use/);
    expect(scheduler.getNumUnfinishedRequests()).toBe(1);
  });

  it("checks its configuration against the KV cache", () => {
    const kv = new KVCacheManager({ numBlocks: 8, blockSize: 4, maxModelLen: 64 });
    const base: SchedulerConfig = { maxNumBatchedTokens: 64, maxNumSeqs: 4, maxModelLen: 64, blockSize: 4, policy: "fcfs" };
    expect(() => new Scheduler(base, kv)).toThrow(LlmError); // 8 blocks cannot hold 64 tokens
    const kv2 = new KVCacheManager({ numBlocks: 17, blockSize: 4, maxModelLen: 64 });
    expect(() => new Scheduler(base, kv2)).not.toThrow();
    expect(() => new Scheduler({ ...base, blockSize: 8 }, kv2)).toThrow(/disagree/);
    expect(() => new Scheduler({ ...base, policy: "lifo" as "fcfs" }, kv2)).toThrow(/unknown scheduling policy "lifo"; available: fcfs, priority/);
    expect(() => new Scheduler({ ...base, maxNumBatchedTokens: 32, enableChunkedPrefill: false }, kv2)).toThrow(UsageError);
    expect(() => new Scheduler({ ...base, maxNumSeqs: 0 }, kv2)).toThrow(/--max-num-seqs must be a positive integer/);
  });
});

describe("Scheduler: stops", () => {
  it("EOS stops unless ignoreEos; stop token ids set stopReason; maxTokens and maxModelLen cap", () => {
    const { scheduler, runner } = setup({ maxModelLen: 12, numBlocks: 32 });
    const eosAt = sample("eos", 5); // the token sampled at position 5
    const eos = makeRequest("eos", seq(5), { eosTokenId: eosAt, maxTokens: 10 });
    const ign = makeRequest("ign", seq(5), { eosTokenId: sample("ign", 5), ignoreEos: true, maxTokens: 3 });
    const stopTok = makeRequest("stop", seq(5), { stopTokenIds: [sample("stop", 6)], maxTokens: 10 });
    const long = makeRequest("long", seq(8), { maxTokens: 100 });
    for (const r of [eos, ign, stopTok, long]) scheduler.addRequest(r);
    runToCompletion(scheduler, runner);
    expect(eos.status).toBe(RequestStatus.FINISHED_STOPPED);
    expect(eos.outputTokenIds).toEqual([eosAt]);
    expect(eos.stopReason).toBeNull();
    expect(ign.status).toBe(RequestStatus.FINISHED_LENGTH_CAPPED);
    expect(ign.numOutputTokens).toBe(3);
    expect(stopTok.status).toBe(RequestStatus.FINISHED_STOPPED);
    expect(stopTok.stopReason).toBe(sample("stop", 6));
    expect(stopTok.numOutputTokens).toBe(2);
    expect(long.status).toBe(RequestStatus.FINISHED_LENGTH_CAPPED);
    expect(long.numTokens).toBe(12);
  });

  it("complains when the runner returns no token for a request that must sample", () => {
    const { scheduler } = setup();
    scheduler.addRequest(makeRequest("a", seq(3)));
    const out = scheduler.schedule();
    expect(() => scheduler.updateFromOutput(out, new Map())).toThrow(/no sampled token for request a/);
  });

  it("rejects an update for an output other than the latest", () => {
    const { scheduler } = setup();
    scheduler.addRequest(makeRequest("a", seq(3)));
    const first = scheduler.schedule();
    scheduler.schedule(); // the engine retried the step
    expect(() => scheduler.updateFromOutput(first, new Map([["a", [1]]]))).toThrow(/latest schedule/);
  });
});
