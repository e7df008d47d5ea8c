/** Block ids and eviction order as in vLLM's tests/v1/core/test_prefix_caching.py (10 usable blocks of 16). */
import { describe, expect, it } from "vitest";
import { checkKvCacheInvariants } from "../../../src/core/kv-cache/check-invariants.ts";
import { KVCacheManager } from "../../../src/core/kv-cache/kv-cache-manager.ts";
import type { Request } from "../../../src/core/request.ts";
import { makeRequest, repeatEach } from "../helpers/make-request.ts";

const BS = 16;
const newManager = (numBlocks = 11, enablePrefixCaching = true) => new KVCacheManager({ numBlocks, blockSize: BS, enablePrefixCaching, maxModelLen: 8192 });
const freeIds = (m: KVCacheManager) => m.blockPool.freeBlockQueue.getAllFreeBlocks().map((b) => b.blockId);

/** Lookup then allocate numTokens - hit more tokens, as the scheduler admits a request. */
function admit(m: KVCacheManager, req: Request) {
  const hit = m.getComputedBlocks(req);
  const blocks = m.allocateSlots(req, req.numTokens - hit.numComputedTokens, hit.numComputedTokens, hit.blocks);
  return { hit, newIds: blocks?.map((b) => b.blockId) ?? null };
}

