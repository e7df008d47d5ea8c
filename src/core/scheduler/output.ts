import type { Request } from "../request.ts";

/** One request's share of a step. */
export interface ScheduledRequest {
  request: Request;
  /** Tokens to compute this step: positions [numComputedTokensBefore, numComputedTokensBefore + numScheduledTokens). */
  numScheduledTokens: number;
  /** The request's full block table after this step's allocation (logical block i -> physical block id). */
  blockIds: number[];
  /** request.numComputedTokens when scheduled (prefix-cache hits included); KV below it is in the cache. */
  numComputedTokensBefore: number;
}

/** What the model runner executes for one step (plain data; the runner must not mutate the requests). */
export interface SchedulerOutput {
  /** Running requests first (in running order), then newly admitted or resumed ones. */
  scheduledRequests: ScheduledRequest[];
  totalNumScheduledTokens: number;
  /** Requests preempted this step: the runner drops their state; they come back as new admissions. */
  preemptedReqIds: string[];
  /**
   * Requests finished or aborted since the previous output that was handed to the runner, so it can
   * free their per-request state. Outputs with no scheduled tokens carry none (the engine does not run
   * those); the ids wait for the next output that has tokens.
   */
  finishedReqIds: string[];
  /** Leading blocks shared by every running request (for cascade attention); 0 when unused. */
  numCommonPrefixBlocks: number;
}

/** Tokens produced for one request by a step. */
export interface RequestTokenOutput {
  request: Request;
  newTokenIds: number[];
}

export interface UpdateResult {
  /** Requests that finished this step (stop token, EOS or length), their blocks already freed. */
  finished: Request[];
  /** Every request that got tokens this step, finished ones included. */
  outputs: RequestTokenOutput[];
}
