import type { RequestOutput } from "../engine/request-output.ts";
import type { SamplingParams } from "../sampling/params.ts";
import { ApiError } from "./errors.ts";
import type { ServerContext } from "./context.ts";

/** One engine request as a handler sees it. */
export interface GenerationRequest {
  requestId: string;
  promptIds: number[];
  params: Partial<SamplingParams>;
  /** performance.now() when the HTTP request arrived. */
  arrivalMs: number;
}

/**
 * Refuse new work while shutting down (503) or when the waiting queue would pass --max-waiting
 * (429, with Retry-After): backpressure instead of an unbounded queue.
 */
export function admit(ctx: ServerContext, numSequences: number): void {
  if (ctx.shuttingDown) throw new ApiError(503, "The server is shutting down.", "server_error", null, "shutting_down");
  const limit = ctx.opts.maxWaiting;
  if (limit === undefined) return;
  const waiting = ctx.engine.stats().numWaiting;
  if (waiting + numSequences > limit) {
    throw new ApiError(429, `The server is overloaded: ${waiting} sequences are waiting and this request adds ${numSequences} (limit --max-waiting ${limit}). Retry later.`,
      "rate_limit_error", null, "server_overloaded", { "retry-after": "1" });
  }
}

/**
 * Add requests to the shared engine now (so bad input fails before any response starts; if one
 * fails, the ones already added are aborted) and return their delta-output streams. A request is
 * aborted, its KV blocks freed at once, when `signal` fires (client gone, shutdown) or when its
 * consumer stops iterating early; metrics follow it from arrival to end.
 */
export function startGenerations(ctx: ServerContext, gens: readonly GenerationRequest[], signal: AbortSignal): AsyncGenerator<RequestOutput>[] {
  const started: string[] = [];
  const streams: AsyncIterable<RequestOutput>[] = [];
  try {
    for (const g of gens) {
      streams.push(ctx.llm.addRequest(g.promptIds, g.params, { requestId: g.requestId, outputKind: "delta" }));
      started.push(g.requestId);
    }
  } catch (e) {
    for (const id of started) ctx.llm.abort(id);
    throw e;
  }
  // Also covers streams nobody iterates (the response never started): abort them all with the signal.
  signal.addEventListener("abort", () => started.forEach((id) => ctx.llm.abort(id)), { once: true });
  return gens.map((g, i) => follow(ctx, g, streams[i]!, signal));
}

async function* follow(ctx: ServerContext, g: GenerationRequest, stream: AsyncIterable<RequestOutput>, signal: AbortSignal): AsyncGenerator<RequestOutput> {
  const recorder = ctx.metrics.startRequest(g.arrivalMs, g.promptIds.length);
  const abort = () => ctx.llm.abort(g.requestId);
  const unregister = ctx.inflight.add(g.requestId, abort);
  signal.addEventListener("abort", abort);
  if (signal.aborted) abort();
  let finished = false;
  try {
    for await (const out of stream) {
      recorder.onOutput(out);
      finished = out.finished;
      yield out;
    }
  } finally {
    signal.removeEventListener("abort", abort);
    if (!finished) abort();
    recorder.finish(g.params.n ?? 1);
    unregister();
  }
}

/** Interleave several async iterables as their items arrive, tagging each item with its source index. */
export async function* merge<T>(sources: AsyncIterable<T>[]): AsyncGenerator<[number, T]> {
  const its = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => its[i]!.next().then((r) => ({ i, r }));
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  its.forEach((_, i) => pending.set(i, next(i)));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) pending.delete(i);
      else {
        pending.set(i, next(i));
        yield [i, r.value];
      }
    }
  } finally {
    // Sources still running are told to stop; not awaited (a pending next() must settle first).
    void Promise.allSettled(its.map((it) => it.return?.()));
  }
}
