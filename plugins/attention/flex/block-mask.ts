/**
 * FlexAttention's BlockMask, for a ragged paged batch: queries are tiled per request (qBlockSize
 * rows), KV in blocks of kvBlockSize positions (the page size, so a KV block is one page). For
 * each query tile (and KV head, if the mask reads h) it lists the KV blocks that are partial (the
 * kernel evaluates the mask) and full (the kernel skips it); empty blocks are not visited at all.
 * Built once per step by evaluating the generated classify() over the tile × block grid.
 */
import type { FlexKernel } from "./codegen.ts";

export interface QueryTile {
  /** Request (the mods' b) and its token rows rowStart..rowEnd-1 in the step. */
  b: number;
  rowStart: number;
  rowEnd: number;
  seqLen: number;
}

export interface BlockMask {
  qBlockSize: number;
  kvBlockSize: number;
  tiles: QueryTile[];
  /** Entries per tile: 1, or numKvHeads when the mask reads h (entry = tile * perTile + kvHead). */
  perTile: number;
  kvIndptr: Int32Array;
  kvIndices: Int32Array;
  fullKvIndptr: Int32Array;
  fullKvIndices: Int32Array;
}

export interface BlockMaskInput {
  numReqs: number;
  queryStartLoc: Int32Array;
  seqLens: Int32Array;
  positions: Int32Array;
}

export function createBlockMask(
  kernel: FlexKernel, input: BlockMaskInput, numHeads: number, numKvHeads: number, qBlockSize: number, kvBlockSize: number,
): BlockMask {
  const tiles: QueryTile[] = [];
  for (let r = 0; r < input.numReqs; r++) {
    const s = input.queryStartLoc[r]!, e = input.queryStartLoc[r + 1]!;
    for (let t = s; t < e; t += qBlockSize) tiles.push({ b: r, rowStart: t, rowEnd: Math.min(e, t + qBlockSize), seqLen: input.seqLens[r]! });
  }
  const perTile = kernel.maskUsesHead ? numKvHeads : 1;
  const group = numHeads / numKvHeads;
  const headSets = Array.from({ length: perTile }, (_, kvh) =>
    kernel.maskUsesHead ? Int32Array.from({ length: group }, (_, g) => kvh * group + g) : Int32Array.of(0));
  const partial: number[] = [], full: number[] = [];
  const kvIndptr = new Int32Array(tiles.length * perTile + 1), fullKvIndptr = new Int32Array(tiles.length * perTile + 1);
  let e = 0;
  for (const tile of tiles) {
    const nBlocks = Math.ceil(tile.seqLen / kvBlockSize);
    for (let kvh = 0; kvh < perTile; kvh++) {
      const heads = headSets[kvh]!;
      for (let blk = 0; blk < nBlocks; blk++) {
        const kv0 = blk * kvBlockSize, kv1 = Math.min(tile.seqLen, kv0 + kvBlockSize);
        const kind = kernel.classify(tile.b, heads, heads.length, input.positions, tile.rowStart, tile.rowEnd, kv0, kv1);
        if (kind === 1) partial.push(blk);
        else if (kind === 2) full.push(blk);
      }
      e++;
      kvIndptr[e] = partial.length;
      fullKvIndptr[e] = full.length;
    }
  }
  return {
    qBlockSize, kvBlockSize, tiles, perTile,
    kvIndptr, kvIndices: Int32Array.from(partial), fullKvIndptr, fullKvIndices: Int32Array.from(full),
  };
}
