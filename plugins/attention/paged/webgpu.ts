import type { AttentionBatch, AttentionImpl, AttentionShape, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { gpuTensor } from "../../backend/webgpu/tensor.ts";
import { allocateF32KvCache, f32KvBytesPerToken } from "../common/f32-kv-cache.ts";
import { ATTN_MAX_HEAD_DIM, PAGED_ATTENTION, RESHAPE_AND_CACHE } from "./webgpu-kernels.ts";

/** Why the webgpu PagedAttention cannot serve `shape` (empty when it can). */
export function pagedWebGpuProblems(shape: AttentionShape): string[] {
  const reasons: string[] = [];
  if (shape.kvCacheDtype && shape.kvCacheDtype !== "auto") reasons.push(`paged on webgpu keeps an f32 KV cache only (--kv-cache-dtype ${shape.kvCacheDtype} runs on cpu)`);
  if (shape.headDim > ATTN_MAX_HEAD_DIM) reasons.push(`paged on webgpu supports head size up to ${ATTN_MAX_HEAD_DIM} (got ${shape.headDim})`);
  return reasons;
}

/**
 * Uploads a step's i32 metadata, [positions N | slotMapping N | request of each token N | blockTables
 * R * maxBlocksPerReq] and, with seqLens, [seqLens R], into `current` (or a new tensor when it is too
 * small; the old one is freed). Returns the tensor that holds it.
 */
export function writeStepMetadata(backend: WebGpuBackend, batch: AttentionBatch, current: DeviceTensor | null, seqLens: boolean): DeviceTensor {
  const n = batch.numTokens, R = batch.numReqs, tableWords = R * batch.maxBlocksPerReq;
  const words = 3 * n + tableWords + (seqLens ? R : 0);
  const host = new Int32Array(words);
  host.set(batch.positions.subarray(0, n), 0);
  host.set(batch.slotMapping.subarray(0, n), n);
  for (let r = 0; r < R; r++) host.fill(r, 2 * n + batch.queryStartLoc[r]!, 2 * n + batch.queryStartLoc[r + 1]!);
  host.set(batch.blockTables.subarray(0, tableWords), 3 * n);
  if (seqLens) host.set(batch.seqLens.subarray(0, R), 3 * n + tableWords);
  let meta = current;
  if (!meta || meta.shape[0]! < words) {
    if (meta) backend.free(meta);
    meta = backend.empty([Math.max(words * 2, 256)], "i32");
  }
  backend.write(meta, host);
  return meta;
}

/** What plan() hands forward(): the step and its uploaded metadata. */
export interface StepPlan {
  batch: AttentionBatch;
  meta: DeviceTensor;
}

/**
 * What the webgpu attention plugins over the f32 paged KV cache share: the cache's size and
 * allocation, and plan(), which uploads one metadata buffer per step (writeStepMetadata; with
 * `seqLens` each request's sequence length too).
 */
export abstract class F32PagedWebGpuAttention {
  private meta: DeviceTensor | null = null;

  constructor(protected readonly shape: AttentionShape, protected readonly backend: WebGpuBackend, private readonly seqLens: boolean) {}

  kvBytesPerToken(): number {
    return f32KvBytesPerToken(this.shape);
  }

  allocateKvCache(numBlocks: number, blockSize: number): KVCache {
    return allocateF32KvCache(this.backend, this.shape, numBlocks, blockSize);
  }

  plan(batch: AttentionBatch): StepPlan {
    this.meta = writeStepMetadata(this.backend, batch, this.meta, this.seqLens);
    return { batch, meta: this.meta };
  }

  /** Records the write of the step's n tokens of k and v into layer `layer`'s cache; returns its K and V tensors. */
  protected writeCache(layer: number, k: DeviceTensor, v: DeviceTensor, cache: KVCache, meta: DeviceTensor, n: number): [DeviceTensor, DeviceTensor] {
    const kvDim = this.shape.numKvHeads * this.shape.headDim;
    const [kc, vc] = cache.layers[layer]!;
    const g = gpuTensor;
    this.backend.dispatch(
      RESHAPE_AND_CACHE, [n * kvDim, kvDim, n],
      [{ tensor: g(kc), write: true }, { tensor: g(vc), write: true }, { tensor: g(k) }, { tensor: g(v) }, { tensor: g(meta) }],
      Math.ceil((n * kvDim) / 256),
    );
    return [kc, vc];
  }
}

/**
 * PagedAttention on the webgpu backend: the f32 paged KV cache ([numBlocks, blockSize, numKvHeads,
 * headDim] per layer) lives on the GPU; plan() uploads one i32 metadata buffer per step (positions,
 * slot mapping, each token's request, block tables) and forward() records two dispatches per layer.
 */
export class PagedAttentionWebGpu extends F32PagedWebGpuAttention implements AttentionImpl {
  constructor(shape: AttentionShape, backend: WebGpuBackend) {
    super(shape, backend, false);
  }

  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void {
    const { batch: b, meta } = metadata as StepPlan;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const windows = this.shape.layerSlidingWindows;
    const slidingWindow = windows ? (windows[layer] ?? null) : this.shape.slidingWindow;
    const n = b.numTokens;
    if (n === 0) return;
    const [kc, vc] = this.writeCache(layer, k, v, cache, meta, n);
    const g = gpuTensor;
    this.backend.dispatch(
      PAGED_ATTENTION, [n, numHeads, numKvHeads, headDim, b.blockSize, b.maxBlocksPerReq, smScale, slidingWindow ?? 0, this.shape.logitsSoftCap ?? 0],
      [{ tensor: g(out), write: true }, { tensor: g(q) }, { tensor: g(kc) }, { tensor: g(vc) }, { tensor: g(meta) }],
      n * numHeads,
    );
  }
}
