/**
 * FlashInfer's design on the cpu backend: plan() once per step (plan.ts), run per layer here.
 * Per layer: write this step's K/V into the pages by slot mapping; attend each cascade group's
 * shared prefix once for all its queries; attend each partition (a request's own pages, split-KV
 * chunks of them, or the ragged K/V of a prefill chunk, causal); merge every request's states by
 * log-sum-exp in plan order. Cache layout per layer: [numBlocks, blockSize, numKvHeads, headDim].
 */
import type { AttentionBatch, AttentionImpl, AttentionShape, Backend, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import { allocateF32KvCache, f32KvBytesPerToken } from "../common/f32-kv-cache.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { attendBlock, TileState, type KernelParams } from "./kernel.ts";
import type { FlashInferOptions } from "./options.ts";
import { planFlashInfer, type FlashInferPlan, type Partition } from "./plan.ts";
import { finalizeLane, mergeStateInPlace, StateBuffer } from "./state.ts";

/** Query lanes per tile (rows × heads of one KV head's group); KV tokens per ragged block. */
const TILE_LANES = 64;
const RAGGED_BLOCK = 32;

interface LayerArrays { q: Float32Array; k: Float32Array; v: Float32Array; kc: Float32Array; vc: Float32Array }

export class FlashInferAttentionCpu implements AttentionImpl {
  private readonly tile = new TileState();
  private readonly states = new StateBuffer();
  private readonly acc = new StateBuffer();
  private readonly params: KernelParams;
  private readonly group: number;

  constructor(private readonly shape: AttentionShape, private readonly backend: Backend, readonly options: FlashInferOptions) {
    this.params = { headDim: shape.headDim, smScale: options.smScale, logitsSoftCap: options.logitsSoftCap, windowLeft: options.windowLeft };
    this.group = shape.numHeads / shape.numKvHeads;
  }

  kvBytesPerToken(): number {
    return f32KvBytesPerToken(this.shape);
  }

  allocateKvCache(numBlocks: number, blockSize: number): KVCache {
    return allocateF32KvCache(this.backend, this.shape, numBlocks, blockSize);
  }

  plan(batch: AttentionBatch): FlashInferPlan {
    return planFlashInfer(batch, this.options);
  }

  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void {
    const p = metadata as FlashInferPlan;
    const b = p.batch;
    const { numHeads, numKvHeads, headDim } = this.shape;
    const kvDim = numKvHeads * headDim;
    const [kcT, vcT] = cache.layers[layer]!;
    const a: LayerArrays = { q: f32(q), k: f32(k), v: f32(v), kc: f32(kcT), vc: f32(vcT) };
    for (let t = 0; t < b.numTokens; t++) {
      const slot = b.slotMapping[t]!;
      if (slot < 0) continue;
      a.kc.set(a.k.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
      a.vc.set(a.v.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
    }
    this.states.ensure(p.numStateRows * numHeads, headDim);
    for (const g of p.groups) this.runCascade(p, a, g.reqs, g.sharedLen);
    for (const lane of p.workers) for (const i of lane) this.runPartition(p, a, p.partitions[i]!);
    this.merge(p, f32(out));
  }

  /** Level 0 of the cascade: all queries of the group against the shared pages, one pass over that KV. */
  private runCascade(p: FlashInferPlan, a: LayerArrays, reqs: Int32Array, sharedLen: number): void {
    const b = p.batch;
    const rows: number[] = [], dst: number[] = [];
    let minPos = Infinity;
    for (const r of reqs) {
      for (let t = b.queryStartLoc[r]!; t < b.queryStartLoc[r + 1]!; t++) {
        rows.push(t); dst.push(p.cascadeStateRow[r]! + t - b.queryStartLoc[r]!);
        minPos = Math.min(minPos, b.positions[t]!);
      }
    }
    const start = this.options.windowLeft >= 0 ? Math.max(0, minPos - this.options.windowLeft) : 0;
    this.runRows(p, rows, dst, (kvh, lo, hi) => this.attendPaged(p, a, reqs[0]!, kvh, Math.max(start, lo), Math.min(sharedLen, hi)));
  }

  private runPartition(p: FlashInferPlan, a: LayerArrays, part: Partition): void {
    const b = p.batch, r = part.req, q0 = b.queryStartLoc[r]!;
    const rows: number[] = [], dst: number[] = [];
    for (let t = q0; t < b.queryStartLoc[r + 1]!; t++) { rows.push(t); dst.push(part.stateRow + t - q0); }
    if (part.source === "paged") {
      this.runRows(p, rows, dst, (kvh, lo, hi) => this.attendPaged(p, a, r, kvh, Math.max(part.kvStart, lo), Math.min(part.kvEnd, hi)));
    } else {
      const rowOfPos = q0 - part.kvStart; // this step's token for position pos is row pos + rowOfPos
      this.runRows(p, rows, dst, (kvh, lo, hi) => this.attendRagged(a, kvh, Math.max(part.kvStart, lo), Math.min(part.kvEnd, hi), rowOfPos));
    }
  }

  /**
   * Tile the rows (TILE_LANES lanes per tile, per KV head), let `attend` feed KV blocks for the
   * tile's visible range [lo, hi), and finalize each lane into its state row.
   */
  private runRows(p: FlashInferPlan, rows: number[], dst: number[], attend: (kvh: number, lo: number, hi: number) => void): void {
    const { numHeads, numKvHeads, headDim } = this.shape;
    const G = this.group, st = this.tile, pos = p.batch.positions;
    const tileRows = Math.max(1, Math.floor(TILE_LANES / G));
    const maxBlock = Math.max(p.batch.blockSize, RAGGED_BLOCK);
    for (let kvh = 0; kvh < numKvHeads; kvh++) {
      for (let r0 = 0; r0 < rows.length; r0 += tileRows) {
        const r1 = Math.min(rows.length, r0 + tileRows);
        st.reset((r1 - r0) * G, headDim, maxBlock);
        let lo = Infinity, hi = -Infinity;
        for (let i = r0; i < r1; i++) {
          const t = rows[i]!, qp = pos[t]!;
          lo = Math.min(lo, qp); hi = Math.max(hi, qp);
          for (let g = 0; g < G; g++) {
            const lane = (i - r0) * G + g;
            st.laneQOff[lane] = t * numHeads * headDim + (kvh * G + g) * headDim;
            st.laneQPos[lane] = qp;
          }
        }
        const wl = this.options.windowLeft;
        attend(kvh, wl >= 0 ? Math.max(0, lo - wl) : 0, hi + 1);
        for (let i = r0; i < r1; i++) {
          for (let g = 0; g < G; g++) finalizeLane(st, (i - r0) * G + g, headDim, this.states, dst[i]! * numHeads + kvh * G + g);
        }
      }
    }
  }

  /** Feed request r's pages covering positions [s, e) to the tile, one page segment per block. */
  private attendPaged(p: FlashInferPlan, a: LayerArrays, r: number, kvh: number, s: number, e: number): void {
    if (s >= e) return;
    const bs = p.table.pageSize, kvDim = this.shape.numKvHeads * this.shape.headDim;
    const base = p.table.kvIndptr[r]!;
    for (let pi = Math.floor(s / bs); pi * bs < e; pi++) {
      const segStart = Math.max(s, pi * bs), segEnd = Math.min(e, (pi + 1) * bs);
      const block = p.table.kvIndices[base + pi]!;
      const off = (block * bs + segStart - pi * bs) * kvDim + kvh * this.shape.headDim;
      attendBlock(this.tile, this.params, a.q, a.kc, a.vc, off, kvDim, segEnd - segStart, segStart);
    }
  }

  /** Feed this step's K/V rows for positions [s, e) (row = pos + rowOfPos) in blocks of RAGGED_BLOCK. */
  private attendRagged(a: LayerArrays, kvh: number, s: number, e: number, rowOfPos: number): void {
    const kvDim = this.shape.numKvHeads * this.shape.headDim;
    for (let c = s; c < e; c += RAGGED_BLOCK) {
      const n = Math.min(RAGGED_BLOCK, e - c);
      attendBlock(this.tile, this.params, a.q, a.k, a.v, (c + rowOfPos) * kvDim + kvh * this.shape.headDim, kvDim, n, c);
    }
  }

  /** Merge each request's states in plan order (merge_states) and write the f32 output. */
  private merge(p: FlashInferPlan, out: Float32Array): void {
    const { numHeads, headDim } = this.shape;
    const b = p.batch, S = this.states, M = this.acc;
    M.ensure(1, headDim);
    for (let r = 0; r < b.numReqs; r++) {
      const m0 = p.mergeIndptr[r]!, m1 = p.mergeIndptr[r + 1]!;
      for (let t = b.queryStartLoc[r]!; t < b.queryStartLoc[r + 1]!; t++) {
        const i = t - b.queryStartLoc[r]!;
        for (let h = 0; h < numHeads; h++) {
          const oo = (t * numHeads + h) * headDim;
          if (m1 === m0) { out.fill(0, oo, oo + headDim); continue; }
          const first = (p.mergeRows[m0]! + i) * numHeads + h;
          M.lse[0] = S.lse[first]!;
          for (let d = 0; d < headDim; d++) M.o[d] = S.o[first * headDim + d]!;
          for (let m = m0 + 1; m < m1; m++) mergeStateInPlace(M, 0, S, (p.mergeRows[m]! + i) * numHeads + h, headDim);
          for (let d = 0; d < headDim; d++) out[oo + d] = M.o[d]!;
        }
      }
    }
  }
}
