import { UsageError } from "../../util/errors.ts";
import { checkEnoughKvCache } from "../kv-cache/kv-cache-size.ts";
import type { KVCacheManager } from "../kv-cache/kv-cache-manager.ts";
import { prefixCacheHitRate, type PrefixCacheStats } from "../kv-cache/prefix-cache-stats.ts";
import { isFinished, RequestStatus, type Request } from "../request.ts";
import { resolveSchedulerConfig, type ResolvedSchedulerConfig, type SchedulerConfig } from "./config.ts";
import type { RequestTokenOutput, SchedulerOutput, UpdateResult } from "./output.ts";
import { comparePriority, createRequestQueue, type RequestQueue } from "./request-queue.ts";
import { checkStop } from "./stop.ts";
import { validateNewRequest } from "./validate-request.ts";

export interface SchedulerStats {
  numRunning: number;
  numWaiting: number;
  /** Fraction of allocatable KV blocks in use. */
  kvCacheUsage: number;
  /** hits / queries in tokens over first admissions since start. */
  prefixCacheHitRate: number;
  prefixCacheStats: PrefixCacheStats;
  /** Preemptions since start. */
  numPreemptions: number;
}

/**
 * vLLM v1's scheduler: no prefill/decode phases. Each step first gives RUNNING requests tokens so their
 * numComputedTokens catch up with numTokens (preempting by recompute when blocks run out), then admits
 * WAITING requests while the token budget and maxNumSeqs allow and nothing was preempted this step.
 *
 * Driving it: addRequest(req); loop { out = schedule(); if (out.totalNumScheduledTokens > 0) sampled =
 * runner.execute(out); updateFromOutput(out, sampled) }; finishRequests(ids, status) at any moment
 * (abort, stop string). numComputedTokens advances in updateFromOutput, so calling schedule() again
 * before it just re-plans the same step; only the latest output is accepted by updateFromOutput.
 * Blocks enter the prefix cache in updateFromOutput, once their KV has been written.
 */
export class Scheduler {
  readonly config: ResolvedSchedulerConfig;
  readonly kvCacheManager: KVCacheManager;
  private readonly requests = new Map<string, Request>();
  private readonly waitingQueue: RequestQueue;
  private runningList: Request[] = [];
  /** Finished since the last output handed to the runner. */
  private pendingFinishedReqIds = new Set<string>();
  private lastOutput: SchedulerOutput | null = null;
  private numPreemptions = 0;

  constructor(config: SchedulerConfig, kvCacheManager: KVCacheManager) {
    this.config = resolveSchedulerConfig(config);
    if (kvCacheManager.blockSize !== this.config.blockSize || kvCacheManager.maxModelLen !== this.config.maxModelLen) {
      throw new Error(
        `scheduler (blockSize ${this.config.blockSize}, maxModelLen ${this.config.maxModelLen}) and KV cache manager ` +
          `(blockSize ${kvCacheManager.blockSize}, maxModelLen ${kvCacheManager.maxModelLen}) disagree`,
      );
    }
    // A pool that cannot hold one full-length request would preempt it forever.
    checkEnoughKvCache(kvCacheManager.blockPool.numBlocks, this.config.blockSize, this.config.maxModelLen);
    this.kvCacheManager = kvCacheManager;
    this.waitingQueue = createRequestQueue(this.config.policy);
  }

  /** Queue a new request; throws UsageError for a prompt it could never serve (see validateNewRequest). */
  addRequest(request: Request): void {
    if (this.requests.has(request.requestId)) throw new UsageError(`request id ${JSON.stringify(request.requestId)} is already in use`);
    validateNewRequest(request, this.config.maxModelLen);
    this.requests.set(request.requestId, request);
    this.waitingQueue.add(request);
  }

