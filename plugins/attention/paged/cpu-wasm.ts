import type { AttentionBatch, AttentionShape, Backend } from "../../../src/plugin/types.ts";
import type { WasmKernels } from "../../backend/cpu/wasm-kernels.ts";
import type { KvCacheQuantizer } from "../../../src/quant/kv-cache.ts";
import { E4M3_TABLE } from "../../../src/quant/fp8.ts";

/** Offsets and f64 scratch in the backend's wasm memory (the allocator never frees: grown geometrically). */
interface Scratch {
  offs: Int32Array;
  table: Int32Array;
  sc: Float64Array;
  acc: Float64Array;
}

/** Words per item of wasm/attend-f32.ts attendItems and of wasm/attend-half.ts attendHalfItems. */
const ITEM_WORDS = 6, HALF_ITEM_WORDS = 7;

/**
 * The cpu paged attention in WebAssembly, over q, out and the cache in the backend's wasm memory
 * (each method returns false when it cannot run: no ops module, a tensor outside wasm memory, out
 * of wasm memory; the caller then runs its JavaScript loops):
 * - f32 cache (attend): wasm/attend-f32.ts attendItems, one item per query head, over the threads;
 * - int8/fp8 cache (attendStaged): the visible positions dequantized into f32 staging in wasm
 *   memory, position-major, then the same attendItems: the f32-cache path's bits on the
 *   dequantized values;
 * - f16 cache (attendHalf): wasm/attend-half.ts reading the halves from the cache words, the bits
 *   of the JavaScript half-precision attention (half-attention.ts).
 */
export class PagedWasmAttention {
  private scratch: Scratch | null = null;
  private stageK: Float32Array | null = null;
  private stageV: Float32Array | null = null;
  private q16: Float32Array | null = null;
  /** int8/fp8 staging: the cache slot of each staged row (-1: not visible), and the e4m3 values in wasm memory. */
  private slots: Int32Array | null = null;
  private fp8Table: Float32Array | null = null;

  private constructor(private readonly shape: AttentionShape, private readonly wasm: WasmKernels) {}

  /** For a backend with wasm kernels (the cpu backend unless WebAssembly SIMD is off), else null. */
  static of(shape: AttentionShape, backend: Backend): PagedWasmAttention | null {
    const wasm = (backend as { wasm?: WasmKernels | null }).wasm;
    return wasm ? new PagedWasmAttention(shape, wasm) : null;
  }

