import type { PositionLogprobs } from "../sampling/logprobs.ts";

export type { PositionLogprobs };

/** What the engine streams back for a request (vLLM's RequestOutput / CompletionOutput). */
export type FinishReason = "stop" | "length" | "abort";

/** delta: only new text/tokens each time; cumulative: everything so far; final_only: one output at the end. */
export type RequestOutputKind = "delta" | "cumulative" | "final_only";

export interface CompletionOutput {
  /** Which of the request's n samples. */
  index: number;
  text: string;
  tokenIds: number[];
  finishReason: FinishReason | null;
  /** The stop string or stop token id that ended it, if any. */
  stopReason: string | number | null;
  /** Per token of tokenIds, when the request asked for logprobs (SamplingParams.logprobs not null). */
  logprobs?: PositionLogprobs[];
}

export interface RequestMetrics {
  arrivalTime: number;
  firstScheduledTime: number | null;
  firstTokenTime: number | null;
  lastTokenTime: number | null;
  finishedTime: number | null;
  numPromptTokens: number;
  /** Prompt tokens served from the prefix cache at first scheduling. */
  numCachedTokens: number;
  numGenerationTokens: number;
}

export interface RequestOutput {
  requestId: string;
  prompt: string | null;
  promptTokenIds: number[];
  /** The samples that changed in this step (all n for cumulative and final outputs). */
  outputs: CompletionOutput[];
  finished: boolean;
  metrics: RequestMetrics;
}