  schedule(): SchedulerOutput {
    const { maxModelLen, maxNumSeqs, longPrefillTokenThreshold: threshold, enableChunkedPrefill } = this.config;
    const kv = this.kvCacheManager;
    let budget = this.config.maxNumBatchedTokens;
    const scheduled = new Map<Request, number>();
    const preempted: Request[] = [];

    // 1. RUNNING requests, in admission order.
    let reqIndex = 0;
    while (reqIndex < this.runningList.length && budget > 0) {
      const request = this.runningList[reqIndex]!;
      let n = request.numTokens - request.numComputedTokens;
      if (threshold > 0 && n > threshold) n = threshold;
      n = Math.min(n, budget, maxModelLen - request.numComputedTokens);
      if (n <= 0) {
        reqIndex++;
        continue;
      }
      let allocated = false;
      for (;;) {
        if (kv.allocateSlots(request, n, 0, [], { delayCacheBlocks: true }) !== null) {
          allocated = true;
          break;
        }
        const victim = this.pickPreemptionVictim();
        const victimIndex = this.runningList.indexOf(victim);
        this.runningList.splice(victimIndex, 1);
        if (victimIndex < reqIndex) reqIndex--;
        const returned = scheduled.get(victim);
        if (returned !== undefined) {
          scheduled.delete(victim);
          budget += returned;
        }
        this.preempt(victim);
        preempted.push(victim);
        if (victim === request) break;
      }
      if (!allocated) break;
      scheduled.set(request, n);
      budget -= n;
      reqIndex++;
    }

    // 2. WAITING requests (new or preempted), unless this step had to preempt.
    if (preempted.length === 0) {
      while (this.waitingQueue.size > 0 && budget > 0 && this.runningList.length < maxNumSeqs) {
        const request = this.waitingQueue.peek()!;
        const hit = kv.getComputedBlocks(request);
        let n = request.numTokens - hit.numComputedTokens;
        if (threshold > 0 && n > threshold) n = threshold;
        if (!enableChunkedPrefill && n > budget) break;
        n = Math.min(n, budget);
        if (kv.allocateSlots(request, n, hit.numComputedTokens, hit.blocks, { delayCacheBlocks: true }) === null) break;
        this.waitingQueue.pop();
        this.runningList.push(request);
        request.status = RequestStatus.RUNNING;
        request.numComputedTokens = hit.numComputedTokens;
        if (request.numCachedTokens < 0) request.numCachedTokens = hit.numComputedTokens;
        kv.recordPrefixCacheStats(request, hit.numComputedTokens);
        scheduled.set(request, n);
        budget -= n;
      }
    }

    const scheduledRequests = [...scheduled].map(([request, numScheduledTokens]) => ({
      request,
      numScheduledTokens,
      blockIds: kv.getBlockIds(request.requestId),
      numComputedTokensBefore: request.numComputedTokens,
    }));
    const totalNumScheduledTokens = this.config.maxNumBatchedTokens - budget;
    let finishedReqIds: string[] = [];
    if (totalNumScheduledTokens > 0) {
      finishedReqIds = [...this.pendingFinishedReqIds];
      this.pendingFinishedReqIds.clear();
    }
    const first = this.runningList[0];
    const numCommonPrefixBlocks = first && kv.enableCaching ? kv.getNumCommonPrefixBlocks(first.requestId, this.runningList.length) : 0;
    const out: SchedulerOutput = {
      scheduledRequests,
      totalNumScheduledTokens,
      preemptedReqIds: preempted.map((r) => r.requestId),
      finishedReqIds,
      numCommonPrefixBlocks,
    };
    this.lastOutput = out;
    return out;
  }

