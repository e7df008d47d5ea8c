import { LlmError } from "../../util/errors.ts";

const MiB = 1024 * 1024;

/** Blocks needed to hold one sequence of maxModelLen tokens, plus the reserved null block. */
export function minNumBlocks(maxModelLen: number, blockSize: number): number {
  return Math.ceil(maxModelLen / blockSize) + 1;
}

function cannotHold(numBlocks: number, bytes: number | null, maxModelLen: number, blockSize: number): LlmError {
  const needed = minNumBlocks(maxModelLen, blockSize);
  const size = bytes === null ? "" : ` (${(bytes / MiB).toFixed(1)} MiB)`;
  return new LlmError(
    `KV cache of ${numBlocks} blocks${size} cannot hold one request of ` +
      `max_model_len=${maxModelLen} tokens (needs ${needed} blocks of ${blockSize} tokens, one of them reserved); ` +
      `raise --kv-cache-memory or lower --max-model-len`,
  );
}

/**
 * How many KV cache blocks (null block included) fit in `budgetBytes`, where one token of KV over all
 * layers takes `bytesPerToken`. Throws LlmError when that cannot hold a single request of maxModelLen.
 */
export function numBlocksFromMemory(budgetBytes: number, blockSize: number, bytesPerToken: number, maxModelLen: number): number {
  if (!(budgetBytes > 0) || !Number.isFinite(budgetBytes)) throw new LlmError(`KV cache memory must be a positive number of bytes, got ${budgetBytes}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new LlmError(`block size must be a positive integer, got ${blockSize}`);
  if (!(bytesPerToken > 0)) throw new LlmError(`bytes per token must be positive, got ${bytesPerToken}`);
  const numBlocks = Math.floor(budgetBytes / (blockSize * bytesPerToken));
  if (numBlocks < minNumBlocks(maxModelLen, blockSize)) throw cannotHold(numBlocks, numBlocks * blockSize * bytesPerToken, maxModelLen, blockSize);
  return numBlocks;
}

/** The same check for a pool whose block count was chosen directly (e.g. --num-gpu-blocks-override). */
export function checkEnoughKvCache(numBlocks: number, blockSize: number, maxModelLen: number, bytesPerToken?: number): void {
  if (numBlocks >= minNumBlocks(maxModelLen, blockSize)) return;
  throw cannotHold(numBlocks, bytesPerToken === undefined ? null : numBlocks * blockSize * bytesPerToken, maxModelLen, blockSize);
}
