import { Request, RequestStatus } from "../core/request.ts";
import { KVCacheManager } from "../core/kv-cache/kv-cache-manager.ts";
import { numBlocksFromMemory } from "../core/kv-cache/kv-cache-size.ts";
import { prefixCacheHitRate } from "../core/kv-cache/prefix-cache-stats.ts";
import { Scheduler } from "../core/scheduler/scheduler.ts";
import { ModelRunner } from "../runner/model-runner.ts";
import { makeSamplingParams, type SamplingParams } from "../sampling/params.ts";
import { Prng, randomSeed } from "../sampling/prng.ts";
import { needsLogitsRow, sampleToken } from "../sampling/sampler.ts";
import { computeLogprobs, type PositionLogprobs } from "../sampling/logprobs.ts";
import { UsageError } from "../util/errors.ts";
import { DEFAULT_KV_CACHE_CAP, makeEngineArgs, type EngineArgs } from "./engine-args.ts";
import type { LoadedModel } from "./load-model.ts";
import { OutputProcessor, ParentRequest } from "./output-processor.ts";
import type { RequestOutput, RequestOutputKind } from "./request-output.ts";

export interface AddRequestOptions {
  priority?: number;
  outputKind?: RequestOutputKind;
  cacheSalt?: string;
}

export interface EngineStats {
  numRunning: number;
  numWaiting: number;
  kvCacheUsage: number;
  numBlocks: number;
  prefixCacheHitRate: number;
  prefixCacheQueries: number;
  prefixCacheHits: number;
  numPreemptions: number;
}

/**
 * The synchronous engine core (vLLM's LLMEngine/EngineCore in one process): requests in, one
 * scheduler step + one forward pass + sampling per step(), text outputs back.
 */
export class LLMEngine {
  readonly args: EngineArgs;
  readonly maxModelLen: number;
  readonly kvCacheManager: KVCacheManager;
  readonly scheduler: Scheduler;
  readonly runner: ModelRunner;
  private readonly outputs = new OutputProcessor();
  private readonly parents = new Map<string, ParentRequest>();
  /** child request id → [parent, sample index] */
  private readonly children = new Map<string, [ParentRequest, number]>();
  private readonly rngs = new Map<string, Prng>();
  private readonly requests = new Map<string, Request>();
  /**
   * Samples 1..n-1 of an n > 1 request wait until sample 0 has computed the prompt, then enter the
   * scheduler and hit its prompt blocks in the prefix cache (blocks are registered once written).
   */
  private readonly deferredSamples = new Map<ParentRequest, Request[]>();
  private numPreemptions = 0;

  constructor(readonly loaded: LoadedModel, args: Partial<EngineArgs> = {}) {
    this.args = makeEngineArgs(args);
    this.maxModelLen = Math.min(this.args.maxModelLen ?? loaded.maxModelLen, loaded.maxModelLen);
    const bytesPerToken = loaded.attention.kvBytesPerToken();
    const wanted = this.args.kvCacheMemory ?? Math.min(DEFAULT_KV_CACHE_CAP, (this.args.maxNumSeqs * this.maxModelLen + 4 * this.args.blockSize) * bytesPerToken);
    const numBlocks = numBlocksFromMemory(wanted, this.args.blockSize, bytesPerToken, this.maxModelLen);
    this.kvCacheManager = new KVCacheManager({
      numBlocks, blockSize: this.args.blockSize, enablePrefixCaching: this.args.enablePrefixCaching, maxModelLen: this.maxModelLen,
    });
    this.scheduler = new Scheduler({
      maxNumBatchedTokens: this.args.maxNumBatchedTokens, maxNumSeqs: this.args.maxNumSeqs, maxModelLen: this.maxModelLen,
      blockSize: this.args.blockSize, policy: this.args.policy, enableChunkedPrefill: this.args.enableChunkedPrefill,
    }, this.kvCacheManager);
    const cache = loaded.attention.allocateKvCache(numBlocks, this.args.blockSize);
    this.runner = new ModelRunner(loaded.model, loaded.attention, cache);
  }

