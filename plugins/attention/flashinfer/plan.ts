/**
 * plan(): once per step, from the batch's page table, decide the work of every layer's run():
 *   - cascade groups (shared prefix attended once per group),
 *   - per request, its own paged KV (split into partitions when lanes would idle: split-KV),
 *   - per prefill request, the ragged K/V of this step's new tokens (causal),
 * and where each piece's attention state lands, in the order run() merges them.
 */
import type { AttentionBatch } from "../../../src/plugin/types.ts";
import type { FlashInferOptions } from "./options.ts";
import { compressPageTable, detectSharedPrefixes, type CascadeGroup, type PagedKvTable } from "./page-table.ts";
import { assignToWorkers, searchKvChunkPages } from "./scheduler.ts";

/** One piece of one request's KV: positions kvStart..kvEnd-1, from the page table or from this step's K/V. */
export interface Partition {
  req: number;
  source: "paged" | "ragged";
  kvStart: number;
  kvEnd: number;
  /** First state row of this partition (the request's rows follow). */
  stateRow: number;
}

export interface FlashInferPlan {
  batch: AttentionBatch;
  table: PagedKvTable;
  groups: CascadeGroup[];
  /** Per request: first state row of its cascade (shared-prefix) state, or -1. */
  cascadeStateRow: Int32Array;
  /** Per request: positions before this are the shared prefix (0 when not in a group). */
  sharedLen: Int32Array;
  partitions: Partition[];
  /** Partition indices per lane (split-KV scheduling). */
  workers: Int32Array[];
  /** Split-KV chunk length in tokens (0: unsplit). */
  kvChunkSize: number;
  /** Request r merges the states starting at rows mergeRows[mergeIndptr[r] .. mergeIndptr[r+1]-1], in that order. */
  mergeIndptr: Int32Array;
  mergeRows: Int32Array;
  numStateRows: number;
}

export function planFlashInfer(b: AttentionBatch, o: FlashInferOptions): FlashInferPlan {
  const table = compressPageTable(b);
  const bs = b.blockSize;
  const qLen = (r: number) => b.queryStartLoc[r + 1]! - b.queryStartLoc[r]!;
  const contextLens = new Int32Array(b.numReqs);
  for (let r = 0; r < b.numReqs; r++) contextLens[r] = b.seqLens[r]! - qLen(r);
  const groups = o.cascade ? detectSharedPrefixes(table, contextLens) : [];
  const sharedLen = new Int32Array(b.numReqs);
  for (const g of groups) for (const r of g.reqs) sharedLen[r] = g.sharedLen;
  // The paged range each request attends by itself: after its shared prefix, inside its window.
  const ranges: Array<[number, number]> = [];
  for (let r = 0; r < b.numReqs; r++) {
    const firstPos = qLen(r) > 0 ? b.positions[b.queryStartLoc[r]!]! : contextLens[r]!;
    const visible = o.windowLeft >= 0 ? Math.max(0, firstPos - o.windowLeft) : 0;
    const end = qLen(r) === 1 ? b.seqLens[r]! : contextLens[r]!;
    ranges.push([Math.max(sharedLen[r]!, visible), end]);
  }
  const pagesOf = ([s, e]: [number, number]) => (e > s ? Math.ceil(e / bs) - Math.floor(s / bs) : 0);
  const withWork = ranges.filter((x) => x[1] > x[0]);
  const chunkPages = o.kvChunkSize !== null
    ? Math.max(1, Math.floor(o.kvChunkSize / bs))
    : searchKvChunkPages(withWork.map(pagesOf), o.numWorkers, Math.max(1, Math.ceil(o.minKvChunkSize / bs)));
  const kvChunkSize = chunkPages * bs;

  let stateRow = 0;
  const cascadeStateRow = new Int32Array(b.numReqs).fill(-1);
  for (const g of groups) for (const r of g.reqs) { cascadeStateRow[r] = stateRow; stateRow += qLen(r); }
  const partitions: Partition[] = [];
  const mergeIndptr = new Int32Array(b.numReqs + 1);
  const mergeRows: number[] = [];
  for (let r = 0; r < b.numReqs; r++) {
    if (cascadeStateRow[r]! >= 0) mergeRows.push(cascadeStateRow[r]!);
    const [s, e] = ranges[r]!;
    // Chunks align to multiples of kvChunkSize positions (so they are whole pages).
    for (let c = s; c < e;) {
      const next = kvChunkSize > 0 ? Math.min(e, (Math.floor(c / kvChunkSize) + 1) * kvChunkSize) : e;
      partitions.push({ req: r, source: "paged", kvStart: c, kvEnd: next, stateRow });
      mergeRows.push(stateRow);
      stateRow += qLen(r);
      c = next;
    }
    if (qLen(r) > 1) {
      partitions.push({ req: r, source: "ragged", kvStart: contextLens[r]!, kvEnd: b.seqLens[r]!, stateRow });
      mergeRows.push(stateRow);
      stateRow += qLen(r);
    }
    mergeIndptr[r + 1] = mergeRows.length;
  }
  const costs = partitions.map((p) => qLen(p.req) * (p.kvEnd - p.kvStart));
  return {
    batch: b, table, groups, cascadeStateRow, sharedLen, partitions,
    workers: assignToWorkers(costs, o.numWorkers), kvChunkSize,
    mergeIndptr, mergeRows: Int32Array.from(mergeRows), numStateRows: stateRow,
  };
}
