/**
 * FlashInfer's compressed page table: the KV pages of request r are
 * kvIndices[kvIndptr[r] .. kvIndptr[r+1]-1] and its last page holds kvLastPageLen[r] tokens.
 * Built once per step from the runner's padded block tables.
 */
import type { AttentionBatch } from "../../../src/plugin/types.ts";

export interface PagedKvTable {
  pageSize: number;
  kvIndptr: Int32Array;
  kvIndices: Int32Array;
  kvLastPageLen: Int32Array;
}

export function compressPageTable(b: AttentionBatch): PagedKvTable {
  const bs = b.blockSize;
  const kvIndptr = new Int32Array(b.numReqs + 1);
  for (let r = 0; r < b.numReqs; r++) {
    const pages = Math.ceil(b.seqLens[r]! / bs);
    if (pages > b.maxBlocksPerReq) throw new RangeError(`request ${r}: ${b.seqLens[r]} tokens need ${pages} blocks; its block table has ${b.maxBlocksPerReq}`);
    kvIndptr[r + 1] = kvIndptr[r]! + pages;
  }
  const kvIndices = new Int32Array(kvIndptr[b.numReqs]!);
  const kvLastPageLen = new Int32Array(b.numReqs);
  for (let r = 0; r < b.numReqs; r++) {
    const n = kvIndptr[r + 1]! - kvIndptr[r]!;
    kvIndices.set(b.blockTables.subarray(r * b.maxBlocksPerReq, r * b.maxBlocksPerReq + n), kvIndptr[r]!);
    kvLastPageLen[r] = n === 0 ? 0 : b.seqLens[r]! - (n - 1) * bs;
  }
  return { pageSize: bs, kvIndptr, kvIndices, kvLastPageLen };
}

/**
 * Cascade groups: requests whose block tables start with the same block ids share those pages'
 * KV (prefix caching made them one copy). A group's shared length is the longest common run of
 * leading page ids, in whole pages, that lies before every member's first query of this step.
 */
export interface CascadeGroup {
  reqs: Int32Array;
  sharedLen: number;
}

export function detectSharedPrefixes(t: PagedKvTable, contextLens: Int32Array): CascadeGroup[] {
  const byFirst = new Map<number, number[]>();
  for (let r = 0; r < contextLens.length; r++) {
    if (Math.floor(contextLens[r]! / t.pageSize) < 1) continue;
    const first = t.kvIndices[t.kvIndptr[r]!]!;
    const list = byFirst.get(first);
    if (list) list.push(r);
    else byFirst.set(first, [r]);
  }
  const groups: CascadeGroup[] = [];
  for (const reqs of byFirst.values()) {
    if (reqs.length < 2) continue;
    let shared = Infinity;
    for (const r of reqs) shared = Math.min(shared, Math.floor(contextLens[r]! / t.pageSize));
    const r0 = reqs[0]!;
    for (const r of reqs.slice(1)) {
      let p = 0;
      while (p < shared && t.kvIndices[t.kvIndptr[r]! + p] === t.kvIndices[t.kvIndptr[r0]! + p]) p++;
      shared = p;
    }
    if (shared >= 1) groups.push({ reqs: Int32Array.from(reqs), sharedLen: shared * t.pageSize });
  }
  return groups;
}
