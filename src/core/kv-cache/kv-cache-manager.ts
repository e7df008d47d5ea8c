import type { Request } from "../request.ts";
import { ensureBlockHashes, sha256BlockHash, type BlockHashFn } from "./block-hash.ts";
import { BlockPool } from "./block-pool.ts";
import type { KVCacheBlock } from "./kv-cache-block.ts";
import { emptyPrefixCacheStats, recordPrefixCacheLookup, type PrefixCacheStats } from "./prefix-cache-stats.ts";

export interface KVCacheManagerOptions {
  /** Total blocks including the null block 0, so numBlocks - 1 are allocatable. */
  numBlocks: number;
  /** Tokens per block (default 16). */
  blockSize?: number;
  /** Default true, as in vLLM v1. */
  enablePrefixCaching?: boolean;
  maxModelLen: number;
  /** Block hash function (default SHA-256). */
  hashFn?: BlockHashFn;
}

/** The result of a prefix-cache lookup: full cached blocks and the tokens they hold. */
export interface ComputedBlocks {
  blocks: KVCacheBlock[];
  numComputedTokens: number;
}

export interface AllocateSlotsOptions {
  /**
   * Do not register newly full blocks now; the caller calls cacheBlocks() once they are computed.
   * The scheduler uses this so no other request can hit a block before its KV is written.
   */
  delayCacheBlocks?: boolean;
}

/** Per-request block tables over one BlockPool (vLLM's KVCacheManager for a single full-attention group). */
export class KVCacheManager {
  readonly blockSize: number;
  readonly maxModelLen: number;
  readonly enableCaching: boolean;
  readonly hashFn: BlockHashFn;
  readonly blockPool: BlockPool;
  private readonly reqToBlocks = new Map<string, KVCacheBlock[]>();
  /** How many of a request's leading blocks are registered in the prefix cache. */
  private readonly numCachedBlock = new Map<string, number>();
  private readonly totalStats = emptyPrefixCacheStats();
  private intervalStats = emptyPrefixCacheStats();

