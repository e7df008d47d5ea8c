import type { SchedulingPolicy } from "../core/scheduler/config.ts";
import { UsageError } from "../util/errors.ts";

/** Engine configuration, named as vLLM's EngineArgs. */
export interface EngineArgs {
  /** Context length to serve (default: the model's). */
  maxModelLen?: number;
  /** Concurrent sequences per step. */
  maxNumSeqs: number;
  /** Token budget per step (prefill chunks + decodes). */
  maxNumBatchedTokens: number;
  blockSize: number;
  enablePrefixCaching: boolean;
  enableChunkedPrefill: boolean;
  /** Bytes for the KV cache (default: enough for maxNumSeqs full contexts, capped at 512 MiB). */
  kvCacheMemory?: number;
  policy: SchedulingPolicy;
}

export const DEFAULT_ENGINE_ARGS: EngineArgs = {
  maxNumSeqs: 64,
  maxNumBatchedTokens: 512,
  blockSize: 16,
  enablePrefixCaching: true,
  enableChunkedPrefill: true,
  policy: "fcfs",
};

export const DEFAULT_KV_CACHE_CAP = 512 * 1024 * 1024;

export function makeEngineArgs(a: Partial<EngineArgs> = {}): EngineArgs {
  const args: EngineArgs = { ...DEFAULT_ENGINE_ARGS };
  for (const [k, v] of Object.entries(a)) if (v !== undefined) (args as unknown as Record<string, unknown>)[k] = v;
  const posInt = (name: string, v: number, min = 1) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`invalid ${name} ${v}; accepted: an integer >= ${min}`);
  };
  posInt("max_num_seqs", args.maxNumSeqs);
  posInt("max_num_batched_tokens", args.maxNumBatchedTokens);
  posInt("block_size", args.blockSize);
  if (![1, 2, 4, 8, 16, 32, 64, 128, 256].includes(args.blockSize)) {
    throw new UsageError(`invalid block_size ${args.blockSize}; accepted: 1, 2, 4, 8, 16, 32, 64, 128, 256`);
  }
  if (args.maxModelLen !== undefined) posInt("max_model_len", args.maxModelLen);
  if (!["fcfs", "priority"].includes(args.policy)) throw new UsageError(`invalid scheduling policy "${args.policy}"; accepted: fcfs, priority`);
  return args;
}
