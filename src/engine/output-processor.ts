import type { Request } from "../core/request.ts";
import { finishReason } from "../core/request.ts";
import { IncrementalDetokenizer } from "../tokenizer/incremental-detokenizer.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { StopChecker } from "./stop-checker.ts";
import type { CompletionOutput, PositionLogprobs, RequestMetrics, RequestOutput, RequestOutputKind } from "./request-output.ts";

/** Per-sample state: the incremental detokenizer and the stop-string checker. */
class SampleState {
  readonly detok: IncrementalDetokenizer;
  readonly stop: StopChecker;
  text = "";
  tokenIds: number[] = [];
  /** Parallel to tokenIds when the request asked for logprobs. */
  logprobs: PositionLogprobs[] | null = null;
  sentTokens = 0;
  sentText = 0;
  finishReason: CompletionOutput["finishReason"] = null;
  stopReason: string | number | null = null;

  constructor(tokenizer: Tokenizer, promptTokenIds: readonly number[], stops: readonly string[]) {
    this.detok = new IncrementalDetokenizer(tokenizer, { prefixIds: promptTokenIds, leadingSpace: "after-bos" });
    this.stop = new StopChecker(stops);
  }
}

/** A user request: n samples (child requests in the scheduler) over one prompt. */
export class ParentRequest {
  readonly samples: SampleState[];
  readonly childIds: string[];
  readonly metrics: RequestMetrics;
  numFinished = 0;

  constructor(
    readonly requestId: string,
    readonly prompt: string | null,
    readonly promptTokenIds: number[],
    readonly outputKind: RequestOutputKind,
    n: number,
    tokenizer: Tokenizer,
    stops: readonly string[],
    arrivalTime: number,
  ) {
    this.samples = Array.from({ length: n }, () => new SampleState(tokenizer, promptTokenIds, stops));
    this.childIds = n === 1 ? [requestId] : Array.from({ length: n }, (_, i) => `${requestId}#${i}`);
    this.metrics = {
      arrivalTime, firstScheduledTime: null, firstTokenTime: null, lastTokenTime: null, finishedTime: null,
      numPromptTokens: promptTokenIds.length, numCachedTokens: 0, numGenerationTokens: 0,
    };
  }

  get finished(): boolean {
    return this.numFinished === this.samples.length;
  }
}

/**
 * Turns the scheduler's new token ids into text outputs: incremental detokenization (every piece
 * valid UTF-8), stop strings with hold-back, and delta / cumulative / final-only outputs.
 */
export class OutputProcessor {
  /** Add a sample's new tokens; returns a stop string if one ended it (the engine then finishes the request). */
  processTokens(parent: ParentRequest, index: number, newTokenIds: readonly number[], now: number, logprobs?: readonly PositionLogprobs[]): string | null {
    const s = parent.samples[index]!;
    if (parent.metrics.firstTokenTime === null && newTokenIds.length) parent.metrics.firstTokenTime = now;
    if (newTokenIds.length) parent.metrics.lastTokenTime = now;
    for (const [i, id] of newTokenIds.entries()) {
      if (s.stop.stoppedBy !== null) break;
      s.tokenIds.push(id);
      const lp = logprobs?.[i];
      if (lp) (s.logprobs ??= []).push(lp);
      parent.metrics.numGenerationTokens++;
      s.text += s.stop.push(s.detok.push(id));
    }
    if (s.stop.stoppedBy !== null && s.finishReason === null) {
      s.finishReason = "stop";
      s.stopReason = s.stop.stoppedBy;
      return s.stop.stoppedBy;
    }
    return null;
  }

  /** Mark a sample finished because its scheduler request finished. */
  finishSample(parent: ParentRequest, index: number, req: Request | null, reason: CompletionOutput["finishReason"], now: number): void {
    const s = parent.samples[index]!;
    if (s.finishReason === null) {
      // Not ended by a stop string: release held-back text, then take the scheduler's reason.
      s.text += s.stop.push(s.detok.flush());
      s.text += s.stop.flush();
      s.finishReason = s.stop.stoppedBy !== null ? "stop" : req ? finishReason(req.status) : reason;
      s.stopReason = req?.stopReason ?? null;
    }
    parent.numFinished++;
    if (parent.finished) parent.metrics.finishedTime = now;
  }

  /** The output to emit for this parent now, or null when nothing is due (final_only before the end, empty deltas). */
  makeOutput(parent: ParentRequest, changed: ReadonlySet<number>): RequestOutput | null {
    const finished = parent.finished;
    if (parent.outputKind === "final_only" && !finished) return null;
    const outputs: CompletionOutput[] = [];
    parent.samples.forEach((s, index) => {
      const delta = parent.outputKind === "delta";
      if (delta && !changed.has(index)) return;
      const text = delta ? s.text.slice(s.sentText) : s.text;
      const tokenIds = delta ? s.tokenIds.slice(s.sentTokens) : s.tokenIds.slice();
      const logprobs = s.logprobs ? (delta ? s.logprobs.slice(s.sentTokens) : s.logprobs.slice()) : null;
      s.sentText = s.text.length;
      s.sentTokens = s.tokenIds.length;
      const o: CompletionOutput = { index, text, tokenIds, finishReason: s.finishReason, stopReason: s.stopReason };
      if (logprobs) o.logprobs = logprobs;
      outputs.push(o);
    });
    if (outputs.length === 0) return null;
    return {
      requestId: parent.requestId, prompt: parent.prompt, promptTokenIds: parent.promptTokenIds,
      outputs, finished, metrics: { ...parent.metrics },
    };
  }
}
