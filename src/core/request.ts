import type { SamplingParams } from "../sampling/params.ts";
import type { BlockHash } from "./kv-cache/block-hash.ts";

/** A request's lifecycle state, named as vLLM's RequestStatus. */
export const RequestStatus = {
  WAITING: "WAITING",
  RUNNING: "RUNNING",
  PREEMPTED: "PREEMPTED",
  FINISHED_STOPPED: "FINISHED_STOPPED",
  FINISHED_LENGTH_CAPPED: "FINISHED_LENGTH_CAPPED",
  FINISHED_ABORTED: "FINISHED_ABORTED",
  FINISHED_IGNORED: "FINISHED_IGNORED",
} as const;
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

export type FinishReason = "stop" | "length" | "abort";

export function isFinished(status: RequestStatus): boolean {
  return status.startsWith("FINISHED_");
}

/** The OpenAI-style finish reason of a finished status, else null (IGNORED counts as "length", as in vLLM). */
export function finishReason(status: RequestStatus): FinishReason | null {
  switch (status) {
    case RequestStatus.FINISHED_STOPPED:
      return "stop";
    case RequestStatus.FINISHED_LENGTH_CAPPED:
    case RequestStatus.FINISHED_IGNORED:
      return "length";
    case RequestStatus.FINISHED_ABORTED:
      return "abort";
    default:
      return null;
  }
}

export interface RequestInit {
  requestId: string;
  promptTokenIds: readonly number[];
  samplingParams: SamplingParams;
  /** The model's end-of-sequence token, null if it has none. */
  eosTokenId?: number | null;
  /** Lower is scheduled sooner under the "priority" policy (default 0). */
  priority?: number;
  /** Seconds (default: now). Orders requests of equal priority. */
  arrivalTime?: number;
  /** Isolates this request's prefix-cache entries from requests with another (or no) salt. */
  cacheSalt?: string;
}

/** One generation request as the scheduler sees it: token ids and progress, no text. */
export class Request {
  readonly requestId: string;
  readonly promptTokenIds: readonly number[];
  readonly outputTokenIds: number[] = [];
  /** Prompt then output; shares storage with neither (append via appendOutputTokenIds only). */
  readonly allTokenIds: number[];
  /** Tokens whose KV is in the cache (or will be once the step in flight completes). */
  numComputedTokens = 0;
  /** Prompt tokens served by the prefix cache at first admission; -1 before it. */
  numCachedTokens = -1;
  status: RequestStatus = RequestStatus.WAITING;
  readonly priority: number;
  readonly arrivalTime: number;
  readonly samplingParams: SamplingParams;
  readonly eosTokenId: number | null;
  readonly cacheSalt?: string;
  /** Chained hashes of full blocks, extended lazily by the KV cache manager (see ensureBlockHashes). */
  readonly blockHashes: BlockHash[] = [];
  numPreemptions = 0;
  /** The stop token id, or stop string (set by the output processor), that finished the request. */
  stopReason: number | string | null = null;

  constructor(init: RequestInit) {
    this.requestId = init.requestId;
    this.promptTokenIds = init.promptTokenIds.slice();
    this.allTokenIds = init.promptTokenIds.slice();
    this.samplingParams = init.samplingParams;
    this.eosTokenId = init.eosTokenId ?? null;
    this.priority = init.priority ?? 0;
    this.arrivalTime = init.arrivalTime ?? Date.now() / 1000;
    if (init.cacheSalt !== undefined) this.cacheSalt = init.cacheSalt;
  }

  get numTokens(): number {
    return this.allTokenIds.length;
  }

  get numPromptTokens(): number {
    return this.promptTokenIds.length;
  }

  get numOutputTokens(): number {
    return this.outputTokenIds.length;
  }

  get maxTokens(): number {
    return this.samplingParams.maxTokens;
  }

  isFinished(): boolean {
    return isFinished(this.status);
  }

  appendOutputTokenIds(ids: number | readonly number[]): void {
    const list = typeof ids === "number" ? [ids] : ids;
    for (const id of list) {
      this.outputTokenIds.push(id);
      this.allTokenIds.push(id);
    }
  }
}