  constructor(opts: KVCacheManagerOptions) {
    const blockSize = opts.blockSize ?? 16;
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${blockSize}`);
    if (!Number.isInteger(opts.maxModelLen) || opts.maxModelLen < 1) throw new RangeError(`maxModelLen must be a positive integer, got ${opts.maxModelLen}`);
    this.blockSize = blockSize;
    this.maxModelLen = opts.maxModelLen;
    this.enableCaching = opts.enablePrefixCaching ?? true;
    this.hashFn = opts.hashFn ?? sha256BlockHash;
    this.blockPool = new BlockPool(opts.numBlocks, this.enableCaching);
  }

  /**
   * Longest chain of cached full blocks that prefixes the request. A full hit must still recompute the
   * last token (for its logits), so the hit is capped at numTokens - 1 tokens, i.e. whole blocks only:
   * a prompt of exactly k blocks hits at most k - 1 of them. Does not touch the blocks.
   */
  getComputedBlocks(request: Request): ComputedBlocks {
    if (!this.enableCaching) return { blocks: [], numComputedTokens: 0 };
    const maxBlocks = Math.floor((request.numTokens - 1) / this.blockSize);
    const blocks: KVCacheBlock[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      ensureBlockHashes(request, i + 1, this.blockSize, this.hashFn);
      const block = this.blockPool.getCachedBlock(request.blockHashes[i]!);
      if (block === null) break;
      blocks.push(block);
    }
    return { blocks, numComputedTokens: blocks.length * this.blockSize };
  }

  /**
   * Make room for `numNewTokens` more tokens after the request's computed ones (plus, on first
   * admission, `newComputedBlocks`: a prefix hit of `numNewComputedTokens` tokens, which this touches).
   * Returns the newly allocated blocks, or null (changing nothing) when the pool cannot supply them.
   * Free cached blocks among the hit count as free, so touching them uses up free capacity too.
   */
  allocateSlots(request: Request, numNewTokens: number, numNewComputedTokens = 0, newComputedBlocks: readonly KVCacheBlock[] = [], opts: AllocateSlotsOptions = {}): KVCacheBlock[] | null {
    if (!(numNewTokens > 0)) throw new Error(`allocateSlots: numNewTokens must be > 0, got ${numNewTokens}`);
    if (numNewComputedTokens !== newComputedBlocks.length * this.blockSize) {
      throw new Error(`allocateSlots: ${numNewComputedTokens} computed tokens do not match ${newComputedBlocks.length} blocks of ${this.blockSize}`);
    }
    const reqBlocks = this.reqToBlocks.get(request.requestId) ?? [];
    if (newComputedBlocks.length > 0 && (reqBlocks.length > 0 || !this.enableCaching)) {
      throw new Error(`allocateSlots: prefix-hit blocks given for request ${request.requestId} that already has blocks or without caching`);
    }
    const numComputedTokens = request.numComputedTokens + numNewComputedTokens;
    const numTokensNeedSlot = Math.min(numComputedTokens + numNewTokens, this.maxModelLen);
    const numRequired = Math.ceil(numTokensNeedSlot / this.blockSize);
    const numNewBlocks = Math.max(numRequired - reqBlocks.length - newComputedBlocks.length, 0);
    let numEvictableComputed = 0;
    for (const b of newComputedBlocks) if (b.refCnt === 0 && !b.isNull) numEvictableComputed++;
    if (numNewBlocks + numEvictableComputed > this.blockPool.getNumFreeBlocks()) return null;

    if (!this.reqToBlocks.has(request.requestId)) {
      this.reqToBlocks.set(request.requestId, reqBlocks);
      this.numCachedBlock.set(request.requestId, newComputedBlocks.length);
    }
    if (newComputedBlocks.length > 0) {
      this.blockPool.touch(newComputedBlocks);
      reqBlocks.push(...newComputedBlocks);
    }
    const newBlocks = this.blockPool.getNewBlocks(numNewBlocks);
    reqBlocks.push(...newBlocks);
    if (this.enableCaching && !opts.delayCacheBlocks) {
      this.cacheBlocks(request, Math.min(numComputedTokens + numNewTokens, request.numTokens));
    }
    return newBlocks;
  }

  /** Register the request's full blocks among its first `numComputedTokens` tokens in the prefix cache. */
  cacheBlocks(request: Request, numComputedTokens: number): void {
    if (!this.enableCaching) return;
    const blocks = this.reqToBlocks.get(request.requestId);
    if (!blocks) return;
    const numFullBlocks = Math.min(Math.floor(numComputedTokens / this.blockSize), blocks.length);
    const numCached = this.numCachedBlock.get(request.requestId) ?? 0;
    if (numCached >= numFullBlocks) return;
    ensureBlockHashes(request, numFullBlocks, this.blockSize, this.hashFn);
    this.blockPool.cacheFullBlocks(request, blocks, numCached, numFullBlocks);
    this.numCachedBlock.set(request.requestId, numFullBlocks);
  }

  /** Release the request's blocks, tail first, so its last blocks are evicted before its first ones. */
  free(request: Request): void {
    const blocks = this.reqToBlocks.get(request.requestId);
    this.reqToBlocks.delete(request.requestId);
    this.numCachedBlock.delete(request.requestId);
    if (blocks) this.blockPool.freeBlocks(blocks.slice().reverse());
  }

  /** The request's block table (physical block ids by logical block index); empty if it holds none. */
  getBlockIds(requestId: string): number[] {
    return (this.reqToBlocks.get(requestId) ?? []).map((b) => b.blockId);
  }

  getBlocks(requestId: string): readonly KVCacheBlock[] {
    return this.reqToBlocks.get(requestId) ?? [];
  }

  /** Every (requestId, block table) held, for invariant checks. */
  requestBlockTables(): IterableIterator<[string, readonly KVCacheBlock[]]> {
    return this.reqToBlocks.entries();
  }

  /**
   * Leading blocks of `requestId` shared by all `numRunningRequests` running requests (refCnt equal to
   * it): the common prefix a cascade-attention kernel may compute once.
   */
  getNumCommonPrefixBlocks(requestId: string, numRunningRequests: number): number {
    let n = 0;
    for (const b of this.reqToBlocks.get(requestId) ?? []) {
      if (b.refCnt !== numRunningRequests) break;
      n++;
    }
    return n;
  }

  /** Count a first-admission lookup (the scheduler calls this once the request is admitted). */
  recordPrefixCacheStats(request: Request, numHits: number): void {
    if (!this.enableCaching) return;
    const preempted = request.numPreemptions > 0;
    recordPrefixCacheLookup(this.totalStats, request.numTokens, numHits, preempted);
    recordPrefixCacheLookup(this.intervalStats, request.numTokens, numHits, preempted);
  }

  /** Totals since construction (a copy). */
  get prefixCacheStats(): PrefixCacheStats {
    return { ...this.totalStats };
  }

  /** Stats since the previous call, then reset (vLLM's make_prefix_cache_stats). */
  makePrefixCacheStats(): PrefixCacheStats {
    const s = this.intervalStats;
    this.intervalStats = emptyPrefixCacheStats();
    return s;
  }

  /** Drop all cached hashes; false (no change) while any block is in use. */
  resetPrefixCache(): boolean {
    return this.blockPool.resetPrefixCache();
  }

  /** Fraction of allocatable blocks in use. */
  get usage(): number {
    return this.blockPool.getUsage();
  }

  get numFreeBlocks(): number {
    return this.blockPool.getNumFreeBlocks();
  }
}
