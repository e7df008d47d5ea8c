import { UsageError } from "../../util/errors.ts";

export type SchedulingPolicy = "fcfs" | "priority";
export const SCHEDULING_POLICIES: readonly SchedulingPolicy[] = ["fcfs", "priority"];

export interface SchedulerConfig {
  /** Token budget of one step (prefill chunks plus decodes). */
  maxNumBatchedTokens: number;
  /** Most requests running at once. */
  maxNumSeqs: number;
  /** Longest sequence (prompt plus output) in tokens. */
  maxModelLen: number;
  /** Must equal the KV cache manager's block size. */
  blockSize: number;
  policy: SchedulingPolicy;
  /** When > 0, a prefill chunk is at most this many tokens (so long prompts do not starve others). */
  longPrefillTokenThreshold?: number;
  /** Default true. When false a prompt is scheduled whole or waits. */
  enableChunkedPrefill?: boolean;
}

export type ResolvedSchedulerConfig = Required<SchedulerConfig>;

function positiveInt(flag: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
}

/** Fill defaults and check the values, naming the CLI flag (vLLM's) in errors. */
export function resolveSchedulerConfig(c: SchedulerConfig): ResolvedSchedulerConfig {
  positiveInt("--max-num-batched-tokens", c.maxNumBatchedTokens);
  positiveInt("--max-num-seqs", c.maxNumSeqs);
  positiveInt("--max-model-len", c.maxModelLen);
  positiveInt("--block-size", c.blockSize);
  if (!SCHEDULING_POLICIES.includes(c.policy)) {
    throw new UsageError(`unknown scheduling policy ${JSON.stringify(c.policy)}; available: ${SCHEDULING_POLICIES.join(", ")}`);
  }
  const longPrefillTokenThreshold = c.longPrefillTokenThreshold ?? 0;
  if (!Number.isInteger(longPrefillTokenThreshold) || longPrefillTokenThreshold < 0) {
    throw new UsageError(`--long-prefill-token-threshold must be an integer >= 0, got ${JSON.stringify(longPrefillTokenThreshold)}`);
  }
  const enableChunkedPrefill = c.enableChunkedPrefill ?? true;
  if (!enableChunkedPrefill && c.maxNumBatchedTokens < c.maxModelLen) {
    throw new UsageError(
      `--max-num-batched-tokens (${c.maxNumBatchedTokens}) is smaller than --max-model-len (${c.maxModelLen}) with chunked prefill ` +
        `disabled, so long prompts could never be scheduled; raise --max-num-batched-tokens, lower --max-model-len or enable chunked prefill`,
    );
  }
  return { ...c, longPrefillTokenThreshold, enableChunkedPrefill };
}
