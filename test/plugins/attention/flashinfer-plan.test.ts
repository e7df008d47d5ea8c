/** FlashInfer plan pieces: compressed page table, shared-prefix detection, split-KV scheduling, state merging. */
import { describe, expect, it } from "vitest";
import { compressPageTable, detectSharedPrefixes } from "../../../plugins/attention/flashinfer/page-table.ts";
import { planFlashInfer } from "../../../plugins/attention/flashinfer/plan.ts";
import { resolveFlashInferOptions } from "../../../plugins/attention/flashinfer/options.ts";
import { assignToWorkers, searchKvChunkPages } from "../../../plugins/attention/flashinfer/scheduler.ts";
import { mergeStateInPlace, StateBuffer } from "../../../plugins/attention/flashinfer/state.ts";
import type { AttentionBatch } from "../../../src/plugin/types.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { shapeOf } from "./cases.ts";

/** A decode step: request r has seqLens[r] tokens in blocks tables[r]. */
function decodeBatch(seqLens: number[], tables: number[][], bs: number): AttentionBatch {
  const maxB = Math.max(...tables.map((t) => t.length));
  const blockTables = new Int32Array(seqLens.length * maxB);
  tables.forEach((t, i) => blockTables.set(t, i * maxB));
  const positions = Int32Array.from(seqLens.map((n) => n - 1));
  return {
    numTokens: seqLens.length, numReqs: seqLens.length, queryStartLoc: Int32Array.from({ length: seqLens.length + 1 }, (_, i) => i),
    seqLens: Int32Array.from(seqLens), positions, slotMapping: Int32Array.from(seqLens.map((n, r) => tables[r]![Math.floor((n - 1) / bs)]! * bs + ((n - 1) % bs))),
    blockTables, maxBlocksPerReq: maxB, blockSize: bs,
  };
}

const opts = (o?: Record<string, unknown>) => resolveFlashInferOptions(shapeOf({ numHeads: 4, numKvHeads: 2, headDim: 32, blockSize: 4, reqs: [] }, o)).options;

