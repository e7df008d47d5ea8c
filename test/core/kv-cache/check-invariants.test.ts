import { describe, expect, it } from "vitest";
import type { BlockHashFn } from "../../../src/core/kv-cache/block-hash.ts";
import { checkKvCacheInvariants, findKvCacheViolations } from "../../../src/core/kv-cache/check-invariants.ts";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import type { Request } from "../../../src/core/request.ts";
import { FakeRunner, RecordingHash } from "../helpers/fake-runner.ts";
import { makeRequest } from "../helpers/make-request.ts";
import { runScenario } from "../helpers/scenario.ts";

function admitted(hashFn?: BlockHashFn) {
  const m = new KVCacheManager({ numBlocks: 9, blockSize: 4, maxModelLen: 32, ...(hashFn ? { hashFn } : {}) });
  const a = makeRequest("a", [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = makeRequest("b", [1, 2, 3, 4, 5, 6, 7, 8, 10]);
  for (const r of [a, b]) {
    const hit = m.getComputedBlocks(r);
    m.allocateSlots(r, r.numTokens - hit.numComputedTokens, hit.numComputedTokens, hit.blocks);
  }
  return { m, a, b };
}

describe("KV cache invariant checker", () => {
  it("passes on a sound state", () => {
    const { m } = admitted();
    expect(findKvCacheViolations(m)).toEqual([]);
  });

  it("catches a wrong refCnt, a block both free and held, and a leaked block", () => {
    const { m } = admitted();
    const shared = m.getBlocks("a")[0]!;
    shared.refCnt = 1;
    expect(findKvCacheViolations(m)).toContain("block 1 has refCnt 1 but 2 block tables hold it");
    shared.refCnt = 2;
    const held = m.getBlocks("a")[2]!;
    m.blockPool.freeBlockQueue.append(held);
    const problems = findKvCacheViolations(m);
    expect(problems).toContain(`block ${held.blockId} is both free and held`);
    expect(problems).toContain(`free block ${held.blockId} has refCnt 1`);
    m.blockPool.freeBlockQueue.remove(held);
    m.blockPool.freeBlockQueue.remove(m.blockPool.blocks[8]!);
    expect(findKvCacheViolations(m)).toContain("block 8 is neither free nor held (leaked)");
    expect(() => checkKvCacheInvariants(m)).toThrow(/KV cache invariants violated/);
  });

  it("catches a double free", () => {
    const { m, a } = admitted();
    m.free(a);
    expect(() => m.blockPool.freeBlocks([m.blockPool.blocks[3]!])).toThrow(/freed more often than allocated/);
  });

  it("catches a prefix-cache entry whose content is not its hash's (a forced collision)", () => {
    // Every block hashes alike: b's first block is "found" although a computed different tokens.
    const recorder = new RecordingHash(() => "same", false);
    const m = new KVCacheManager({ numBlocks: 9, blockSize: 4, maxModelLen: 32, hashFn: recorder.fn });
    const runner = new FakeRunner(4, () => 5);
    const run = (r: Request) => {
      const hit = m.getComputedBlocks(r);
      m.allocateSlots(r, r.numTokens - hit.numComputedTokens, hit.numComputedTokens, hit.blocks, { delayCacheBlocks: true });
      const out = { scheduledRequests: [{ request: r, numScheduledTokens: r.numTokens - hit.numComputedTokens, blockIds: m.getBlockIds(r.requestId), numComputedTokensBefore: hit.numComputedTokens }], totalNumScheduledTokens: 0, preemptedReqIds: [], finishedReqIds: [], numCommonPrefixBlocks: 0 };
      runner.execute(out);
      r.numComputedTokens = r.numTokens;
      m.cacheBlocks(r, r.numTokens);
    };
    run(makeRequest("a", [1, 2, 3, 4, 5]));
    expect(findKvCacheViolations(m, { verifyCachedBlock: recorder.verifier(runner) })).toEqual([]);
    // The recorder now believes "same" stands for b's tokens: a's cached block no longer matches.
    expect(() => run(makeRequest("b", [9, 9, 9, 9, 9]))).toThrow(/stale KV at position 0/);
    expect(findKvCacheViolations(m, { verifyCachedBlock: recorder.verifier(runner) }).join()).toMatch(/does not hold the KV of its hash's prefix/);
  });

  it("random runs with a colliding hash function are caught by the harness", () => {
    // 8-bit hash of the tokens only (no parent): collisions everywhere.
    const weak: BlockHashFn = (_parent, tokens) => String(Array.from(tokens).reduce((h, t) => (h * 31 + t) & 0xff, 7));
    let caught = 0;
    for (let seed = 1; seed <= 40; seed++) {
      try {
        runScenario(seed, weak, false);
      } catch {
        caught++;
      }
    }
    expect(caught).toBeGreaterThan(5);
  });
});
