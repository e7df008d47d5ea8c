import type { BlockHash, HashableRequest } from "./block-hash.ts";
import { FreeKVCacheBlockQueue } from "./free-block-queue.ts";
import { KVCacheBlock } from "./kv-cache-block.ts";

/**
 * Owns every KVCacheBlock: allocation from the free queue, ref counts, and the prefix cache
 * (hash -> blocks). Cached blocks may be held by running requests or sit free in the queue as eviction
 * candidates; a free cached block keeps its hash and can be hit until it is reused (lazy eviction).
 *
 * Identical blocks are not de-duplicated (two requests computing the same prefix in one step both
 * register theirs) so block tables stay append-only, as in vLLM; a hash then maps to several blocks.
 */
export class BlockPool {
  readonly numBlocks: number;
  readonly enableCaching: boolean;
  readonly blocks: readonly KVCacheBlock[];
  readonly freeBlockQueue: FreeKVCacheBlockQueue;
  /** Block 0: a placeholder never handed out nor freed; its refCnt is not maintained. */
  readonly nullBlock: KVCacheBlock;
  private readonly cachedBlockHashToBlock = new Map<BlockHash, KVCacheBlock[]>();

  constructor(numBlocks: number, enableCaching: boolean) {
    if (!Number.isInteger(numBlocks) || numBlocks < 2) throw new RangeError(`BlockPool needs at least 2 blocks (one is the null block), got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.enableCaching = enableCaching;
    const blocks = Array.from({ length: numBlocks }, (_, i) => new KVCacheBlock(i, i === 0));
    this.blocks = blocks;
    this.nullBlock = blocks[0]!;
    this.freeBlockQueue = new FreeKVCacheBlockQueue(blocks.slice(1));
  }

  /** A cached block holding `hash` (the first registered if several), or null. */
  getCachedBlock(hash: BlockHash): KVCacheBlock | null {
    return this.cachedBlockHashToBlock.get(hash)?.[0] ?? null;
  }

  /**
   * Register `blocks[numCachedBlocks..numFullBlocks)` of `request` under `request.blockHashes` (which
   * must already cover numFullBlocks). Blocks before numCachedBlocks are cached already.
   */
  cacheFullBlocks(request: HashableRequest, blocks: readonly KVCacheBlock[], numCachedBlocks: number, numFullBlocks: number): void {
    if (numCachedBlocks >= numFullBlocks) return;
    if (request.blockHashes.length < numFullBlocks) throw new Error(`cacheFullBlocks: ${request.blockHashes.length} hashes for ${numFullBlocks} full blocks`);
    for (let i = numCachedBlocks; i < numFullBlocks; i++) {
      const block = blocks[i]!;
      if (block.isNull) continue;
      if (block.blockHash !== null) throw new Error(`cacheFullBlocks: ${block} is already cached`);
      const hash = request.blockHashes[i]!;
      block.blockHash = hash;
      const list = this.cachedBlockHashToBlock.get(hash);
      if (list) list.push(block);
      else this.cachedBlockHashToBlock.set(hash, [block]);
    }
  }

  /** Take `n` blocks from the head of the free queue, evicting their cached hashes; refCnt becomes 1. */
  getNewBlocks(n: number): KVCacheBlock[] {
    if (n > this.getNumFreeBlocks()) throw new Error(`getNewBlocks: cannot get ${n} free blocks from the pool (${this.getNumFreeBlocks()} free)`);
    const out = this.freeBlockQueue.popleftN(n);
    for (const block of out) {
      if (block.refCnt !== 0) throw new Error(`getNewBlocks: ${block} in the free queue has refCnt ${block.refCnt}`);
      this.maybeEvictCachedBlock(block);
      block.refCnt = 1;
    }
    return out;
  }

  /** A prefix hit on `blocks`: refCnt++, taking free ones out of the free queue (no longer evictable). */
  touch(blocks: readonly KVCacheBlock[]): void {
    for (const block of blocks) {
      if (block.isNull) continue;
      if (block.refCnt === 0) this.freeBlockQueue.remove(block);
      block.refCnt++;
    }
  }

  /**
   * refCnt-- on each block; those reaching 0 go to the free-queue tail in the given order (eviction
   * order), keeping their hash. Callers pass a request's blocks in reverse.
   */
  freeBlocks(orderedBlocks: Iterable<KVCacheBlock>): void {
    for (const block of orderedBlocks) {
      if (block.isNull) continue;
      if (block.refCnt <= 0) throw new Error(`freeBlocks: ${block} freed more often than allocated`);
      block.refCnt--;
      if (block.refCnt === 0) this.freeBlockQueue.append(block);
    }
  }

  /**
   * Forget every cached hash; only allowed when no block is in use (as in vLLM, returns false and
   * changes nothing otherwise, e.g. while requests run).
   */
  resetPrefixCache(): boolean {
    if (this.getNumFreeBlocks() !== this.numBlocks - 1) return false;
    this.cachedBlockHashToBlock.clear();
    for (const block of this.blocks) block.blockHash = null;
    return true;
  }

  getNumFreeBlocks(): number {
    return this.freeBlockQueue.numFreeBlocks;
  }

  /** Fraction of allocatable blocks (all but the null block) in use, in [0, 1]. */
  getUsage(): number {
    return 1 - this.getNumFreeBlocks() / (this.numBlocks - 1);
  }

  /** Number of distinct hashes in the prefix cache. */
  get numCachedHashes(): number {
    return this.cachedBlockHashToBlock.size;
  }

  /** Every (hash, block) entry of the prefix cache, for invariant checks. */
  *cachedEntries(): IterableIterator<[BlockHash, KVCacheBlock]> {
    for (const [hash, list] of this.cachedBlockHashToBlock) for (const block of list) yield [hash, block];
  }

  private maybeEvictCachedBlock(block: KVCacheBlock): void {
    const hash = block.blockHash;
    if (hash === null) return;
    block.blockHash = null;
    const list = this.cachedBlockHashToBlock.get(hash);
    if (!list) return;
    const i = list.indexOf(block);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.cachedBlockHashToBlock.delete(hash);
  }
}
