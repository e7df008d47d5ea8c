import type { AttentionBatch, AttentionImpl, AttentionShape, Backend, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import { f32, i32 } from "../../backend/cpu/tensor.ts";
import type { WasmKernels } from "../../backend/cpu/wasm-kernels.ts";
import { dexp } from "../../../src/util/det-math.ts";
import { dtanh } from "../../backend/cpu/extra-kernels.ts";
import { kvCacheQuantizer, type KvCacheQuantizer } from "../../../src/quant/kv-cache.ts";
import { HALF } from "../../../src/quant/half.ts";
import { f32BitsToF16 } from "../../../src/loader/gguf/dequantize.ts";

/**
 * Reference PagedAttention on the cpu backend. Cache per layer: K and V as
 * [numBlocks, blockSize, numKvHeads, headDim]. Each query token attends causally to positions
 * 0..pos of its own request (or the last `slidingWindow` of them, per layer with
 * layerSlidingWindows), read through its block table; scores are soft-capped when the shape says so.
 * With shape.kvCacheDtype int8/fp8 the cache holds 8-bit codes and a scale per token and KV head,
 * with f16 IEEE halves (src/quant/kv-cache.ts, i32 tensors [numBlocks, blockSize, words]); each
 * request's K/V are decoded into f32 staging (position-major) before it attends. An f16 cache also
 * attends in half precision as llama.cpp's CPU flash attention does (attendHalf): with the same
 * cache type as llama.cpp's default, greedy output follows llama.cpp's further.
 */
export class PagedAttentionCpu implements AttentionImpl {
  private scores = new Float64Array(0);
  /** Per step scratch: cache offsets (slot * kvDim) of the positions one query attends to. */
  private offsets = new Int32Array(0);
  private acc = new Float64Array(0);
  private readonly kvq: KvCacheQuantizer | null;
  private stageK = new Float32Array(0);
  private stageV = new Float32Array(0);
  /** Offsets and f64 scratch in the backend's wasm memory, for attendWasm. */
  private wasmScratch: { offs: Int32Array; items: Int32Array; sc: Float64Array; acc: Float64Array } | null = null;

  /** f16 cache: scratch for the half-precision attention (q in halves, the f16 V accumulator). */
  private readonly half32 = new Float32Array(1);
  private readonly half32Bits = new Uint32Array(this.half32.buffer);
  private qHalf = new Float32Array(0);
  private vkqHalf = new Float32Array(0);

  constructor(private readonly shape: AttentionShape, private readonly backend: Backend) {
    this.kvq = kvCacheQuantizer(shape.kvCacheDtype, shape.numKvHeads, shape.headDim);
  }

  /** x rounded to f32, then to an IEEE half (nearest, ties to even): the value of that half. */
  private toHalf(x: number): number {
    this.half32[0] = x;
    return HALF[f32BitsToF16(this.half32Bits[0]!)]!;
  }

  /**
   * One query head over `len` staged keys in half precision, as llama.cpp's CPU flash attention
   * runs an f16 KV cache (ggml's flash_attn_ext, one query row at a time): q rounded to f16; each
   * K·q summed exactly, rounded to f32 and scaled in f32 (soft-capped if asked); an online softmax
   * in f32 (running max M and sum S); the V accumulator held in f16, rescaled by exp(Mold - M) on a
   * new max and updated as acc + v * exp(s - M) rounded to f16 after every key; finally acc * (1/S).
   */
  private attendHalf(qa: Float32Array, qo: number, kCache: Float32Array, vCache: Float32Array, offs: Int32Array, kvo: number, len: number, oa: Float32Array): void {
    const { headDim } = this.shape;
    const fr = Math.fround, cap = this.shape.logitsSoftCap ?? 0;
    const scale = fr(cap > 0 ? fr(this.shape.smScale) / cap : this.shape.smScale);
    if (this.qHalf.length < headDim) { this.qHalf = new Float32Array(headDim); this.vkqHalf = new Float32Array(headDim); }
    const q16 = this.qHalf, acc = this.vkqHalf;
    for (let d = 0; d < headDim; d++) q16[d] = this.toHalf(qa[qo + d]!);
    acc.fill(0, 0, headDim);
    let M = -Infinity, S = 0;
    for (let j = 0; j < len; j++) {
      const o = offs[j]! + kvo;
      let s = 0;
      for (let d = 0; d < headDim; d++) s += q16[d]! * kCache[o + d]!;
      s = fr(fr(s) * scale);
      if (cap > 0) s = fr(cap * dtanh(s));
      let ms = 1, vs = 1;
      if (s > M) {
        ms = fr(dexp(M - s));
        M = s;
        for (let d = 0; d < headDim; d++) acc[d] = this.toHalf(acc[d]! * ms);
      } else {
        vs = fr(dexp(s - M));
      }
      for (let d = 0; d < headDim; d++) acc[d] = this.toHalf(acc[d]! + vCache[o + d]! * vs);
      S = fr(fr(S * ms) + vs);
    }
    const inv = S === 0 ? 0 : fr(1 / S);
    for (let d = 0; d < headDim; d++) oa[qo + d] = acc[d]! * inv;
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
    if (!kvq && cap === 0 && this.attendWasm(b, slidingWindow, qa, f32(kc), f32(vc), oa)) return;
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
          if (half) { this.attendHalf(qa, qo, kCache, vCache, offs, kvo, len, oa); continue; }
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

  /**
   * Attention in WebAssembly, when the backend keeps q, out and the cache in its wasm memory
   * (false when it cannot). headDim a multiple of 4: f32 SIMD with an online softmax (wasm/ops.ts
   * attendItems, about 10x the f64 loops and within f32 rounding of them), one item per query
   * head, split over the backend's threads. Otherwise the f64 loops ported exactly (same bits).
   */
  private attendWasm(b: AttentionBatch, slidingWindow: number | null, qa: Float32Array, kCache: Float32Array, vCache: Float32Array, oa: Float32Array): boolean {
    const wasm = (this.backend as { wasm?: WasmKernels | null }).wasm;
    const fn = wasm?.ops();
    if (!wasm || !fn) return false;
    const qAt = wasm.addressOf(qa), oAt = wasm.addressOf(oa), kAt = wasm.addressOf(kCache), vAt = wasm.addressOf(vCache);
    if (qAt < 0 || oAt < 0 || kAt < 0 || vAt < 0) return false;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const kvDim = numKvHeads * headDim, group = numHeads / numKvHeads, bs = b.blockSize;
    // Per request, the cache offsets of its positions 0..seqLen-1; a query reads a window of them.
    let offsLen = 0;
    for (let r = 0; r < b.numReqs; r++) offsLen += b.seqLens[r]!;
    const items = b.numTokens * numHeads;
    const s = this.wasmScratch;
    if (!s || s.offs.length < offsLen || s.items.length < items * 6 || s.acc.length < headDim) {
      const offs = wasm.allocArray(Int32Array, Math.max(offsLen * 2, 256)), table = wasm.allocArray(Int32Array, Math.max(items * 12, 96));
      const sc = wasm.allocArray(Float64Array, Math.max(offsLen * 2, 256)), acc = wasm.allocArray(Float64Array, Math.max(headDim, 16));
      if (!offs || !table || !sc || !acc) return false;
      this.wasmScratch = { offs, items: table, sc, acc };
    }
    const { offs, items: table } = this.wasmScratch!;
    const offsAt = wasm.addressOf(offs), tableAt = wasm.addressOf(table);
    const scAt = wasm.addressOf(this.wasmScratch!.sc), accAt = wasm.addressOf(this.wasmScratch!.acc);
    const simd = headDim % 4 === 0;
    let base = 0, n = 0, keys = 0;
    for (let r = 0; r < b.numReqs; r++) {
      const tableOff = r * b.maxBlocksPerReq, seqLen = b.seqLens[r]!;
      for (let p = 0; p < seqLen; p++) offs[base + p] = (b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs)) * kvDim;
      // Head-major within a request: consecutive items read the same keys (cpu-native tiles them).
      for (let h = 0; h < numHeads; h++) {
        const kvo = ((h / group) | 0) * headDim;
        for (let t = b.queryStartLoc[r]!; t < b.queryStartLoc[r + 1]!; t++) {
          const pos = b.positions[t]!;
          const start = slidingWindow === null ? 0 : Math.max(0, pos - slidingWindow + 1);
          const len = pos + 1 - start, at = offsAt + (base + start) * 4;
          keys += len;
          const qo = (t * numHeads + h) * headDim;
          if (simd) {
            table[n] = oAt + qo * 4; table[n + 1] = qAt + qo * 4; table[n + 2] = kAt + kvo * 4; table[n + 3] = vAt + kvo * 4;
            table[n + 4] = at; table[n + 5] = len;
            n += 6;
          } else {
            fn.attendHead(oAt + qo * 4, qAt + qo * 4, kAt + kvo * 4, vAt + kvo * 4, at, len, headDim, smScale, scAt, accAt);
          }
        }
      }
      base += seqLen;
    }
    if (simd) wasm.attendItems(tableAt, n / 6, headDim, smScale, keys);
    return true;
  }
}
