/**
 * FlexAttention over the paged KV cache on the cpu backend. plan(): the step's BlockMask (which
 * pages each query tile must visit, and which of those need the mask). forward(): write K/V by slot
 * mapping, then for each tile × KV head run the generated kernel over its partial and full pages.
 * Cache layout per layer: [numBlocks, blockSize, numKvHeads, headDim] (as paged and flashinfer).
 */
import type { AttentionBatch, AttentionImpl, AttentionShape, Backend, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import { allocateF32KvCache, f32KvBytesPerToken } from "../common/f32-kv-cache.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { createBlockMask, type BlockMask } from "./block-mask.ts";
import { generateKernel, type FlexKernel } from "./codegen.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";
import { FlexTile } from "./tile.ts";

export interface FlexPlan {
  batch: AttentionBatch;
  blockMask: BlockMask;
}

export class FlexAttentionCpu implements AttentionImpl {
  readonly kernel: FlexKernel;
  private readonly tile = new FlexTile();

  constructor(
    private readonly shape: AttentionShape,
    private readonly backend: Backend,
    mods: { score?: ScoreMod; mask?: MaskMod },
    private readonly qBlockSize = 16,
  ) {
    this.kernel = generateKernel(mods.score, mods.mask, shape.smScale);
  }

  kvBytesPerToken(): number {
    return f32KvBytesPerToken(this.shape);
  }

  allocateKvCache(numBlocks: number, blockSize: number): KVCache {
    return allocateF32KvCache(this.backend, this.shape, numBlocks, blockSize);
  }

  plan(batch: AttentionBatch): FlexPlan {
    const { numHeads, numKvHeads } = this.shape;
    return { batch, blockMask: createBlockMask(this.kernel, batch, numHeads, numKvHeads, this.qBlockSize, batch.blockSize) };
  }

  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void {
    const { batch: b, blockMask: bm } = metadata as FlexPlan;
    const { numHeads, numKvHeads, headDim } = this.shape;
    const kvDim = numKvHeads * headDim, G = numHeads / numKvHeads, bs = b.blockSize;
    const [kcT, vcT] = cache.layers[layer]!;
    const kc = f32(kcT), vc = f32(vcT), qa = f32(q), ka = f32(k), va = f32(v), oa = f32(out);
    for (let t = 0; t < b.numTokens; t++) {
      const slot = b.slotMapping[t]!;
      if (slot < 0) continue;
      kc.set(ka.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
      vc.set(va.subarray(t * kvDim, (t + 1) * kvDim), slot * kvDim);
    }
    const st = this.tile;
    bm.tiles.forEach((tile, ti) => {
      const rows = tile.rowEnd - tile.rowStart;
      for (let kvh = 0; kvh < numKvHeads; kvh++) {
        st.reset(rows * G, headDim, bs);
        for (let i = 0; i < rows; i++) {
          const t = tile.rowStart + i;
          for (let g = 0; g < G; g++) {
            const lane = i * G + g, h = kvh * G + g;
            st.laneQOff[lane] = (t * numHeads + h) * headDim;
            st.laneQPos[lane] = b.positions[t]!;
            st.laneH[lane] = h;
          }
        }
        // Visit partial and full KV blocks in ascending order (two sorted lists).
        const e = ti * bm.perTile + (bm.perTile > 1 ? kvh : 0);
        let pi = bm.kvIndptr[e]!, fi = bm.fullKvIndptr[e]!;
        const pe = bm.kvIndptr[e + 1]!, fe = bm.fullKvIndptr[e + 1]!;
        while (pi < pe || fi < fe) {
          const full = pi >= pe || (fi < fe && bm.fullKvIndices[fi]! < bm.kvIndices[pi]!);
          const blk = full ? bm.fullKvIndices[fi++]! : bm.kvIndices[pi++]!;
          const count = Math.min(bs, tile.seqLen - blk * bs);
          const block = b.blockTables[tile.b * b.maxBlocksPerReq + blk]!;
          this.kernel.attendBlock(st, qa, kc, vc, block * bs * kvDim + kvh * headDim, kvDim, count, blk * bs, full, tile.b);
        }
        for (let i = 0; i < rows; i++) {
          for (let g = 0; g < G; g++) st.writeLane(i * G + g, oa, ((tile.rowStart + i) * numHeads + kvh * G + g) * headDim);
        }
      }
    });
  }
}
