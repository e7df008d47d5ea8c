/** The engine core: requests, the paged KV cache with prefix caching, and the vLLM-v1-style scheduler. */
export { Request, RequestStatus, isFinished, finishReason, type FinishReason, type RequestInit } from "./request.ts";
export { createSha256BlockHashFn, sha256BlockHash, ensureBlockHashes, blockExtraKeys, type BlockHash, type BlockHashFn } from "./kv-cache/block-hash.ts";
export { KVCacheBlock } from "./kv-cache/kv-cache-block.ts";
export { FreeKVCacheBlockQueue } from "./kv-cache/free-block-queue.ts";
export { BlockPool } from "./kv-cache/block-pool.ts";
export { KVCacheManager, type KVCacheManagerOptions, type ComputedBlocks, type AllocateSlotsOptions } from "./kv-cache/kv-cache-manager.ts";
export { numBlocksFromMemory, checkEnoughKvCache, minNumBlocks } from "./kv-cache/kv-cache-size.ts";
export { prefixCacheHitRate, type PrefixCacheStats } from "./kv-cache/prefix-cache-stats.ts";
export { checkKvCacheInvariants, findKvCacheViolations, type KvInvariantOptions } from "./kv-cache/check-invariants.ts";
export { Scheduler, type SchedulerStats } from "./scheduler/scheduler.ts";
export { resolveSchedulerConfig, SCHEDULING_POLICIES, type SchedulerConfig, type ResolvedSchedulerConfig, type SchedulingPolicy } from "./scheduler/config.ts";
export type { SchedulerOutput, ScheduledRequest, UpdateResult, RequestTokenOutput } from "./scheduler/output.ts";
export { checkStop } from "./scheduler/stop.ts";
export { checkSchedulerInvariants, findSchedulerViolations } from "./scheduler/check-invariants.ts";
