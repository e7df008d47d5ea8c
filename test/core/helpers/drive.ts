import { checkSchedulerInvariants } from "../../../src/core/scheduler/check-invariants.ts";
import type { SchedulerOutput, UpdateResult } from "../../../src/core/scheduler/output.ts";
import type { Scheduler } from "../../../src/core/scheduler/scheduler.ts";
import type { FakeRunner } from "./fake-runner.ts";

export interface StepRecord {
  out: SchedulerOutput;
  result: UpdateResult;
}

/** One engine step as the engine drives it: schedule, execute if any tokens, update; invariants after. */
export function step(scheduler: Scheduler, runner: FakeRunner): StepRecord {
  const out = scheduler.schedule();
  const sampled = out.totalNumScheduledTokens > 0 ? runner.execute(out) : new Map<string, number[]>();
  const result = scheduler.updateFromOutput(out, sampled);
  checkSchedulerInvariants(scheduler);
  return { out, result };
}

/** Step until nothing is unfinished (or maxSteps, which throws). */
export function runToCompletion(scheduler: Scheduler, runner: FakeRunner, maxSteps = 10_000): StepRecord[] {
  const log: StepRecord[] = [];
  while (scheduler.hasUnfinishedRequests()) {
    if (log.length >= maxSteps) throw new Error(`not finished after ${maxSteps} steps`);
    log.push(step(scheduler, runner));
  }
  return log;
}

/** Scheduled token counts of a step by request id. */
export function scheduledCounts(out: SchedulerOutput): Record<string, number> {
  return Object.fromEntries(out.scheduledRequests.map((s) => [s.request.requestId, s.numScheduledTokens]));
}
