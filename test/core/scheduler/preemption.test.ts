import { describe, expect, it } from "vitest";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import { RequestStatus } from "../../../src/core/request.ts";
import type { SchedulingPolicy } from "../../../src/core/scheduler/config.ts";
import { Scheduler } from "../../../src/core/scheduler/scheduler.ts";
import { FakeRunner } from "../helpers/fake-runner.ts";
import { makeRequest } from "../helpers/make-request.ts";
import { hashString, mix32 } from "../helpers/prng.ts";
import { expectedAlone } from "../helpers/reference.ts";
import { runToCompletion, scheduledCounts, step } from "../helpers/drive.ts";

const sample = (id: string, pos: number) => 100 + (mix32(hashString(id), pos) % 900);
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

/** 4 usable blocks of 4 tokens: exactly one max-length (16 tokens) request. */
function tiny(policy: SchedulingPolicy) {
  const kv = new KVCacheManager({ numBlocks: 5, blockSize: 4, maxModelLen: 16 });
  const scheduler = new Scheduler({ maxNumBatchedTokens: 32, maxNumSeqs: 4, maxModelLen: 16, blockSize: 4, policy }, kv);
  return { kv, scheduler, runner: new FakeRunner(4, sample) };
}

/** L (priority 1) admitted first with 5 tokens, H (priority 0) then with 8: the pool is full after step 2. */
function lowThenHigh(policy: SchedulingPolicy) {
  const t = tiny(policy);
  const low = makeRequest("L", seq(5), { priority: 1, arrivalTime: 0, maxTokens: 6, ignoreEos: true });
  const high = makeRequest("H", seq(8, 50), { priority: 0, arrivalTime: 1, maxTokens: 4, ignoreEos: true });
  t.scheduler.addRequest(low);
  expect(scheduledCounts(step(t.scheduler, t.runner).out)).toEqual({ L: 5 });
  t.scheduler.addRequest(high);
  expect(scheduledCounts(step(t.scheduler, t.runner).out)).toEqual({ L: 1, H: 8 });
  expect(t.kv.numFreeBlocks).toBe(0);
  return { ...t, low, high };
}

function expectAlone(...reqs: ReturnType<typeof makeRequest>[]) {
  for (const r of reqs) {
    const e = expectedAlone(r, sample, 16);
    expect(r.outputTokenIds, r.requestId).toEqual(e.tokens);
    expect(r.status, r.requestId).toBe(e.status);
  }
}

describe("preemption by recompute", () => {
  it("FCFS preempts the most recently admitted request, which may be the one asking", () => {
    const { scheduler, runner, kv, low, high } = lowThenHigh("fcfs");
    // L fits its 2 blocks; H needs a 3rd, and H is the last admitted: it preempts itself.
    const s3 = step(scheduler, runner);
    expect(scheduledCounts(s3.out)).toEqual({ L: 1 });
    expect(s3.out.preemptedReqIds).toEqual(["H"]);
    expect(high.status).toBe(RequestStatus.PREEMPTED);
    expect(high.numComputedTokens).toBe(0);
    expect(high.numPreemptions).toBe(1);
    expect(kv.getBlockIds("H")).toEqual([]);
    expect(scheduler.waiting).toEqual([high]);
    runToCompletion(scheduler, runner);
    expectAlone(low, high);
    expect(scheduler.getStats().numPreemptions).toBeGreaterThanOrEqual(1);
    expect(kv.usage).toBe(0);
  });

  it("priority preempts max(priority, arrival) even if already scheduled this step, returning its budget", () => {
    const { scheduler, runner, kv, low, high } = lowThenHigh("priority");
    // L (index 0) is scheduled first; H then needs a block: the victim is L, whose token goes back.
    const s3 = step(scheduler, runner);
    expect(scheduledCounts(s3.out)).toEqual({ H: 1 });
    expect(s3.out.totalNumScheduledTokens).toBe(1);
    expect(s3.out.preemptedReqIds).toEqual(["L"]);
    expect(low.status).toBe(RequestStatus.PREEMPTED);
    expect(low.numComputedTokens).toBe(0);
    expect(kv.getBlockIds("L")).toEqual([]);
    runToCompletion(scheduler, runner);
    expectAlone(low, high);
    expect(kv.usage).toBe(0);
  });

  it("a preempted request comes back through the prefix cache and finishes with the same tokens", () => {
    const { scheduler, runner, kv, low } = lowThenHigh("priority");
    step(scheduler, runner); // preempts L
    runToCompletion(scheduler, runner);
    expect(low.numPreemptions).toBe(1);
    expect(low.numCachedTokens).toBe(0); // set at first admission only
    expect(kv.prefixCacheStats.preemptedRequests).toBe(1);
  });

  it("one step may preempt several requests; they return to the front of waiting in admission order", () => {
    // 5 usable blocks of 4; prefill chunks of at most 8 tokens.
    const kv = new KVCacheManager({ numBlocks: 6, blockSize: 4, maxModelLen: 16 });
    const scheduler = new Scheduler(
      { maxNumBatchedTokens: 16, maxNumSeqs: 4, maxModelLen: 16, blockSize: 4, policy: "fcfs", longPrefillTokenThreshold: 8 },
      kv,
    );
    const runner = new FakeRunner(4, sample);
    const a = makeRequest("A", seq(15), { maxTokens: 1 });
    const [b, c, d] = ["B", "C", "D"].map((id, i) => makeRequest(id, seq(2, 20 * (i + 1)), { maxTokens: 3, ignoreEos: true }));
    for (const r of [a, b!, c!, d!]) scheduler.addRequest(r);
    expect(scheduledCounts(step(scheduler, runner).out)).toEqual({ A: 8, B: 2, C: 2, D: 2 });
    expect(kv.numFreeBlocks).toBe(0);
    // A's next 7 tokens need 2 blocks: D then C (one block each) are preempted; B keeps decoding.
    const s2 = step(scheduler, runner);
    expect(s2.out.preemptedReqIds).toEqual(["D", "C"]);
    expect(scheduledCounts(s2.out)).toEqual({ A: 7, B: 1 });
    expect(scheduler.waiting).toEqual([c, d]);
    runToCompletion(scheduler, runner);
    expectAlone(a, b!, c!, d!);
  });
});
