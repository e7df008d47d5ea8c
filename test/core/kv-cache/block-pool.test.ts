import { describe, expect, it } from "vitest";
import { BlockPool } from "../../../src/core/kv-cache/block-pool.ts";
import { ensureBlockHashes, sha256BlockHash } from "../../../src/core/kv-cache/block-hash.ts";
import { makeRequest } from "../helpers/make-request.ts";

describe("BlockPool", () => {
  it("never hands out the null block; usage counts allocatable blocks only", () => {
    const pool = new BlockPool(5, true);
    expect(pool.nullBlock.blockId).toBe(0);
    expect(pool.nullBlock.isNull).toBe(true);
    expect(pool.getNumFreeBlocks()).toBe(4);
    expect(pool.getUsage()).toBe(0);
    const got = pool.getNewBlocks(4);
    expect(got.map((b) => b.blockId)).toEqual([1, 2, 3, 4]);
    expect(got.every((b) => b.refCnt === 1)).toBe(true);
    expect(pool.getUsage()).toBe(1);
    expect(() => pool.getNewBlocks(1)).toThrow(/cannot get 1 free blocks/);
    pool.freeBlocks([got[1]!]);
    expect(pool.getUsage()).toBe(0.75);
  });

  it("touch takes a free block off the queue; freeBlocks keeps the hash and rejects double frees", () => {
    const pool = new BlockPool(4, true);
    const req = makeRequest("r", Array.from({ length: 32 }, (_, i) => i));
    ensureBlockHashes(req, 2, 16, sha256BlockHash);
    const blocks = pool.getNewBlocks(2);
    pool.cacheFullBlocks(req, blocks, 0, 2);
    expect(pool.getCachedBlock(req.blockHashes[1]!)).toBe(blocks[1]);
    pool.freeBlocks(blocks.slice().reverse());
    expect(pool.freeBlockQueue.getAllFreeBlocks().map((b) => b.blockId)).toEqual([3, 2, 1]);
    expect(blocks[0]!.blockHash).toBe(req.blockHashes[0]);
    expect(() => pool.freeBlocks([blocks[0]!])).toThrow(/freed more often than allocated/);
    pool.touch([blocks[0]!]);
    expect(blocks[0]!.refCnt).toBe(1);
    expect(pool.getNumFreeBlocks()).toBe(2);
    pool.touch([blocks[0]!]);
    expect(blocks[0]!.refCnt).toBe(2);
    expect(pool.getNumFreeBlocks()).toBe(2);
    // Reusing block 3 then 2 evicts block 2's hash (lazy eviction).
    pool.getNewBlocks(2);
    expect(pool.getCachedBlock(req.blockHashes[1]!)).toBeNull();
    expect(pool.getCachedBlock(req.blockHashes[0]!)).toBe(blocks[0]);
  });

  it("cacheFullBlocks refuses to re-register a cached block or run past the request's hashes", () => {
    const pool = new BlockPool(4, true);
    const req = makeRequest("r", Array.from({ length: 32 }, (_, i) => i));
    const blocks = pool.getNewBlocks(2);
    expect(() => pool.cacheFullBlocks(req, blocks, 0, 1)).toThrow(/0 hashes for 1 full blocks/);
    ensureBlockHashes(req, 2, 16, sha256BlockHash);
    pool.cacheFullBlocks(req, blocks, 0, 1);
    expect(() => pool.cacheFullBlocks(req, blocks, 0, 2)).toThrow(/already cached/);
  });

  it("needs at least two blocks", () => {
    expect(() => new BlockPool(1, true)).toThrow(RangeError);
  });
});