describe("prefix caching (vLLM test_prefix_caching.py)", () => {
  it("prefill: hits the common prefix, frees in reverse, evicts in LRU order", () => {
    const m = newManager();
    const common = repeatEach([0, 1, 2], BS); // 3 full blocks
    const req0 = makeRequest("0", [...common, ...Array(7).fill(3)]);
    const a0 = admit(m, req0);
    expect(a0.hit.numComputedTokens).toBe(0);
    expect(a0.newIds).toEqual([1, 2, 3, 4]);
    let parent: string | null = null;
    for (const id of [1, 2, 3]) {
      const expected = m.hashFn(parent, common.slice((id - 1) * BS, id * BS), []);
      expect(m.blockPool.blocks[id]!.blockHash).toBe(expected);
      expect(m.blockPool.blocks[id]!.refCnt).toBe(1);
      parent = expected;
    }
    expect(m.blockPool.blocks[4]!.blockHash).toBeNull();
    expect(req0.blockHashes.length).toBe(3);

    // Hit while the original blocks are still in use.
    const req1 = makeRequest("1", [...common, ...Array(5).fill(3)]);
    const a1 = admit(m, req1);
    expect(a1.hit.blocks.map((b) => b.blockId)).toEqual([1, 2, 3]);
    expect(a1.hit.numComputedTokens).toBe(48);
    expect(a1.newIds).toEqual([5]);
    for (const b of a1.hit.blocks) expect(b.refCnt).toBe(2);
    expect(m.numFreeBlocks).toBe(5);
    checkKvCacheInvariants(m);

    m.free(req0);
    m.free(req1);
    expect(m.numFreeBlocks).toBe(10);
    // [never used 6..10] [req0's own 4] [req1's own 5] [common 3, 2, 1 (tail first)]
    expect(freeIds(m)).toEqual([6, 7, 8, 9, 10, 4, 5, 3, 2, 1]);

    // Hit when the cached blocks are already free (lazy eviction: hashes survive freeing).
    const req2 = makeRequest("2", [...common, ...Array(6).fill(3)]);
    const a2 = admit(m, req2);
    expect(a2.hit.blocks.map((b) => b.blockId)).toEqual([1, 2, 3]);
    expect(a2.newIds).toEqual([6]);
    expect(m.numFreeBlocks).toBe(6);
    expect(freeIds(m)).toEqual([7, 8, 9, 10, 4, 5]);
    m.free(req2);
    checkKvCacheInvariants(m);

    // A miss that needs every block evicts in LRU order.
    const req3 = makeRequest("3", Array(16 * 10).fill(99));
    const a3 = admit(m, req3);
    expect(a3.hit.numComputedTokens).toBe(0);
    expect(a3.newIds).toEqual([7, 8, 9, 10, 4, 5, 6, 3, 2, 1]);
    expect(m.numFreeBlocks).toBe(0);
    expect(m.blockPool.getCachedBlock(req0.blockHashes[0]!)?.blockId).not.toBe(1);
    checkKvCacheInvariants(m);
  });

  it("decode: fills the partial block, then allocates one and caches the full block", () => {
    const m = newManager();
    const req0 = makeRequest("0", [...repeatEach([0, 1, 2], BS), ...Array(7).fill(3)]);
    expect(admit(m, req0).newIds).toEqual([1, 2, 3, 4]);
    req0.numComputedTokens = 55;
    req0.appendOutputTokenIds([8, 8, 8, 8]);
    expect(m.allocateSlots(req0, 4)).toEqual([]);
    expect(m.getBlocks("0").at(-1)!.blockHash).toBeNull();
    req0.numComputedTokens = 59;
    req0.appendOutputTokenIds(Array(19).fill(7)); // 5 fill block 4, 14 go to a new block
    const nb = m.allocateSlots(req0, 19)!;
    expect(nb.length).toBe(1);
    expect(m.getBlocks("0").at(-2)!.blockHash).not.toBeNull();
    expect(m.getBlocks("0").at(-1)!.blockHash).toBeNull();
    expect(m.getBlockIds("0")).toEqual([1, 2, 3, 4, 5]);
  });

  it("evict: frees in reverse order per request, touching hits takes them off the free queue", () => {
    const m = newManager();
    let last = 5 * 16 + 7;
    const req0 = makeRequest("0", Array.from({ length: last }, (_, i) => i));
    expect(admit(m, req0).newIds!.length).toBe(6);
    const req1 = makeRequest("1", Array.from({ length: 48 }, (_, i) => last + i));
    expect(admit(m, req1).newIds!.length).toBe(3);
    last += 48;
    expect(m.numFreeBlocks).toBe(1);
    m.free(req0);
    m.free(req1);
    expect(m.numFreeBlocks).toBe(10);
    expect(freeIds(m)).toEqual([10, 6, 5, 4, 3, 2, 1, 9, 8, 7]);
    const req2 = makeRequest("2", Array.from({ length: 2 * 16 + 3 }, (_, i) => i));
    const a2 = admit(m, req2);
    expect(a2.hit.blocks.map((b) => b.blockId)).toEqual([1, 2]);
    expect(a2.hit.numComputedTokens).toBe(32);
    expect(a2.newIds).toEqual([10]);
    expect(m.numFreeBlocks).toBe(7);
  });

  it("a full prefix hit still recomputes the last token: whole last block dropped", () => {
    const m = newManager();
    const prompt = repeatEach([0, 1, 2], BS); // exactly 3 blocks
    admit(m, makeRequest("0", prompt));
    const same = makeRequest("1", prompt);
    const hit = m.getComputedBlocks(same);
    expect(hit.numComputedTokens).toBe(32);
    expect(hit.blocks.map((b) => b.blockId)).toEqual([1, 2]);
    const plusOne = makeRequest("2", [...prompt, 5]);
    expect(m.getComputedBlocks(plusOne).numComputedTokens).toBe(48);
    const single = makeRequest("3", prompt.slice(0, 16));
    expect(m.getComputedBlocks(single).numComputedTokens).toBe(0);
  });

  it("a freed block's hash is hit until the block is reused, then forgotten", () => {
    const m = newManager(2); // one usable block
    const req0 = makeRequest("0", Array.from({ length: 16 }, (_, i) => i));
    expect(admit(m, req0).newIds).toEqual([1]);
    m.free(req0);
    expect(m.blockPool.getCachedBlock(req0.blockHashes[0]!)?.blockId).toBe(1);
    expect(m.getComputedBlocks(makeRequest("x", Array.from({ length: 17 }, (_, i) => i))).numComputedTokens).toBe(16);
    const req1 = makeRequest("1", Array.from({ length: 15 }, (_, i) => i));
    expect(admit(m, req1).newIds).toEqual([1]);
    expect(m.blockPool.blocks[1]!.blockHash).toBeNull();
    expect(m.blockPool.getCachedBlock(req0.blockHashes[0]!)).toBeNull();
    checkKvCacheInvariants(m);
  });

  it("computed blocks are not evicted: a hit on a free block protects it from eviction", () => {
    const m = newManager(3);
    const req0 = makeRequest("0", Array.from({ length: 16 }, (_, i) => i));
    expect(admit(m, req0).newIds).toEqual([1]);
    const req1 = makeRequest("1", Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(admit(m, req1).newIds).toEqual([2]);
    m.free(req0);
    m.free(req1);
    const req2 = makeRequest("2", Array.from({ length: 32 }, (_, i) => i));
    const a2 = admit(m, req2);
    expect(a2.hit.blocks.map((b) => b.blockId)).toEqual([1]);
    expect(a2.newIds).toEqual([2]);
  });

  it("not enough free blocks once hit blocks in the free queue are counted: refCnts unchanged", () => {
    const m = newManager();
    const common = repeatEach([0, 1, 2], BS);
    const req0 = makeRequest("0", common);
    admit(m, req0);
    const part0 = m.getBlocks("0").slice();
    const req1 = makeRequest("1", [...common, ...common]);
    const h1 = m.getComputedBlocks(req1);
    expect(h1.blocks).toEqual(part0);
    expect(h1.numComputedTokens).toBe(48);
    m.allocateSlots(req1, 48, h1.numComputedTokens, h1.blocks);
    const part1 = m.getBlocks("1").slice();
    m.free(req1);
    expect(new Set(part1.slice(0, 3).map((b) => b.refCnt))).toEqual(new Set([1]));
    expect(new Set(part1.slice(3).map((b) => b.refCnt))).toEqual(new Set([0]));
    admit(m, makeRequest("2", Array(32).fill(7)));
    expect(m.numFreeBlocks).toBe(5);
    const req3 = makeRequest("3", [...common, ...common, ...common]);
    const h3 = m.getComputedBlocks(req3);
    expect(h3.blocks).toEqual(part1);
    expect(h3.numComputedTokens).toBe(96);
    // 3 new blocks + 3 free hit blocks to take out of the queue = 6 > 5 free.
    expect(m.allocateSlots(req3, 48, h3.numComputedTokens, h3.blocks)).toBeNull();
    expect(new Set(part1.slice(0, 3).map((b) => b.refCnt))).toEqual(new Set([1]));
    expect(new Set(part1.slice(3).map((b) => b.refCnt))).toEqual(new Set([0]));
    expect(m.getBlockIds("3")).toEqual([]);
    checkKvCacheInvariants(m);
  });

  it("cache salt changes the first block's hash and so the whole chain", () => {
    const m = newManager();
    const tokens = [...repeatEach([0, 1, 2], BS), ...Array(11).fill(3)];
    const salted = makeRequest("0", tokens, { cacheSalt: "salt1" });
    admit(m, salted);
    const h = salted.blockHashes;
    expect(h[0]).toBe(m.hashFn(null, tokens.slice(0, 16), ["salt1"]));
    expect(h[1]).toBe(m.hashFn(h[0]!, tokens.slice(16, 32), []));
    const plain = makeRequest("1", tokens);
    expect(m.getComputedBlocks(plain).numComputedTokens).toBe(0);
    const other = makeRequest("2", tokens, { cacheSalt: "salt2" });
    expect(m.getComputedBlocks(other).numComputedTokens).toBe(0);
    expect(m.getComputedBlocks(plain).numComputedTokens).toBe(0);
    const same = makeRequest("3", tokens, { cacheSalt: "salt1" });
    expect(m.getComputedBlocks(same).numComputedTokens).toBe(48);
  });

  it("hashes lazily: a miss on the first block hashes nothing more", () => {
    const m = newManager();
    const req = makeRequest("0", Array.from({ length: 100 }, (_, i) => i));
    m.getComputedBlocks(req);
    expect(req.blockHashes.length).toBe(1);
    m.allocateSlots(req, 100);
    expect(req.blockHashes.length).toBe(6);
  });

  it("delayCacheBlocks defers registration to cacheBlocks()", () => {
    const m = newManager();
    const req = makeRequest("0", Array.from({ length: 40 }, (_, i) => i));
    m.allocateSlots(req, 20, 0, [], { delayCacheBlocks: true });
    expect(m.blockPool.numCachedHashes).toBe(0);
    req.numComputedTokens = 20;
    m.cacheBlocks(req, 20);
    expect(m.blockPool.numCachedHashes).toBe(1);
    m.allocateSlots(req, 20, 0, [], { delayCacheBlocks: true });
    m.cacheBlocks(req, 40);
    expect(m.blockPool.numCachedHashes).toBe(2);
    checkKvCacheInvariants(m);
  });

  it("duplicate blocks with one hash are all registered and evicted one by one", () => {
    const m = newManager();
    const prompt = Array.from({ length: 20 }, (_, i) => i);
    const a = makeRequest("a", prompt);
    const b = makeRequest("b", prompt);
    m.allocateSlots(a, 20, 0, [], { delayCacheBlocks: true });
    m.allocateSlots(b, 20, 0, [], { delayCacheBlocks: true });
    m.cacheBlocks(a, 20);
    m.cacheBlocks(b, 20);
    expect(m.blockPool.numCachedHashes).toBe(1);
    expect([...m.blockPool.cachedEntries()].map(([, blk]) => blk.blockId)).toEqual([1, 3]);
    expect(m.blockPool.getCachedBlock(a.blockHashes[0]!)?.blockId).toBe(1);
    checkKvCacheInvariants(m);
    m.free(a);
    m.free(b);
    m.allocateSlots(makeRequest("c", Array(16 * 8).fill(9)), 16 * 8); // evicts 5..10, then 2 (a's tail), 1
    expect(m.blockPool.getCachedBlock(a.blockHashes[0]!)?.blockId).toBe(3);
    checkKvCacheInvariants(m);
  });

  it("without prefix caching nothing is hashed nor hit", () => {
    const m = newManager(11, false);
    const prompt = repeatEach([0, 1, 2], BS);
    admit(m, makeRequest("0", [...prompt, 1]));
    const r = makeRequest("1", [...prompt, 1]);
    expect(m.getComputedBlocks(r)).toEqual({ blocks: [], numComputedTokens: 0 });
    expect(m.blockPool.numCachedHashes).toBe(0);
    expect(r.blockHashes).toEqual([]);
  });

  it("resetPrefixCache only when no block is in use", () => {
    const m = newManager();
    const req = makeRequest("0", repeatEach([0, 1], BS));
    admit(m, req);
    expect(m.resetPrefixCache()).toBe(false);
    expect(m.blockPool.numCachedHashes).toBe(2);
    m.free(req);
    expect(m.resetPrefixCache()).toBe(true);
    expect(m.blockPool.numCachedHashes).toBe(0);
    expect(m.blockPool.blocks.every((b) => b.blockHash === null)).toBe(true);
    checkKvCacheInvariants(m);
  });
});
