import type { LlamaModel } from "../model/llama.ts";
import type { AttentionImpl, DeviceTensor, KVCache } from "../plugin/types.ts";
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
  /** requestId → logits row (length vocab), for the requests whose sampler needs it. */
  logits: Map<string, Float32Array>;
  /** requestId → token picked greedily on the device (backends with argmaxRows, for requests that need no logits). */
  sampled?: Map<string, number>;
}

/** Device scratch for greedy sampling on the device: ids out, the rows to read logits of, those rows. */
interface DeviceSampling {
  ids: DeviceTensor;
  rows: DeviceTensor;
  selected: DeviceTensor;
}

/**
 * Turns one scheduler step into a ragged ModelInput (token ids, positions, slot mapping, block
 * tables, query start locations), runs one forward pass over it, and reads back the logits rows.
 */
export class ModelRunner {
  private scratch: DeviceSampling | null = null;

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

  /**
   * One forward pass. needsLogits(requestId) says which requests' samplers need their logits row;
   * when it is given and the backend samples greedily on the device (argmaxRows), the others get
   * their token from the device and only the rows asked for are read back (vLLM's sampling on the
   * GPU, for greedy decoding).
   */
  async execute(scheduled: readonly ScheduledRequestView[], needsLogits?: (requestId: string) => boolean): Promise<RunnerOutput> {
    const logits = new Map<string, Float32Array>();
    if (scheduled.length === 0) return { logits };
    const { input, samplingReqIds } = this.prepareInput(scheduled);
    const backend = this.model.backend;
    const vocab = this.model.config.vocabSize;
    const n = samplingReqIds.length;
    const keep = needsLogits && backend.ops.argmaxRows ? samplingReqIds.flatMap((id, i) => (needsLogits(id) ? [i] : [])) : null;
    if (!keep || keep.length === n) {
      const out = this.model.forward(input, this.attention, this.kvCache);
      if (n === 0) return { logits };
      const all = (await backend.read(out, n * vocab)) as Float32Array;
      samplingReqIds.forEach((id, i) => logits.set(id, all.subarray(i * vocab, (i + 1) * vocab)));
      return { logits };
    }
    // Written before the forward pass is recorded: a write submits pending work first.
    const sc = this.deviceSampling(n, keep.length, vocab);
    if (keep.length) backend.write(sc.rows, Int32Array.from(keep));
    const out = this.model.forward(input, this.attention, this.kvCache);
    backend.ops.argmaxRows!(sc.ids, out, n);
    if (keep.length) backend.ops.gatherRows(sc.selected, out, sc.rows, keep.length);
    const ids = (await backend.read(sc.ids, n)) as Int32Array;
    const sampled = new Map<string, number>();
    samplingReqIds.forEach((id, i) => sampled.set(id, ids[i]!));
    if (keep.length) {
      const rows = (await backend.read(sc.selected, keep.length * vocab)) as Float32Array;
      keep.forEach((i, j) => {
        const id = samplingReqIds[i]!;
        logits.set(id, rows.subarray(j * vocab, (j + 1) * vocab));
        sampled.delete(id);
      });
    }
    return { logits, sampled };
  }

  private deviceSampling(numRows: number, numKept: number, vocab: number): DeviceSampling {
    const b = this.model.backend;
    const sc = this.scratch;
    if (sc && sc.ids.shape[0]! >= numRows && sc.selected.shape[0]! >= Math.max(1, numKept)) return sc;
    if (sc) for (const t of [sc.ids, sc.rows, sc.selected]) b.free(t);
    const rows = Math.max(numRows, 2 * (sc?.ids.shape[0] ?? 4));
    const kept = Math.max(numKept, 1, sc?.selected.shape[0] ?? 1);
    this.scratch = { ids: b.empty([rows], "i32"), rows: b.empty([rows], "i32"), selected: b.empty([kept, vocab]) };
    return this.scratch;
  }
}