  /** A zeroed wasm array of at least `n` elements, `have` when it is large enough (null: out of memory). */
  private grow<T extends Float32Array | Int32Array | Float64Array>(have: T | null, ctor: { new (b: ArrayBufferLike, at: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number, min: number): T | null {
    if (have && have.length >= n) return have;
    return this.wasm.allocArray(ctor, Math.max(n * 2, min));
  }

  private scratchFor(offsLen: number, tableWords: number): Scratch | null {
    const s = this.scratch, headDim = this.shape.headDim;
    const offs = this.grow(s?.offs ?? null, Int32Array, offsLen, 256), table = this.grow(s?.table ?? null, Int32Array, tableWords, 96);
    const sc = this.grow(s?.sc ?? null, Float64Array, offsLen, 256), acc = this.grow(s?.acc ?? null, Float64Array, headDim, 16);
    if (!offs || !table || !sc || !acc) return null;
    this.scratch = { offs, table, sc, acc };
    return this.scratch;
  }

  /**
   * f32 cache (or `staged`: position-major staging, request r's position p at row base_r + p).
   * headDim a multiple of 4: f32 SIMD (wasm/attend-f32.ts attendItems, about 10x the f64 loops and
   * within f32 rounding of them), one item per query head, a GQA group's heads at one position
   * together, split over the backend's threads. Otherwise the f64 loops ported exactly (same bits),
   * on this thread.
   */
  attend(b: AttentionBatch, slidingWindow: number | null, qa: Float32Array, kCache: Float32Array, vCache: Float32Array, oa: Float32Array, staged = false): boolean {
    const wasm = this.wasm, fn = wasm.ops();
    if (!fn) return false;
    const qAt = wasm.addressOf(qa), oAt = wasm.addressOf(oa), kAt = wasm.addressOf(kCache), vAt = wasm.addressOf(vCache);
    if (qAt < 0 || oAt < 0 || kAt < 0 || vAt < 0) return false;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const kvDim = numKvHeads * headDim, group = numHeads / numKvHeads, bs = b.blockSize;
    // Per request, the cache offsets of its positions 0..seqLen-1; a query reads a window of them.
    let offsLen = 0;
    for (let r = 0; r < b.numReqs; r++) offsLen += b.seqLens[r]!;
    const s = this.scratchFor(offsLen, b.numTokens * numHeads * ITEM_WORDS);
    if (!s) return false;
    const { offs, table } = s;
    const offsAt = wasm.addressOf(offs), tableAt = wasm.addressOf(table), scAt = wasm.addressOf(s.sc), accAt = wasm.addressOf(s.acc);
    const simd = headDim % 4 === 0;
    let base = 0, n = 0, keys = 0;
    for (let r = 0; r < b.numReqs; r++) {
      const tableOff = r * b.maxBlocksPerReq, seqLen = b.seqLens[r]!;
      if (staged) for (let p = 0; p < seqLen; p++) offs[base + p] = (base + p) * kvDim;
      else for (let p = 0; p < seqLen; p++) offs[base + p] = (b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs)) * kvDim;
      // KV-head-major within a request, then position, then the query heads of that KV head's
      // group: consecutive items read the same keys (cpu-native tiles them), and a group's heads at
      // one position the same keys up to the same length (ops.wasm attendItems takes them together).
      // Positions in runs of four taken from both ends alternately (0-3, last four, 4-7, ...), so
      // the pool's equal runs of items hold about equal numbers of causal keys (its threads finish
      // together) while neighbouring items keep reading nearly the same keys (cpu-native's tiles).
      for (let g = 0; g < numKvHeads; g++) {
        const kvo = g * headDim;
        for (let lo = b.queryStartLoc[r]!, hi = b.queryStartLoc[r + 1]!, k = 0; lo < hi; k++) {
          const t = (k & 4) === 0 ? lo++ : --hi;
          const pos = b.positions[t]!;
          const start = slidingWindow === null ? 0 : Math.max(0, pos - slidingWindow + 1);
          const len = pos + 1 - start, at = offsAt + (base + start) * 4;
          for (let h = g * group; h < (g + 1) * group; h++) {
            keys += len;
            const qo = (t * numHeads + h) * headDim;
            if (simd) {
              table[n] = oAt + qo * 4; table[n + 1] = qAt + qo * 4; table[n + 2] = kAt + kvo * 4; table[n + 3] = vAt + kvo * 4;
              table[n + 4] = at; table[n + 5] = len;
              n += ITEM_WORDS;
            } else {
              fn.attendHead(oAt + qo * 4, qAt + qo * 4, kAt + kvo * 4, vAt + kvo * 4, at, len, headDim, smScale, scAt, accAt);
            }
          }
        }
      }
      base += seqLen;
    }
    if (simd) wasm.attendItems(tableAt, n / ITEM_WORDS, headDim, smScale, keys);
    return true;
  }

  /**
   * int8/fp8 cache: each request's visible positions (its first query's window onwards) decoded
   * into f32 staging in wasm memory at rows base_r + p (wasm/kv-dequant.ts: KvCacheQuantizer.load's
   * bits), then attend(..., staged).
   */
  attendStaged(b: AttentionBatch, slidingWindow: number | null, qa: Float32Array, kvq: KvCacheQuantizer, kc: Int32Array, vc: Int32Array, oa: Float32Array): boolean {
    const wasm = this.wasm, fn = wasm.ops();
    if (!fn) return false;
    const kAt = wasm.addressOf(kc), vAt = wasm.addressOf(vc);
    if (kAt < 0 || vAt < 0) return false;
    const { numKvHeads, headDim } = this.shape, kvDim = numKvHeads * headDim, bs = b.blockSize;
    let total = 0;
    for (let r = 0; r < b.numReqs; r++) total += b.seqLens[r]!;
    const stageK = this.grow(this.stageK, Float32Array, total * kvDim, 1024), stageV = this.grow(this.stageV, Float32Array, total * kvDim, 1024);
    const slots = this.grow(this.slots, Int32Array, total, 256);
    if (kvq.dtype === "fp8" && !this.fp8Table) {
      this.fp8Table = wasm.allocArray(Float32Array, 256);
      this.fp8Table?.set(E4M3_TABLE);
    }
    if (!stageK || !stageV || !slots || (kvq.dtype === "fp8" && !this.fp8Table)) return false;
    this.stageK = stageK; this.stageV = stageV; this.slots = slots;
    let base = 0;
    for (let r = 0; r < b.numReqs; r++) {
      const tableOff = r * b.maxBlocksPerReq, seqLen = b.seqLens[r]!;
      const p0 = slidingWindow === null || b.queryStartLoc[r + 1]! === b.queryStartLoc[r]! ? 0 : Math.max(0, b.positions[b.queryStartLoc[r]!]! - slidingWindow + 1);
      for (let p = 0; p < seqLen; p++) slots[base + p] = p < p0 ? -1 : b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs);
      base += seqLen;
    }
    const tableAt = kvq.dtype === "fp8" ? wasm.addressOf(this.fp8Table!) : 0, slotsAt = wasm.addressOf(slots);
    fn.dequantKv8(wasm.addressOf(stageK), kAt, slotsAt, total, numKvHeads, headDim, kvq.wordsPerHead, kvq.codeWords, tableAt);
    fn.dequantKv8(wasm.addressOf(stageV), vAt, slotsAt, total, numKvHeads, headDim, kvq.wordsPerHead, kvq.codeWords, tableAt);
    return this.attend(b, slidingWindow, qa, stageK, stageV, oa, true);
  }

