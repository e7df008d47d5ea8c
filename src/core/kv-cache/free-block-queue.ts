import { KVCacheBlock } from "./kv-cache-block.ts";

/**
 * The free blocks in eviction order, as a doubly linked list threaded through the blocks themselves
 * (vLLM's FreeKVCacheBlockQueue): O(1) popleft, append, and remove from the middle (a prefix-cache hit
 * on a free block). The head is the least recently freed block, evicted first.
 *
 * Eviction order: blocks freed earlier are evicted first; a request frees its blocks in reverse order,
 * so its tail block (the longest, least shareable prefix) is evicted before its first block.
 */
export class FreeKVCacheBlockQueue {
  numFreeBlocks = 0;
  private readonly head = new KVCacheBlock(-1);
  private readonly tail = new KVCacheBlock(-2);

  constructor(blocks: readonly KVCacheBlock[] = []) {
    this.head.nextFreeBlock = this.tail;
    this.tail.prevFreeBlock = this.head;
    this.appendN(blocks);
  }

  /** Pop the first (least recently freed) block. */
  popleft(): KVCacheBlock {
    const block = this.head.nextFreeBlock!;
    if (block === this.tail) throw new Error("FreeKVCacheBlockQueue.popleft: no free blocks");
    this.unlink(block);
    return block;
  }

  /** Pop the first `n` blocks, in order. */
  popleftN(n: number): KVCacheBlock[] {
    if (n > this.numFreeBlocks) throw new Error(`FreeKVCacheBlockQueue.popleftN: ${n} requested, ${this.numFreeBlocks} free`);
    const out: KVCacheBlock[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.popleft();
    return out;
  }

  /** Remove `block` from anywhere in the queue. */
  remove(block: KVCacheBlock): void {
    if (block.prevFreeBlock === null || block.nextFreeBlock === null) {
      throw new Error(`FreeKVCacheBlockQueue.remove: block ${block.blockId} is not in the free queue`);
    }
    this.unlink(block);
  }

  /** Append `block` at the tail (most recently freed, evicted last). */
  append(block: KVCacheBlock): void {
    if (block.prevFreeBlock !== null || block.nextFreeBlock !== null) {
      throw new Error(`FreeKVCacheBlockQueue.append: block ${block.blockId} is already in the free queue`);
    }
    const last = this.tail.prevFreeBlock!;
    last.nextFreeBlock = block;
    block.prevFreeBlock = last;
    block.nextFreeBlock = this.tail;
    this.tail.prevFreeBlock = block;
    this.numFreeBlocks++;
  }

  /** Append `blocks` in the given order. */
  appendN(blocks: Iterable<KVCacheBlock>): void {
    for (const b of blocks) this.append(b);
  }

  /** Whether `block` is currently linked into this queue. */
  contains(block: KVCacheBlock): boolean {
    return block.prevFreeBlock !== null && block.nextFreeBlock !== null;
  }

  /** All free blocks from head to tail (for tests and invariant checks; O(n)). */
  getAllFreeBlocks(): KVCacheBlock[] {
    const out: KVCacheBlock[] = [];
    for (let b = this.head.nextFreeBlock!; b !== this.tail; b = b.nextFreeBlock!) out.push(b);
    return out;
  }

  private unlink(block: KVCacheBlock): void {
    block.prevFreeBlock!.nextFreeBlock = block.nextFreeBlock;
    block.nextFreeBlock!.prevFreeBlock = block.prevFreeBlock;
    block.prevFreeBlock = null;
    block.nextFreeBlock = null;
    this.numFreeBlocks--;
  }
}
