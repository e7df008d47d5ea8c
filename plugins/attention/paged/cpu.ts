import type { AttentionBatch, AttentionImpl, AttentionShape, Backend, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import { f32, i32 } from "../../backend/cpu/tensor.ts";
import { dexp } from "../../../src/util/det-math.ts";
import { dtanh } from "../../backend/cpu/extra-kernels.ts";
import { kvCacheQuantizer, type KvCacheQuantizer } from "../../../src/quant/kv-cache.ts";
import { HalfPrecisionAttention } from "./half-attention.ts";
import { PagedWasmAttention } from "./cpu-wasm.ts";

/**
 * Reference PagedAttention on the cpu backend. Cache per layer: K and V as
 * [numBlocks, blockSize, numKvHeads, headDim]. Each query token attends causally to positions
 * 0..pos of its own request (or the last `slidingWindow` of them, per layer with
 * layerSlidingWindows), read through its block table; scores are soft-capped when the shape says so.
 * With shape.kvCacheDtype int8/fp8 the cache holds 8-bit codes and a scale per token and KV head,
 * with f16 IEEE halves (src/quant/kv-cache.ts, i32 tensors [numBlocks, blockSize, words]); each
 * request's K/V are decoded into f32 staging (position-major) before it attends. An f16 cache also
 * attends in half precision as llama.cpp's CPU flash attention does (half-attention.ts): with the
 * same cache type as llama.cpp's default, greedy output follows llama.cpp's further.
 * With the backend's wasm kernels and no soft-cap, attention runs in WebAssembly over the threads
 * (cpu-wasm.ts): f32 SIMD for the f32 cache and for int8/fp8 (staged in wasm memory: the f32
 * cache's bits on the dequantized values), the half-precision port for f16 (the same bits as the
 * JavaScript loops here). Otherwise these JavaScript loops, the exact reference.
 */
export class PagedAttentionCpu implements AttentionImpl {
  private scores = new Float64Array(0);
  /** Per step scratch: cache offsets (slot * kvDim) of the positions one query attends to. */
  private offsets = new Int32Array(0);
  private acc = new Float64Array(0);
  private readonly kvq: KvCacheQuantizer | null;
  private stageK = new Float32Array(0);
  private stageV = new Float32Array(0);
  /** The WebAssembly paths (null without wasm kernels): see cpu-wasm.ts. */
  private readonly wasm: PagedWasmAttention | null;
  /** f16 cache: the half-precision attention in JavaScript (soft-capped scores, or no wasm). */
  private readonly half: HalfPrecisionAttention;

  constructor(private readonly shape: AttentionShape, private readonly backend: Backend) {
    this.kvq = kvCacheQuantizer(shape.kvCacheDtype, shape.numKvHeads, shape.headDim);
    this.wasm = PagedWasmAttention.of(shape, backend);
    this.half = new HalfPrecisionAttention(shape);
  }

  kvBytesPerToken(): number {
    if (this.kvq) return 2 * this.shape.numLayers * this.kvq.bytesPerToken;
    return 2 * this.shape.numLayers * this.shape.numKvHeads * this.shape.headDim * 4;
  }

  allocateKvCache(numBlocks: number, blockSize: number): KVCache {
    const { numLayers, numKvHeads, headDim } = this.shape;
    const dims = this.kvq ? [numBlocks, blockSize, this.kvq.wordsPerToken] : [numBlocks, blockSize, numKvHeads, headDim];
    const dtype = this.kvq ? "i32" : "f32";
    const layers: Array<readonly [DeviceTensor, DeviceTensor]> = [];
    for (let l = 0; l < numLayers; l++) layers.push([this.backend.empty(dims, dtype), this.backend.empty(dims, dtype)]);
    return { numBlocks, blockSize, layers, bytesPerToken: this.kvBytesPerToken() };
  }

  plan(batch: AttentionBatch): AttentionBatch {
    return batch;
  }

  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void {
    const b = metadata as AttentionBatch;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const layerWindows = this.shape.layerSlidingWindows;
    const slidingWindow = layerWindows ? (layerWindows[layer] ?? null) : this.shape.slidingWindow;
    const cap = this.shape.logitsSoftCap ?? 0;
    const kvDim = numKvHeads * headDim;
    const [kc, vc] = cache.layers[layer]!;
    const kvq = this.kvq;
    const kViews = kvq ? kvq.views(i32(kc)) : null, vViews = kvq ? kvq.views(i32(vc)) : null;
    let kCache = kvq ? this.stageK : f32(kc), vCache = kvq ? this.stageV : f32(vc);
    const qa = f32(q), ka = f32(k), va = f32(v), oa = f32(out);
    // 1. Write this step's K/V into the cache by slot mapping.
    for (let t = 0; kvq && t < b.numTokens; t++) {
      if (b.slotMapping[t]! < 0) continue;
      kvq.store(kViews!, b.slotMapping[t]!, ka, t * kvDim);
      kvq.store(vViews!, b.slotMapping[t]!, va, t * kvDim);
    }
    for (let t = 0; !kvq && t < b.numTokens; t++) {
      const slot = b.slotMapping[t]!;
      if (slot < 0) continue;
      kCache.set(ka.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
      vCache.set(va.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
    }
    // 2. Attend. Slot offsets are resolved once per query token and shared by all heads.
    if (cap === 0 && this.wasm) {
      if (!kvq && this.wasm.attend(b, slidingWindow, qa, f32(kc), f32(vc), oa)) return;
      if (kvq?.dtype === "f16" && this.wasm.attendHalf(b, slidingWindow, qa, i32(kc), i32(vc), kvq, oa)) return;
      if (kvq && kvq.dtype !== "f16" && this.wasm.attendStaged(b, slidingWindow, qa, kvq, i32(kc), i32(vc), oa)) return;
    }
    const group = numHeads / numKvHeads;
    const bs = b.blockSize;
    const half = kvq?.dtype === "f16";
    if (this.acc.length < headDim) this.acc = new Float64Array(headDim);
    const acc = this.acc;
    for (let r = 0; r < b.numReqs; r++) {
      const tableOff = r * b.maxBlocksPerReq;
      if (kvq) {
        // Dequantize the positions this request's queries can see into position-major staging.
        const seqLen = b.seqLens[r]!;
        const p0 = slidingWindow === null ? 0 : Math.max(0, b.positions[b.queryStartLoc[r]!]! - slidingWindow + 1);
        if (this.stageK.length < seqLen * kvDim) { this.stageK = new Float32Array(seqLen * kvDim * 2); this.stageV = new Float32Array(seqLen * kvDim * 2); }
        kCache = this.stageK; vCache = this.stageV;
        for (let p = p0; p < seqLen; p++) {
          const slot = b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs);
          kvq.load(kViews!, slot, kCache, p * kvDim);
          kvq.load(vViews!, slot, vCache, p * kvDim);
        }
      }
      for (let t = b.queryStartLoc[r]!; t < b.queryStartLoc[r + 1]!; t++) {
        const pos = b.positions[t]!;
        const start = slidingWindow === null ? 0 : Math.max(0, pos - slidingWindow + 1);
        const len = pos + 1 - start;
        if (this.scores.length < len) {
          this.scores = new Float64Array(len * 2);
          this.offsets = new Int32Array(len * 2);
        }
        const sc = this.scores;
        const offs = this.offsets;
        for (let j = 0; j < len; j++) {
          const p = start + j;
          offs[j] = (kvq ? p : b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs)) * kvDim;
        }
        for (let h = 0; h < numHeads; h++) {
          const qo = t * numHeads * headDim + h * headDim;
          const kvo = ((h / group) | 0) * headDim;
          if (half) { this.half.attend(qa, qo, kCache, vCache, offs, kvo, len, oa); continue; }
          let max = -Infinity;
          for (let j = 0; j < len; j++) {
            const ko = offs[j]! + kvo;
            let s = 0;
            for (let d = 0; d < headDim; d++) s += qa[qo + d]! * kCache[ko + d]!;
            s *= smScale;
            if (cap > 0) s = cap * dtanh(s / cap);
            sc[j] = s;
            if (s > max) max = s;
          }
          let sum = 0;
          for (let j = 0; j < len; j++) { const e = dexp(sc[j]! - max); sc[j] = e; sum += e; }
          acc.fill(0, 0, headDim);
          for (let j = 0; j < len; j++) {
            const vo = offs[j]! + kvo;
            const w = sc[j]! / sum;
            for (let d = 0; d < headDim; d++) acc[d] = acc[d]! + w * vCache[vo + d]!;
          }
          for (let d = 0; d < headDim; d++) oa[qo + d] = acc[d]!;
        }
      }
    }
  }
}