  /**
   * f16 cache: wasm/attend-half.ts over the cache words in place (no staging: offsets are slots
   * in words, a KV head's halves at head * wordsPerHead words), one item per query head, split over
   * the backend's threads; the bits of HalfPrecisionAttention.attend. Not for soft-capped scores.
   */
  attendHalf(b: AttentionBatch, slidingWindow: number | null, qa: Float32Array, kc: Int32Array, vc: Int32Array, kvq: KvCacheQuantizer, oa: Float32Array): boolean {
    const wasm = this.wasm;
    if (!wasm.ops()) return false;
    const qAt = wasm.addressOf(qa), oAt = wasm.addressOf(oa), kAt = wasm.addressOf(kc), vAt = wasm.addressOf(vc);
    if (qAt < 0 || oAt < 0 || kAt < 0 || vAt < 0) return false;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const group = numHeads / numKvHeads, bs = b.blockSize, wpt = kvq.wordsPerToken;
    let offsLen = 0;
    for (let r = 0; r < b.numReqs; r++) offsLen += b.seqLens[r]!;
    const s = this.scratchFor(offsLen, b.numTokens * numHeads * HALF_ITEM_WORDS);
    const q16 = this.grow(this.q16, Float32Array, b.numTokens * numHeads * headDim, 256);
    if (!s || !q16) return false;
    this.q16 = q16;
    const { offs, table } = s;
    const offsAt = wasm.addressOf(offs), tableAt = wasm.addressOf(table), q16At = wasm.addressOf(q16);
    let base = 0, n = 0, keys = 0;
    for (let r = 0; r < b.numReqs; r++) {
      const tableOff = r * b.maxBlocksPerReq, seqLen = b.seqLens[r]!;
      for (let p = 0; p < seqLen; p++) offs[base + p] = (b.blockTables[tableOff + ((p / bs) | 0)]! * bs + (p % bs)) * wpt;
      for (let h = 0; h < numHeads; h++) {
        const kvo = ((h / group) | 0) * kvq.wordsPerHead * 4;
        for (let t = b.queryStartLoc[r]!; t < b.queryStartLoc[r + 1]!; t++) {
          const pos = b.positions[t]!;
          const start = slidingWindow === null ? 0 : Math.max(0, pos - slidingWindow + 1);
          const len = pos + 1 - start, qo = (t * numHeads + h) * headDim * 4;
          keys += len;
          table[n] = oAt + qo; table[n + 1] = qAt + qo; table[n + 2] = q16At + qo; table[n + 3] = kAt + kvo; table[n + 4] = vAt + kvo;
          table[n + 5] = offsAt + (base + start) * 4; table[n + 6] = len;
          n += HALF_ITEM_WORDS;
        }
      }
      base += seqLen;
    }
    return wasm.attendHalfItems(tableAt, n / HALF_ITEM_WORDS, headDim, smScale, keys);
  }
}
