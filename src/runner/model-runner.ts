import type { LlamaModel } from "../model/llama.ts";
import type { AttentionImpl, KVCache } from "../plugin/types.ts";
import type { ModelInput } from "./model-input.ts";

/** The slice of a scheduled request the runner reads (the scheduler's output carries more). */
export interface ScheduledRequestView {
  request: { requestId: string; allTokenIds: readonly number[]; numTokens: number };
  numScheduledTokens: number;
  /** The request's whole block table after this step's allocation. */
  blockIds: readonly number[];
  /** Tokens already in the KV cache before this step. */
  numComputedTokensBefore: number;
}

/** Logits of the requests that sample this step (those whose last scheduled token is their last token). */
export interface RunnerOutput {
  /** requestId → logits row (length vocab). */
  logits: Map<string, Float32Array>;
}

/**
 * Turns one scheduler step into a ragged ModelInput (token ids, positions, slot mapping, block
 * tables, query start locations), runs one forward pass over it, and reads back the logits rows.
 */
export class ModelRunner {
  constructor(
    readonly model: LlamaModel,
    readonly attention: AttentionImpl,
    readonly kvCache: KVCache,
  ) {}

  get blockSize(): number {
    return this.kvCache.blockSize;
  }

  prepareInput(scheduled: readonly ScheduledRequestView[]): { input: ModelInput; samplingReqIds: string[] } {
    const bs = this.kvCache.blockSize;
    let numTokens = 0;
    let maxBlocks = 1;
    for (const s of scheduled) {
      numTokens += s.numScheduledTokens;
      maxBlocks = Math.max(maxBlocks, s.blockIds.length);
    }
    const numReqs = scheduled.length;
    const tokenIds = new Int32Array(numTokens);
    const positions = new Int32Array(numTokens);
    const slotMapping = new Int32Array(numTokens);
    const queryStartLoc = new Int32Array(numReqs + 1);
    const seqLens = new Int32Array(numReqs);
    const blockTables = new Int32Array(numReqs * maxBlocks);
    const logitsIndices: number[] = [];
    const samplingReqIds: string[] = [];
    let t = 0;
    scheduled.forEach((s, r) => {
      const start = s.numComputedTokensBefore;
      const all = s.request.allTokenIds;
      queryStartLoc[r] = t;
      for (let i = 0; i < s.numScheduledTokens; i++, t++) {
        const pos = start + i;
        tokenIds[t] = all[pos]!;
        positions[t] = pos;
        const block = s.blockIds[Math.floor(pos / bs)];
        if (block === undefined) throw new Error(`request ${s.request.requestId}: no block for position ${pos}`);
        slotMapping[t] = block * bs + (pos % bs);
      }
      seqLens[r] = start + s.numScheduledTokens;
      blockTables.set(s.blockIds, r * maxBlocks);
      if (start + s.numScheduledTokens >= s.request.numTokens) {
        logitsIndices.push(t - 1);
        samplingReqIds.push(s.request.requestId);
      }
    });
    queryStartLoc[numReqs] = t;
    const input: ModelInput = {
      numTokens, numReqs, tokenIds, positions, slotMapping, queryStartLoc, seqLens, blockTables,
      maxBlocksPerReq: maxBlocks, blockSize: bs, logitsIndices: Int32Array.from(logitsIndices),
    };
    return { input, samplingReqIds };
  }

  async execute(scheduled: readonly ScheduledRequestView[]): Promise<RunnerOutput> {
    const logits = new Map<string, Float32Array>();
    if (scheduled.length === 0) return { logits };
    const { input, samplingReqIds } = this.prepareInput(scheduled);
    const out = this.model.forward(input, this.attention, this.kvCache);
    if (samplingReqIds.length === 0) return { logits };
    const vocab = this.model.config.vocabSize;
    const all = (await this.model.backend.read(out, samplingReqIds.length * vocab)) as Float32Array;
    samplingReqIds.forEach((id, i) => logits.set(id, all.subarray(i * vocab, (i + 1) * vocab)));
    return { logits };
  }
}
