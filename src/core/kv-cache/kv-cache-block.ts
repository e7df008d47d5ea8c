import type { BlockHash } from "./block-hash.ts";

/** Metadata of one physical KV cache block (the tensors live in the runner, addressed by blockId). */
export class KVCacheBlock {
  readonly blockId: number;
  /** Number of requests whose block table holds this block; 0 means it sits in the free queue. */
  refCnt = 0;
  /** Set once the block is full, computed and registered in the prefix cache; kept after freeing. */
  blockHash: BlockHash | null = null;
  /** The null block (id 0) is a placeholder that is never allocated nor freed. */
  readonly isNull: boolean;
  /** Links of the free queue's doubly linked list (null when not in the queue). */
  prevFreeBlock: KVCacheBlock | null = null;
  nextFreeBlock: KVCacheBlock | null = null;

  constructor(blockId: number, isNull = false) {
    this.blockId = blockId;
    this.isNull = isNull;
  }

  toString(): string {
    return `KVCacheBlock(${this.blockId}, refCnt=${this.refCnt}${this.blockHash ? `, hash=${this.blockHash.slice(0, 8)}` : ""})`;
  }
}
