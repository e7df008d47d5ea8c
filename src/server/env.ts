import type { Context } from "hono";

/** What a handler reports for the request's log line. */
export interface RequestLog {
  arrivalMs: number;
  promptTokens?: number;
  completionTokens?: number;
  finishReasons?: string[];
  stream?: boolean;
  /** Streaming responses: settles when the stream has ended (the line is written then). */
  done?: Promise<void>;
}

/** Hono environment of the server app: the per-request log record. */
export interface ServerEnv {
  Variables: { log: RequestLog };
}

export type ServerCtx = Context<ServerEnv>;

/** A deferred promise for RequestLog.done. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** An AbortController that also fires when the HTTP request's own signal does (the client went away). */
export function linkedAbort(req: Request): AbortController {
  const ac = new AbortController();
  const s = req.signal;
  if (s.aborted) ac.abort();
  else s.addEventListener("abort", () => ac.abort(), { once: true });
  return ac;
}