  get tokenizer() {
    return this.loaded.tokenizer;
  }

  /** Tokenize like the model expects: BOS when the vocabulary asks for it. */
  encodePrompt(prompt: string): number[] {
    return this.loaded.tokenizer.encode(prompt, { addSpecial: true });
  }

  addRequest(requestId: string, prompt: string | number[], params: Partial<SamplingParams> = {}, opts: AddRequestOptions = {}): void {
    if (this.parents.has(requestId)) throw new UsageError(`request id "${requestId}" is already in use`);
    let sp = makeSamplingParams(params);
    // generation_config.json's extra EOS ids stop like EOS, unless ignore_eos (as vLLM does).
    const extraEos = sp.ignoreEos ? [] : this.loaded.eosTokenIds.filter((id) => !sp.stopTokenIds.includes(id) && id !== this.loaded.tokenizer.eosId);
    if (extraEos.length) sp = { ...sp, stopTokenIds: [...sp.stopTokenIds, ...extraEos] };
    const promptIds = typeof prompt === "string" ? this.encodePrompt(prompt) : prompt.slice();
    if (promptIds.length === 0) throw new UsageError("the prompt is empty and the model adds no BOS token; give at least one token");
    const vocab = this.loaded.config.vocabSize;
    const badId = promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab);
    if (badId !== undefined) throw new UsageError(`prompt token id ${badId} is outside the vocabulary (0..${vocab - 1})`);
    const badBias = Object.keys(sp.logitBias ?? {}).find((k) => Number(k) >= vocab);
    if (badBias !== undefined) throw new UsageError(`logit_bias token id ${badBias} is outside the vocabulary (0..${vocab - 1})`);
    if (promptIds.length >= this.maxModelLen) {
      throw new UsageError(`prompt has ${promptIds.length} tokens, which leaves no room to generate within max_model_len ${this.maxModelLen}`);
    }
    const now = Date.now() / 1000;
    const parent = new ParentRequest(requestId, typeof prompt === "string" ? prompt : null, promptIds, opts.outputKind ?? "delta", sp.n, this.loaded.tokenizer, sp.stop, now);
    const baseSeed = sp.seed ?? randomSeed();
    const eos = sp.ignoreEos ? null : this.loaded.tokenizer.eosId;
    parent.childIds.forEach((childId, index) => {
      const req = new Request({
        requestId: childId, promptTokenIds: promptIds, samplingParams: sp, eosTokenId: eos, arrivalTime: now,
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.cacheSalt !== undefined ? { cacheSalt: opts.cacheSalt } : {}),
      });
      if (index === 0 || !this.args.enablePrefixCaching) this.scheduler.addRequest(req);
      else this.deferredSamples.set(parent, [...(this.deferredSamples.get(parent) ?? []), req]);
      this.children.set(childId, [parent, index]);
      this.rngs.set(childId, new Prng(baseSeed + index));
      this.requests.set(childId, req);
    });
    this.parents.set(requestId, parent);
  }

  /** Abort requests at any moment; their blocks are freed now. Returns the final outputs of those still running. */
  abortRequest(requestIds: readonly string[]): RequestOutput[] {
    const out: RequestOutput[] = [];
    const now = Date.now() / 1000;
    for (const id of requestIds) {
      const parent = this.parents.get(id);
      if (!parent) continue;
      const live = parent.childIds.filter((c) => this.requests.has(c));
      this.scheduler.finishRequests(live, RequestStatus.FINISHED_ABORTED);
      for (const req of this.deferredSamples.get(parent) ?? []) req.status = RequestStatus.FINISHED_ABORTED;
      this.deferredSamples.delete(parent);
      for (const c of live) this.finishChild(c, this.requests.get(c)!, now);
      const o = this.outputs.makeOutput(parent, new Set(parent.samples.map((_, i) => i)));
      if (o) out.push(o);
      this.parents.delete(id);
    }
    return out;
  }

  hasUnfinishedRequests(): boolean {
    return this.parents.size > 0;
  }

  /** One step: schedule, run the model on the ragged batch, sample, update, and produce outputs. */
  async step(): Promise<RequestOutput[]> {
    const sched = this.scheduler.schedule();
    const now0 = Date.now() / 1000;
    this.numPreemptions += sched.preemptedReqIds.length;
    for (const s of sched.scheduledRequests) {
      const p = this.children.get(s.request.requestId)?.[0];
      if (p && p.metrics.firstScheduledTime === null) {
        p.metrics.firstScheduledTime = now0;
        p.metrics.numCachedTokens = Math.max(0, s.request.numCachedTokens);
      }
    }
    const sampled = new Map<string, number[]>();
    const logprobs = new Map<string, PositionLogprobs[]>();
    if (sched.totalNumScheduledTokens > 0) {
      const { logits, sampled: onDevice } = await this.runner.execute(sched.scheduledRequests, (id) => needsLogitsRow(this.requests.get(id)!.samplingParams));
      for (const [id, token] of onDevice ?? []) sampled.set(id, [token]);
      for (const [id, row] of logits) {
        const req = this.requests.get(id)!;
        const token = sampleToken(row, {
          params: req.samplingParams, promptTokenIds: req.promptTokenIds, outputTokenIds: req.outputTokenIds, rng: this.rngs.get(id)!,
        });
        sampled.set(id, [token]);
        const numTop = req.samplingParams.logprobs;
        if (numTop != null) logprobs.set(id, [computeLogprobs(row, token, numTop)]);
      }
    }
    const update = this.scheduler.updateFromOutput(sched, sampled);
    this.releaseDeferredSamples();
    const now = Date.now() / 1000;
    const changed = new Map<ParentRequest, Set<number>>();
    const mark = (p: ParentRequest, i: number) => (changed.get(p) ?? changed.set(p, new Set()).get(p)!).add(i);
    const stopped: string[] = [];
    for (const { request, newTokenIds } of update.outputs) {
      const entry = this.children.get(request.requestId);
      if (!entry) continue;
      const [parent, index] = entry;
      mark(parent, index);
      if (this.outputs.processTokens(parent, index, newTokenIds, now, logprobs.get(request.requestId)) !== null && !request.isFinished()) stopped.push(request.requestId);
    }
    if (stopped.length) {
      this.scheduler.finishRequests(stopped, RequestStatus.FINISHED_STOPPED);
    }
    for (const req of [...update.finished, ...stopped.map((id) => this.requests.get(id)!)]) {
      const entry = this.children.get(req.requestId);
      if (!entry) continue;
      mark(entry[0], entry[1]);
      this.finishChild(req.requestId, req, now);
    }
    const results: RequestOutput[] = [];
    for (const [parent, idx] of changed) {
      const o = this.outputs.makeOutput(parent, idx);
      if (o) results.push(o);
      if (parent.finished) this.parents.delete(parent.requestId);
    }
    return results;
  }

  private releaseDeferredSamples(): void {
    for (const [parent, reqs] of this.deferredSamples) {
      const first = this.requests.get(parent.childIds[0]!);
      if (first && !first.isFinished() && first.numComputedTokens < first.numPromptTokens) continue;
      for (const r of reqs) this.scheduler.addRequest(r);
      this.deferredSamples.delete(parent);
    }
  }

  private finishChild(childId: string, req: Request, now: number): void {
    const entry = this.children.get(childId);
    if (!entry) return;
    this.outputs.finishSample(entry[0], entry[1], req, "abort", now);
    this.children.delete(childId);
    this.rngs.delete(childId);
    this.requests.delete(childId);
  }

  stats(): EngineStats {
    const s = this.kvCacheManager.prefixCacheStats;
    return {
      numRunning: this.scheduler.numRunning, numWaiting: this.scheduler.numWaiting,
      kvCacheUsage: this.kvCacheManager.usage, numBlocks: this.kvCacheManager.blockPool.numBlocks,
      prefixCacheHitRate: prefixCacheHitRate(s), prefixCacheQueries: s.queries, prefixCacheHits: s.hits,
      numPreemptions: this.numPreemptions,
    };
  }
}