  /**
   * Apply a step's results: advance numComputedTokens, register newly full blocks in the prefix cache,
   * append the sampled token of every request whose prompt is now fully computed and check stops.
   * Sampled entries of partial prefill chunks are ignored. Finished requests' blocks are freed.
   */
  updateFromOutput(out: SchedulerOutput, sampledTokenIds: ReadonlyMap<string, readonly number[]>): UpdateResult {
    const finished: Request[] = [];
    const outputs: RequestTokenOutput[] = [];
    if (out.totalNumScheduledTokens === 0) return { finished, outputs };
    if (out !== this.lastOutput) throw new Error("updateFromOutput() must be given the output of the latest schedule()");
    this.lastOutput = null;
    const kv = this.kvCacheManager;
    for (const s of out.scheduledRequests) {
      const request = s.request;
      if (request.isFinished()) continue; // aborted while the step ran
      if (request.status !== RequestStatus.RUNNING || request.numComputedTokens !== s.numComputedTokensBefore) {
        throw new Error(`request ${request.requestId} changed since it was scheduled (status ${request.status})`);
      }
      request.numComputedTokens += s.numScheduledTokens;
      kv.cacheBlocks(request, request.numComputedTokens);
      if (request.numComputedTokens < request.numTokens) continue; // a partial prefill chunk
      const sampled = sampledTokenIds.get(request.requestId);
      if (!sampled || sampled.length === 0) {
        throw new Error(`the runner returned no sampled token for request ${request.requestId}, whose prompt is fully computed`);
      }
      const newTokenIds: number[] = [];
      for (const t of sampled) {
        request.appendOutputTokenIds(t);
        newTokenIds.push(t);
        if (checkStop(request, this.config.maxModelLen)) break;
      }
      outputs.push({ request, newTokenIds });
      if (request.isFinished()) {
        finished.push(request);
        this.freeRequest(request);
      }
    }
    if (finished.length > 0) this.runningList = this.runningList.filter((r) => !r.isFinished());
    return { finished, outputs };
  }

  /**
   * Finish requests now, whether waiting or running (abort, stop string): frees their blocks and reports
   * them in the next output's finishedReqIds. Unknown or already finished ids are ignored.
   */
  finishRequests(requestIds: string | Iterable<string>, status: RequestStatus): Request[] {
    if (!isFinished(status)) throw new Error(`finishRequests: ${status} is not a finished status`);
    const ids = typeof requestIds === "string" ? [requestIds] : requestIds;
    const done: Request[] = [];
    let anyRunning = false;
    for (const id of ids) {
      const request = this.requests.get(id);
      if (!request || request.isFinished()) continue;
      if (request.status === RequestStatus.RUNNING) anyRunning = true;
      else this.waitingQueue.remove(request);
      request.status = status;
      this.freeRequest(request);
      done.push(request);
    }
    if (anyRunning) this.runningList = this.runningList.filter((r) => !r.isFinished());
    return done;
  }

  getRequest(requestId: string): Request | undefined {
    return this.requests.get(requestId);
  }

  get running(): readonly Request[] {
    return this.runningList;
  }

  /** Waiting requests in admission order. */
  get waiting(): Request[] {
    return [...this.waitingQueue];
  }

  get numRunning(): number {
    return this.runningList.length;
  }

  get numWaiting(): number {
    return this.waitingQueue.size;
  }

  getNumUnfinishedRequests(): number {
    return this.requests.size;
  }

  hasUnfinishedRequests(): boolean {
    return this.requests.size > 0;
  }

  getStats(): SchedulerStats {
    const prefixCacheStats = this.kvCacheManager.prefixCacheStats;
    return {
      numRunning: this.runningList.length,
      numWaiting: this.waitingQueue.size,
      kvCacheUsage: this.kvCacheManager.usage,
      prefixCacheHitRate: prefixCacheHitRate(prefixCacheStats),
      prefixCacheStats,
      numPreemptions: this.numPreemptions,
    };
  }

  /** Forget the prefix cache; false while any request holds blocks. */
  resetPrefixCache(): boolean {
    return this.kvCacheManager.resetPrefixCache();
  }

  /** FCFS: the most recently admitted; priority: the one sorting last by (priority, arrival, id). */
  private pickPreemptionVictim(): Request {
    const running = this.runningList;
    if (this.config.policy === "fcfs") return running[running.length - 1]!;
    let victim = running[0]!;
    for (const r of running) if (comparePriority(r, victim) > 0) victim = r;
    return victim;
  }

  private preempt(request: Request): void {
    this.kvCacheManager.free(request);
    request.status = RequestStatus.PREEMPTED;
    request.numComputedTokens = 0;
    request.numPreemptions++;
    this.numPreemptions++;
    this.waitingQueue.prepend(request);
  }

  private freeRequest(request: Request): void {
    this.kvCacheManager.free(request);
    this.requests.delete(request.requestId);
    this.pendingFinishedReqIds.add(request.requestId);
  }
}
