import { describe, expect, it } from "vitest";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import { RequestStatus } from "../../../src/core/request.ts";
import { Scheduler } from "../../../src/core/scheduler/scheduler.ts";
import { checkSchedulerInvariants } from "../../../src/core/scheduler/check-invariants.ts";
import { FakeRunner } from "../helpers/fake-runner.ts";
import { makeRequest } from "../helpers/make-request.ts";
import { hashString, mix32 } from "../helpers/prng.ts";
import { runToCompletion, scheduledCounts, step } from "../helpers/drive.ts";

const sample = (id: string, pos: number) => 100 + (mix32(hashString(id), pos) % 900);
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

function setup() {
  const kv = new KVCacheManager({ numBlocks: 32, blockSize: 4, maxModelLen: 64 });
  const scheduler = new Scheduler({ maxNumBatchedTokens: 64, maxNumSeqs: 2, maxModelLen: 64, blockSize: 4, policy: "fcfs" }, kv);
  return { kv, scheduler, runner: new FakeRunner(4, sample) };
}

describe("finishRequests (abort)", () => {
  it("aborts waiting and running requests, frees blocks and reports them to the runner next step", () => {
    const { kv, scheduler, runner } = setup();
    const [a, b, c] = ["a", "b", "c"].map((id) => makeRequest(id, seq(6), { maxTokens: 50, ignoreEos: true }));
    for (const r of [a!, b!, c!]) scheduler.addRequest(r);
    step(scheduler, runner); // a, b run; c waits (maxNumSeqs 2)
    expect(kv.getBlockIds("a").length).toBe(2);
    const done = scheduler.finishRequests(["c", "a", "nope"], RequestStatus.FINISHED_ABORTED);
    expect(done).toEqual([c, a]);
    expect(a!.status).toBe(RequestStatus.FINISHED_ABORTED);
    expect(c!.status).toBe(RequestStatus.FINISHED_ABORTED);
    expect(kv.getBlockIds("a")).toEqual([]);
    expect(scheduler.running).toEqual([b]);
    expect(scheduler.waiting).toEqual([]);
    expect(scheduler.getNumUnfinishedRequests()).toBe(1);
    checkSchedulerInvariants(scheduler);
    const next = step(scheduler, runner);
    expect(new Set(next.out.finishedReqIds)).toEqual(new Set(["a", "c"]));
    expect(scheduledCounts(next.out)).toEqual({ b: 1 });
    expect(step(scheduler, runner).out.finishedReqIds).toEqual([]);
    // Finishing again or an unknown id changes nothing.
    expect(scheduler.finishRequests("a", RequestStatus.FINISHED_ABORTED)).toEqual([]);
  });

  it("an abort between schedule and update is skipped by the update", () => {
    const { kv, scheduler, runner } = setup();
    const a = makeRequest("a", seq(6), { maxTokens: 5, ignoreEos: true });
    const b = makeRequest("b", seq(6, 30), { maxTokens: 5, ignoreEos: true });
    scheduler.addRequest(a);
    scheduler.addRequest(b);
    const out = scheduler.schedule();
    const sampled = runner.execute(out);
    scheduler.finishRequests("a", RequestStatus.FINISHED_ABORTED);
    const res = scheduler.updateFromOutput(out, sampled);
    expect(res.outputs.map((o) => o.request.requestId)).toEqual(["b"]);
    expect(a.outputTokenIds).toEqual([]);
    expect(a.status).toBe(RequestStatus.FINISHED_ABORTED);
    checkSchedulerInvariants(scheduler);
    runToCompletion(scheduler, runner);
    expect(kv.usage).toBe(0);
  });

  it("stop strings: the engine finishes a running request as FINISHED_STOPPED", () => {
    const { scheduler, runner } = setup();
    const a = makeRequest("a", seq(6), { maxTokens: 50, ignoreEos: true });
    scheduler.addRequest(a);
    step(scheduler, runner);
    scheduler.finishRequests(["a"], RequestStatus.FINISHED_STOPPED);
    expect(a.status).toBe(RequestStatus.FINISHED_STOPPED);
    expect(scheduler.hasUnfinishedRequests()).toBe(false);
  });

  it("finished ids survive steps with nothing to run until a step reaches the runner", () => {
    const { scheduler, runner } = setup();
    scheduler.addRequest(makeRequest("a", seq(6), { maxTokens: 50 }));
    step(scheduler, runner);
    scheduler.finishRequests("a", RequestStatus.FINISHED_ABORTED);
    const idle = scheduler.schedule();
    expect(idle.totalNumScheduledTokens).toBe(0);
    expect(idle.finishedReqIds).toEqual([]);
    expect(scheduler.updateFromOutput(idle, new Map())).toEqual({ finished: [], outputs: [] });
    scheduler.addRequest(makeRequest("b", seq(3), { maxTokens: 1 }));
    expect(step(scheduler, runner).out.finishedReqIds).toEqual(["a"]);
  });

  it("rejects a non-finished status", () => {
    const { scheduler } = setup();
    expect(() => scheduler.finishRequests("a", RequestStatus.RUNNING)).toThrow(/not a finished status/);
  });
});