describe("flashinfer plan", () => {
  it("compresses padded block tables into indptr / indices / last page length", () => {
    const t = compressPageTable(decodeBatch([5, 8, 1], [[7, 3], [2, 9, 0], [4]], 4));
    expect([...t.kvIndptr]).toEqual([0, 2, 4, 5]);
    expect([...t.kvIndices]).toEqual([7, 3, 2, 9, 4]);
    expect([...t.kvLastPageLen]).toEqual([1, 4, 1]);
  });

  it("detects shared prefixes from identical leading block ids, limited to whole pages before each first query", () => {
    const t = compressPageTable(decodeBatch([13, 14, 9, 12], [[5, 6, 7, 8], [5, 6, 7, 9], [5, 6, 10], [11, 12, 13]], 4));
    const groups = detectSharedPrefixes(t, Int32Array.from([12, 13, 8, 11]));
    expect(groups.map((g) => [[...g.reqs], g.sharedLen])).toEqual([[[0, 1, 2], 8]]);
  });

  it("split-KV: the smallest chunk whose partitions fit the lanes; no split when requests fill them", () => {
    expect(searchKvChunkPages([512], 8, 16)).toBe(64);
    expect(searchKvChunkPages([512, 100], 8, 16)).toBe(86); // 6 + 2 partitions
    expect(searchKvChunkPages([512, 1, 1, 1, 1, 1, 1, 1], 8, 16)).toBe(0);
    expect(searchKvChunkPages([10], 8, 16)).toBe(0);
    const rng = new Prng(5);
    for (let i = 0; i < 200; i++) {
      const pages = Array.from({ length: 1 + Math.floor(rng.nextFloat() * 5) }, () => 1 + Math.floor(rng.nextFloat() * 300));
      const lanes = 1 + Math.floor(rng.nextFloat() * 16), min = 1 + Math.floor(rng.nextFloat() * 8);
      const c = searchKvChunkPages(pages, lanes, min);
      if (c === 0) continue;
      const count = (x: number) => pages.reduce((s, p) => s + Math.ceil(p / x), 0);
      expect(count(c)).toBeLessThanOrEqual(lanes);
      if (c > min) expect(count(c - 1)).toBeGreaterThan(lanes);
    }
  });

  it("assigns partitions to lanes longest first, balancing load", () => {
    const lists = assignToWorkers([8, 7, 6, 5, 4, 3, 2, 1], 3);
    const loads = lists.map((l) => [...l].reduce((s, i) => s + [8, 7, 6, 5, 4, 3, 2, 1][i]!, 0));
    expect(loads.sort()).toEqual([11, 12, 13]); // LPT: within 4/3 of the best (12, 12, 12)
    expect(lists.flatMap((l) => [...l]).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("plans one 8k decode on 8 lanes as 8 partitions of 1024 tokens, merged in KV order", () => {
    const bs = 16, n = 8192;
    const table = Array.from({ length: n / bs }, (_, i) => i + 1);
    const p = planFlashInfer(decodeBatch([n], [table], bs), opts({ num_workers: 8 }));
    expect(p.kvChunkSize).toBe(1024);
    expect(p.partitions.map((x) => [x.kvStart, x.kvEnd])).toEqual(Array.from({ length: 8 }, (_, i) => [i * 1024, (i + 1) * 1024]));
    expect(p.workers.map((w) => w.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect([...p.mergeRows]).toEqual(p.partitions.map((x) => x.stateRow));
    expect(planFlashInfer(decodeBatch([n], [table], bs), opts()).partitions.length).toBe(1); // one lane: no split
  });

  it("plans 32 decodes sharing a 2k-token prefix as one cascade group plus each request's own pages", () => {
    const bs = 16, shared = Array.from({ length: 128 }, (_, i) => i + 1);
    const tables = Array.from({ length: 32 }, (_, r) => [...shared, 1000 + r * 2, 1001 + r * 2]);
    const p = planFlashInfer(decodeBatch(Array(32).fill(2048 + 20), tables, bs), opts());
    expect(p.groups.length).toBe(1);
    expect(p.groups[0]!.sharedLen).toBe(2048);
    expect(p.partitions.every((x) => x.kvStart === 2048 && x.kvEnd === 2068)).toBe(true);
    expect(planFlashInfer(decodeBatch(Array(32).fill(2068), tables, bs), opts({ cascade: false })).groups.length).toBe(0);
  });

  it("merge_state of two segments' states equals the state of their union", () => {
    const rng = new Prng(9);
    const D = 5, scores = Array.from({ length: 9 }, () => rng.nextFloat() * 6 - 3), vs = scores.map(() => Array.from({ length: D }, () => rng.nextFloat()));
    const state = (lo: number, hi: number) => {
      const m = Math.max(...scores.slice(lo, hi)), w = scores.slice(lo, hi).map((s) => Math.exp(s - m)), sum = w.reduce((a, b) => a + b, 0);
      const s = new StateBuffer(); s.ensure(1, D);
      for (let d = 0; d < D; d++) s.o[d] = w.reduce((acc, wi, i) => acc + (wi / sum) * vs[lo + i]![d]!, 0);
      s.lse[0] = hi > lo ? m + Math.log(sum) : -Infinity;
      return s;
    };
    const a = state(0, 4), all = state(0, 9);
    mergeStateInPlace(a, 0, state(4, 9), 0, D);
    mergeStateInPlace(a, 0, state(9, 9), 0, D); // the empty state is the identity
    expect(a.lse[0]).toBeCloseTo(all.lse[0]!, 12);
    for (let d = 0; d < D; d++) expect(a.o[d]).toBeCloseTo(all.o[d]!, 12);
  });

  it("options: refuses unknown keys and contradictions with the model, with reasons", () => {
    const shape = { ...shapeOf({ numHeads: 4, numKvHeads: 2, headDim: 32, blockSize: 4, reqs: [], slidingWindow: 8 }), options: { window_left: 3, splitkv: true } };
    const { reasons } = resolveFlashInferOptions(shape);
    expect(reasons.join("\n")).toMatch(/unknown option 'splitkv'; accepted: window_left/);
    expect(reasons.join("\n")).toMatch(/window_left 3 contradicts the model's sliding window of 8 tokens/);
  });
});
