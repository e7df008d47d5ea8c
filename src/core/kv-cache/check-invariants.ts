import type { BlockHash } from "./block-hash.ts";
import type { KVCacheBlock } from "./kv-cache-block.ts";
import type { KVCacheManager } from "./kv-cache-manager.ts";

export interface KvInvariantOptions {
  /**
   * Check a prefix-cache entry's content; return a problem description or null. Tests track what was
   * written into each block and the preimage of each hash, and verify they agree.
   */
  verifyCachedBlock?: (hash: BlockHash, block: KVCacheBlock) => string | null;
}

/**
 * Consistency of the block pool, the free queue, the prefix cache and the block tables. Returns the
 * violations found (empty when sound). O(numBlocks + table sizes): for tests and debug builds.
 */
export function findKvCacheViolations(manager: KVCacheManager, opts: KvInvariantOptions = {}): string[] {
  const problems: string[] = [];
  const pool = manager.blockPool;
  const queue = pool.freeBlockQueue;

  const inQueue = new Set<number>();
  for (const b of queue.getAllFreeBlocks()) {
    if (inQueue.has(b.blockId)) problems.push(`block ${b.blockId} is in the free queue twice`);
    inQueue.add(b.blockId);
    if (b.isNull) problems.push("the null block is in the free queue");
    if (b.refCnt !== 0) problems.push(`free block ${b.blockId} has refCnt ${b.refCnt}`);
  }
  if (inQueue.size !== queue.numFreeBlocks) problems.push(`free queue holds ${inQueue.size} blocks but counts ${queue.numFreeBlocks}`);

  const holders = new Map<number, number>();
  for (const [requestId, table] of manager.requestBlockTables()) {
    const seen = new Set<number>();
    for (const b of table) {
      if (b.isNull) problems.push(`request ${requestId} holds the null block`);
      if (seen.has(b.blockId)) problems.push(`request ${requestId} holds block ${b.blockId} twice`);
      seen.add(b.blockId);
      holders.set(b.blockId, (holders.get(b.blockId) ?? 0) + 1);
      if (pool.blocks[b.blockId] !== b) problems.push(`request ${requestId} holds a block object foreign to the pool (${b.blockId})`);
    }
  }

  let held = 0;
  for (const b of pool.blocks) {
    if (b.isNull) continue;
    const n = holders.get(b.blockId) ?? 0;
    if (b.refCnt !== n) problems.push(`block ${b.blockId} has refCnt ${b.refCnt} but ${n} block tables hold it`);
    if (n > 0 && inQueue.has(b.blockId)) problems.push(`block ${b.blockId} is both free and held`);
    if (n === 0 && !inQueue.has(b.blockId)) problems.push(`block ${b.blockId} is neither free nor held (leaked)`);
    if (n > 0) held++;
  }
  if (queue.numFreeBlocks + held !== pool.numBlocks - 1) {
    problems.push(`free ${queue.numFreeBlocks} + held ${held} != ${pool.numBlocks - 1} allocatable blocks`);
  }

  const cached = new Set<KVCacheBlock>();
  for (const [hash, b] of pool.cachedEntries()) {
    if (b.blockHash !== hash) problems.push(`prefix cache maps ${hash.slice(0, 12)} to block ${b.blockId} whose hash is ${b.blockHash?.slice(0, 12) ?? "null"}`);
    if (cached.has(b)) problems.push(`block ${b.blockId} is in the prefix cache twice`);
    cached.add(b);
    const bad = opts.verifyCachedBlock?.(hash, b);
    if (bad) problems.push(`cached block ${b.blockId}: ${bad}`);
  }
  for (const b of pool.blocks) {
    if (b.blockHash !== null && !cached.has(b)) problems.push(`block ${b.blockId} has a hash but is not in the prefix cache`);
  }
  if (!manager.enableCaching && cached.size > 0) problems.push("prefix caching is off but blocks are cached");
  return problems;
}

/** findKvCacheViolations, throwing an Error that lists them. */
export function checkKvCacheInvariants(manager: KVCacheManager, opts: KvInvariantOptions = {}): void {
  const problems = findKvCacheViolations(manager, opts);
  if (problems.length > 0) throw new Error(`KV cache invariants violated:\n  ${problems.slice(0, 20).join("\n  ")}`);
}
