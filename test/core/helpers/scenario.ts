import { sha256BlockHash, type BlockHashFn } from "../../../src/core/kv-cache/block-hash.ts";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import { RequestStatus, type Request } from "../../../src/core/request.ts";
import { checkSchedulerInvariants } from "../../../src/core/scheduler/check-invariants.ts";
import type { SchedulerConfig } from "../../../src/core/scheduler/config.ts";
import type { SchedulerOutput } from "../../../src/core/scheduler/output.ts";
import { Scheduler } from "../../../src/core/scheduler/scheduler.ts";
import { FakeRunner, RecordingHash } from "./fake-runner.ts";
import { makeRequest } from "./make-request.ts";
import { hashString, mix32, Rng } from "./prng.ts";
import { expectedAlone } from "./reference.ts";

const EOS = 3;
const VOCAB = 40; // small, so random prompts share blocks by chance too

interface Arrival {
  request: Request;
  step: number;
  abort: { step: number; duringStep: boolean } | null;
}

export interface ScenarioResult {
  steps: number;
  preemptions: number;
  prefixHits: number;
  aborted: number;
  requests: number;
}

/** The fake model: a token that depends on the request and the position only (EOS about 1 in 25). */
export function fakeSample(requestId: string, position: number): number {
  const h = mix32(hashString(requestId), position);
  return h % 25 === 0 ? EOS : 4 + (h % (VOCAB - 4));
}

/** A random engine configuration: small pools and budgets so preemption and chunking are common. */
export function randomConfig(rng: Rng): { config: SchedulerConfig; numBlocks: number; enablePrefixCaching: boolean } {
  const blockSize = rng.pick([1, 2, 3, 4, 8, 16]);
  const maxModelLen = rng.int(4, 80);
  const minBlocks = Math.ceil(maxModelLen / blockSize) + 1;
  const numBlocks = minBlocks + (rng.bool(0.5) ? rng.int(0, 2) : rng.int(0, 3 * minBlocks));
  const enableChunkedPrefill = rng.bool(0.75);
  const maxNumBatchedTokens = enableChunkedPrefill ? rng.int(1, 100) : rng.int(maxModelLen, maxModelLen + 60);
  const config: SchedulerConfig = {
    maxNumBatchedTokens,
    maxNumSeqs: rng.int(1, 8),
    maxModelLen,
    blockSize,
    policy: rng.pick(["fcfs", "priority"] as const),
    longPrefillTokenThreshold: rng.bool(0.2) ? rng.int(1, 24) : 0,
    enableChunkedPrefill,
  };
  return { config, numBlocks, enablePrefixCaching: rng.bool(0.85) };
}

function randomArrivals(rng: Rng, maxModelLen: number): Arrival[] {
  const prefixes = Array.from({ length: rng.int(1, 4) }, () => rng.tokens(rng.int(1, maxModelLen), VOCAB));
  const n = rng.int(1, 30);
  const spread = rng.int(0, 60);
  return Array.from({ length: n }, (_, i) => {
    const prefix = rng.pick(prefixes).slice(0, rng.int(0, maxModelLen));
    const prompt = [...prefix, ...rng.tokens(rng.int(0, 12), VOCAB)].slice(0, maxModelLen - 1);
    if (prompt.length === 0) prompt.push(rng.int(4, VOCAB - 1));
    const step = rng.int(0, spread);
    const request = makeRequest(`r${i}`, prompt, {
      maxTokens: rng.int(1, 24),
      ignoreEos: rng.bool(0.3),
      eosTokenId: EOS,
      stopTokenIds: rng.bool(0.2) ? [rng.int(4, VOCAB - 1)] : [],
      priority: rng.int(0, 3),
      arrivalTime: step + i / 1000,
      ...(rng.bool(0.15) ? { cacheSalt: rng.pick(["s1", "s2"]) } : {}),
    });
    const abort = rng.bool(0.15) ? { step: step + rng.int(0, 25), duringStep: rng.bool(0.5) } : null;
    return { request, step, abort };
  });
}

