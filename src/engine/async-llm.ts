import type { SamplingParams } from "../sampling/params.ts";
import { LlmError } from "../util/errors.ts";
import type { AddRequestOptions, LLMEngine } from "./llm-engine.ts";
import type { RequestOutput } from "./request-output.ts";

/** A queue of outputs for one request, consumed as an AsyncIterable. */
class OutputStream implements AsyncIterable<RequestOutput> {
  private readonly items: RequestOutput[] = [];
  private waiter: (() => void) | null = null;
  private error: Error | null = null;
  done = false;

  push(o: RequestOutput): void {
    this.items.push(o);
    if (o.finished) this.done = true;
    this.wake();
  }
  fail(e: Error): void {
    this.error = e;
    this.done = true;
    this.wake();
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<RequestOutput> {
    for (;;) {
      const item = this.items.shift();
      if (item) {
        yield item;
        if (item.finished) return;
        continue;
      }
      if (this.error) throw this.error;
      if (this.done) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

/** Give the event loop a turn (timers, sockets) between engine steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/**
 * The asynchronous engine (vLLM's AsyncLLM): addRequest returns an AsyncIterable of outputs; one
 * background loop steps the engine while any request is unfinished, yielding to the event loop
 * after every step so a server on the same thread stays responsive. A step's length is bounded by
 * max_num_batched_tokens.
 */
export class AsyncLLM {
  private readonly streams = new Map<string, OutputStream>();
  private loop: Promise<void> | null = null;
  private nextId = 0;
  private closed = false;

  constructor(readonly engine: LLMEngine) {}

  /** Add a request; the iterable yields its outputs (per outputKind) and ends after the finished one. */
  addRequest(prompt: string | number[], params: Partial<SamplingParams> = {}, opts: AddRequestOptions & { requestId?: string } = {}): AsyncIterable<RequestOutput> & { requestId: string } {
    if (this.closed) throw new LlmError("engine is shut down");
    const requestId = opts.requestId ?? `req-${this.nextId++}`;
    this.engine.addRequest(requestId, prompt, params, opts);
    const stream = new OutputStream();
    this.streams.set(requestId, stream);
    this.ensureLoop();
    return Object.assign(stream, { requestId });
  }

  /** Abort a request at any moment: its blocks are freed now and its stream ends with finish reason "abort". */
  abort(requestId: string): void {
    for (const o of this.engine.abortRequest([requestId])) this.deliver(o);
    const s = this.streams.get(requestId);
    if (s && !s.done) s.done = true;
    this.streams.delete(requestId);
  }

  private deliver(o: RequestOutput): void {
    const s = this.streams.get(o.requestId);
    if (!s) return;
    s.push(o);
    if (o.finished) this.streams.delete(o.requestId);
  }

  private ensureLoop(): void {
    if (this.loop) return;
    this.loop = (async () => {
      try {
        while (this.engine.hasUnfinishedRequests() && !this.closed) {
          for (const o of await this.engine.step()) this.deliver(o);
          await yieldToEventLoop();
        }
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const ids = [...this.streams.keys()];
        for (const s of this.streams.values()) s.fail(err);
        this.streams.clear();
        this.engine.abortRequest(ids);
      } finally {
        this.loop = null;
      }
      if (this.engine.hasUnfinishedRequests() && !this.closed) this.ensureLoop();
    })();
  }

  /** Stop stepping; unfinished requests are aborted. */
  async shutdown(): Promise<void> {
    for (const id of [...this.streams.keys()]) this.abort(id);
    this.closed = true;
    await this.loop;
  }
}
