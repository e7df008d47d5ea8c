/**
 * flexAttention() on dense tensors, like torch.nn.attention.flex_attention: query [B, Hq, L, E],
 * key / value [B, Hkv, S, E] (row-major Float32Arrays), GQA when Hq is a multiple of Hkv.
 * compileFlex() generates the kernel once; its blockMask() builds the BlockMask for a size (PyTorch's
 * create_block_mask, default 128 × 128 blocks) and run() attends, visiting only non-empty blocks.
 */
import { createBlockMask, type BlockMask } from "./block-mask.ts";
import { generateKernel, type FlexKernel } from "./codegen.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";
import { FlexTile } from "./tile.ts";

export interface FlexDims {
  B: number;
  Hq: number;
  Hkv: number;
  L: number;
  S: number;
  E: number;
}

export interface CompiledFlex {
  readonly kernel: FlexKernel;
  blockMask(B: number, L: number, S: number, Hq: number, Hkv: number, blockSize?: number): BlockMask;
  run(query: Float32Array, key: Float32Array, value: Float32Array, dims: FlexDims, blockMask?: BlockMask): Float32Array;
}

export function compileFlex(opts: { scoreMod?: ScoreMod; maskMod?: MaskMod; scale: number }): CompiledFlex {
  const kernel = generateKernel(opts.scoreMod, opts.maskMod, opts.scale);
  const tile = new FlexTile();
  const blockMask = (B: number, L: number, S: number, Hq: number, Hkv: number, blockSize = 128): BlockMask => {
    const queryStartLoc = Int32Array.from({ length: B + 1 }, (_, b) => b * L);
    const positions = Int32Array.from({ length: B * L }, (_, t) => t % L);
    return createBlockMask(kernel, { numReqs: B, queryStartLoc, seqLens: new Int32Array(B).fill(S), positions }, Hq, Hkv, blockSize, blockSize);
  };
  const run = (query: Float32Array, key: Float32Array, value: Float32Array, d: FlexDims, bm?: BlockMask): Float32Array => {
    const mask = bm ?? blockMask(d.B, d.L, d.S, d.Hq, d.Hkv);
    const G = d.Hq / d.Hkv, E = d.E, kvb = mask.kvBlockSize;
    const out = new Float32Array(d.B * d.Hq * d.L * E);
    mask.tiles.forEach((t, ti) => {
      const rows = t.rowEnd - t.rowStart;
      for (let kvh = 0; kvh < d.Hkv; kvh++) {
        tile.reset(rows * G, E, kvb);
        for (let i = 0; i < rows; i++) {
          const qi = t.rowStart + i - t.b * d.L;
          for (let g = 0; g < G; g++) {
            const h = kvh * G + g, lane = i * G + g;
            tile.laneQOff[lane] = ((t.b * d.Hq + h) * d.L + qi) * E;
            tile.laneQPos[lane] = qi;
            tile.laneH[lane] = h;
          }
        }
        const e = ti * mask.perTile + (mask.perTile > 1 ? kvh : 0);
        const kvBase = (t.b * d.Hkv + kvh) * d.S * E;
        const visit = (blk: number, full: boolean) =>
          kernel.attendBlock(tile, query, key, value, kvBase + blk * kvb * E, E, Math.min(kvb, d.S - blk * kvb), blk * kvb, full, t.b);
        // Any order is exact; ascending keeps the summation order of the paged path.
        const blocks: Array<[number, boolean]> = [];
        for (let i = mask.kvIndptr[e]!; i < mask.kvIndptr[e + 1]!; i++) blocks.push([mask.kvIndices[i]!, false]);
        for (let i = mask.fullKvIndptr[e]!; i < mask.fullKvIndptr[e + 1]!; i++) blocks.push([mask.fullKvIndices[i]!, true]);
        for (const [blk, full] of blocks.sort((a, b) => a[0] - b[0])) visit(blk, full);
        for (let i = 0; i < rows; i++) {
          const qi = t.rowStart + i - t.b * d.L;
          for (let g = 0; g < G; g++) tile.writeLane(i * G + g, out, ((t.b * d.Hq + kvh * G + g) * d.L + qi) * E);
        }
      }
    });
    return out;
  };
  return { kernel, blockMask, run };
}

/** One call: compile, build the block mask, attend. Scale defaults to 1/sqrt(E). */
export function flexAttention(
  query: Float32Array, key: Float32Array, value: Float32Array, dims: FlexDims,
  opts: { scoreMod?: ScoreMod; maskMod?: MaskMod; scale?: number } = {},
): Float32Array {
  return compileFlex({ ...opts, scale: opts.scale ?? 1 / Math.sqrt(dims.E) }).run(query, key, value, dims);
}
