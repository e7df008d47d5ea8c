import { findKvCacheViolations, type KvInvariantOptions } from "../kv-cache/check-invariants.ts";
import { RequestStatus } from "../request.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * Scheduler-level consistency on top of the KV cache's: running requests are RUNNING, hold enough
 * blocks and fit maxNumSeqs; waiting ones hold no blocks and computed nothing; the only block tables
 * are those of running requests. For tests and debug builds.
 */
export function findSchedulerViolations(scheduler: Scheduler, opts: KvInvariantOptions = {}): string[] {
  const problems = findKvCacheViolations(scheduler.kvCacheManager, opts);
  const kv = scheduler.kvCacheManager;
  const { maxNumSeqs, maxModelLen } = scheduler.config;
  const running = scheduler.running;
  const waiting = scheduler.waiting;
  if (running.length > maxNumSeqs) problems.push(`${running.length} running requests exceed max_num_seqs ${maxNumSeqs}`);
  const runningIds = new Set<string>();
  for (const r of running) {
    if (runningIds.has(r.requestId)) problems.push(`request ${r.requestId} is running twice`);
    runningIds.add(r.requestId);
    if (r.status !== RequestStatus.RUNNING) problems.push(`running request ${r.requestId} has status ${r.status}`);
    const need = Math.ceil(r.numComputedTokens / kv.blockSize);
    const have = kv.getBlocks(r.requestId).length;
    if (have < need) problems.push(`running request ${r.requestId} computed ${r.numComputedTokens} tokens but holds ${have} blocks`);
    if (r.numComputedTokens > r.numTokens) problems.push(`request ${r.requestId} computed ${r.numComputedTokens} of ${r.numTokens} tokens`);
    if (r.numTokens > maxModelLen) problems.push(`request ${r.requestId} has ${r.numTokens} tokens, over max_model_len ${maxModelLen}`);
    if (scheduler.getRequest(r.requestId) !== r) problems.push(`running request ${r.requestId} is not registered`);
  }
  for (const r of waiting) {
    if (runningIds.has(r.requestId)) problems.push(`request ${r.requestId} is both running and waiting`);
    if (r.status !== RequestStatus.WAITING && r.status !== RequestStatus.PREEMPTED) problems.push(`waiting request ${r.requestId} has status ${r.status}`);
    if (r.numComputedTokens !== 0) problems.push(`waiting request ${r.requestId} has ${r.numComputedTokens} computed tokens`);
    if (kv.getBlocks(r.requestId).length > 0) problems.push(`waiting request ${r.requestId} holds blocks`);
    if (scheduler.getRequest(r.requestId) !== r) problems.push(`waiting request ${r.requestId} is not registered`);
  }
  for (const [requestId] of kv.requestBlockTables()) {
    if (!runningIds.has(requestId)) problems.push(`request ${requestId} holds blocks but is not running`);
  }
  if (running.length + waiting.length !== scheduler.getNumUnfinishedRequests()) {
    problems.push(`${running.length} running + ${waiting.length} waiting != ${scheduler.getNumUnfinishedRequests()} unfinished`);
  }
  return problems;
}

export function checkSchedulerInvariants(scheduler: Scheduler, opts: KvInvariantOptions = {}): void {
  const problems = findSchedulerViolations(scheduler, opts);
  if (problems.length > 0) throw new Error(`scheduler invariants violated:\n  ${problems.slice(0, 20).join("\n  ")}`);
}
