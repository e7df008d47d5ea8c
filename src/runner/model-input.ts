import type { AttentionBatch } from "../plugin/types.ts";

/** One step's ragged batch: every scheduled token of every request, flattened. Plain data. */
export interface ModelInput extends AttentionBatch {
  /** [numTokens] token ids. */
  tokenIds: Int32Array;
  /** Rows (token indices) whose logits the sampler needs: the last scheduled token of each request that will sample. */
  logitsIndices: Int32Array;
}

/** A batch of one request whose KV lives in blocks [blockIds] (used by tests and simple callers). */
export function singleRequestInput(tokenIds: number[], startPos: number, blockIds: number[], blockSize: number): ModelInput {
  const n = tokenIds.length;
  const positions = new Int32Array(n);
  const slotMapping = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = startPos + i;
    positions[i] = p;
    slotMapping[i] = blockIds[Math.floor(p / blockSize)]! * blockSize + (p % blockSize);
  }
  return {
    numTokens: n,
    numReqs: 1,
    tokenIds: Int32Array.from(tokenIds),
    positions,
    slotMapping,
    queryStartLoc: Int32Array.from([0, n]),
    seqLens: Int32Array.from([startPos + n]),
    blockTables: Int32Array.from(blockIds),
    maxBlocksPerReq: blockIds.length,
    blockSize,
    logitsIndices: Int32Array.from([n - 1]),
  };
}
