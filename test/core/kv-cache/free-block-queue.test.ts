import { describe, expect, it } from "vitest";
import { FreeKVCacheBlockQueue } from "../../../src/core/kv-cache/free-block-queue.ts";
import { KVCacheBlock } from "../../../src/core/kv-cache/kv-cache-block.ts";

const ids = (q: FreeKVCacheBlockQueue) => q.getAllFreeBlocks().map((b) => b.blockId);

describe("FreeKVCacheBlockQueue", () => {
  it("pops from the head, appends at the tail and removes from the middle in O(1)", () => {
    const blocks = Array.from({ length: 6 }, (_, i) => new KVCacheBlock(i));
    const q = new FreeKVCacheBlockQueue(blocks);
    expect(q.numFreeBlocks).toBe(6);
    expect(q.popleft().blockId).toBe(0);
    q.remove(blocks[3]!);
    expect(ids(q)).toEqual([1, 2, 4, 5]);
    q.append(blocks[3]!);
    q.append(blocks[0]!);
    expect(ids(q)).toEqual([1, 2, 4, 5, 3, 0]);
    expect(q.popleftN(3).map((b) => b.blockId)).toEqual([1, 2, 4]);
    expect(q.numFreeBlocks).toBe(3);
    q.appendN([blocks[2]!, blocks[1]!]);
    expect(ids(q)).toEqual([5, 3, 0, 2, 1]);
    q.remove(blocks[1]!);
    q.remove(blocks[5]!);
    expect(ids(q)).toEqual([3, 0, 2]);
    expect(q.contains(blocks[5]!)).toBe(false);
    expect(q.contains(blocks[0]!)).toBe(true);
  });

  it("refuses double appends, removing absent blocks and popping an empty queue", () => {
    const b = new KVCacheBlock(1);
    const q = new FreeKVCacheBlockQueue([b]);
    expect(() => q.append(b)).toThrow(/already in the free queue/);
    q.remove(b);
    expect(() => q.remove(b)).toThrow(/not in the free queue/);
    expect(() => q.popleft()).toThrow(/no free blocks/);
    expect(() => q.popleftN(1)).toThrow();
    expect(q.numFreeBlocks).toBe(0);
  });
});