function checkOutput(out: SchedulerOutput, s: Scheduler): void {
  const { maxNumBatchedTokens, maxNumSeqs, longPrefillTokenThreshold, enableChunkedPrefill } = s.config;
  let total = 0;
  const seen = new Set<string>();
  for (const x of out.scheduledRequests) {
    const r = x.request;
    if (seen.has(r.requestId)) throw new Error(`${r.requestId} scheduled twice`);
    seen.add(r.requestId);
    if (x.numScheduledTokens < 1) throw new Error(`${r.requestId} scheduled ${x.numScheduledTokens} tokens`);
    if (x.numComputedTokensBefore + x.numScheduledTokens > r.numTokens) throw new Error(`${r.requestId} scheduled past its tokens`);
    if (longPrefillTokenThreshold > 0 && x.numScheduledTokens > longPrefillTokenThreshold) throw new Error(`${r.requestId} chunk over the threshold`);
    if (!enableChunkedPrefill && longPrefillTokenThreshold === 0 && x.numComputedTokensBefore + x.numScheduledTokens < r.numTokens) {
      throw new Error(`${r.requestId} got a partial prefill with chunked prefill disabled`);
    }
    if (out.preemptedReqIds.includes(r.requestId)) throw new Error(`${r.requestId} both scheduled and preempted`);
    total += x.numScheduledTokens;
  }
  if (total !== out.totalNumScheduledTokens) throw new Error(`total ${out.totalNumScheduledTokens} != sum ${total}`);
  if (total > maxNumBatchedTokens) throw new Error(`${total} tokens over max_num_batched_tokens ${maxNumBatchedTokens}`);
  if (out.scheduledRequests.length > maxNumSeqs) throw new Error(`${out.scheduledRequests.length} requests over max_num_seqs ${maxNumSeqs}`);
  // A step may schedule nothing when a request preempts itself (vLLM stops the running loop there);
  // the next step must then make progress.
  if (total === 0 && s.hasUnfinishedRequests() && out.preemptedReqIds.length === 0) {
    const show = (r: Request) => `${r.requestId}(${r.status} ${r.numComputedTokens}/${r.numTokens} blocks ${s.kvCacheManager.getBlockIds(r.requestId)})`;
    throw new Error(
      `nothing scheduled although requests are unfinished (livelock): running [${s.running.map(show)}] ` +
        `waiting [${s.waiting.map(show)}] free blocks ${s.kvCacheManager.numFreeBlocks}, preempted [${out.preemptedReqIds}]`,
    );
  }
}

/**
 * One randomised run: requests arrive over time, some are aborted (before a step or while it runs),
 * a fake runner checks every KV read; invariants after every step; at the end every request must
 * have exactly the tokens it gets alone (or a prefix of them if aborted) and every block must be free.
 */
export function runScenario(seed: number, hashFn: BlockHashFn = sha256BlockHash, detectCollisions = true): ScenarioResult {
  const rng = new Rng(seed);
  const { config, numBlocks, enablePrefixCaching } = randomConfig(rng);
  const recorder = new RecordingHash(hashFn, detectCollisions);
  const kv = new KVCacheManager({ numBlocks, blockSize: config.blockSize, enablePrefixCaching, maxModelLen: config.maxModelLen, hashFn: recorder.fn });
  const scheduler = new Scheduler(config, kv);
  const runner = new FakeRunner(config.blockSize, fakeSample);
  const verify = { verifyCachedBlock: recorder.verifier(runner) };
  const arrivals = randomArrivals(rng, config.maxModelLen);
  const lastArrival = Math.max(...arrivals.map((a) => a.step));
  let preemptions = 0;
  let stepNo = 0;
  for (; stepNo <= lastArrival || scheduler.hasUnfinishedRequests(); stepNo++) {
    if (stepNo > 20_000) throw new Error("no progress after 20000 steps");
    for (const a of arrivals) if (a.step === stepNo) scheduler.addRequest(a.request);
    const abortNow = (during: boolean) =>
      arrivals.filter((a) => a.abort?.step === stepNo && a.abort.duringStep === during).map((a) => a.request.requestId);
    scheduler.finishRequests(abortNow(false), RequestStatus.FINISHED_ABORTED);
    const out = scheduler.schedule();
    checkOutput(out, scheduler);
    preemptions += out.preemptedReqIds.length;
    checkSchedulerInvariants(scheduler, verify);
    const sampled = out.totalNumScheduledTokens > 0 ? runner.execute(out) : new Map<string, number[]>();
    scheduler.finishRequests(abortNow(true), RequestStatus.FINISHED_ABORTED);
    scheduler.updateFromOutput(out, sampled);
    checkSchedulerInvariants(scheduler, verify);
  }
  let aborted = 0;
  for (const { request: r } of arrivals) {
    const e = expectedAlone(r, fakeSample, config.maxModelLen);
    if (r.status === RequestStatus.FINISHED_ABORTED) {
      aborted++;
      if (r.outputTokenIds.join() !== e.tokens.slice(0, r.numOutputTokens).join()) throw new Error(`aborted ${r.requestId} has wrong tokens`);
    } else {
      if (r.status !== e.status) throw new Error(`${r.requestId} finished ${r.status}, alone it finishes ${e.status}`);
      if (r.outputTokenIds.join() !== e.tokens.join()) throw new Error(`${r.requestId} got [${r.outputTokenIds}], alone [${e.tokens}]`);
    }
  }
  if (kv.usage !== 0 || kv.numFreeBlocks !== numBlocks - 1) throw new Error(`blocks still in use at the end (usage ${kv.usage})`);
  return { steps: stepNo, preemptions, prefixHits: kv.prefixCacheStats.hits + kv.prefixCacheStats.preemptedHits, aborted, requests: arrivals.length };
}
