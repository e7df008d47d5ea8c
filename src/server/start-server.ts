import { AsyncLLM } from "../engine/async-llm.ts";
import type { LLMEngine } from "../engine/llm-engine.ts";
import { createApp } from "./app.ts";
import type { ChatTemplate } from "./chat-template.ts";
import { ServerContext, type ServeOptions } from "./context.ts";
import { listen } from "./listen.ts";

/** After in-flight requests have ended, how long connections get to close on their own. */
const CLOSE_FORCE_MS = 500;

export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  /**
   * Graceful shutdown: refuse new requests (503), stop accepting connections, give in-flight
   * requests `graceMs` to finish, then abort the rest (their streams end with finish_reason
   * "abort" and `data: [DONE]`), wait for connections to close, and stop the engine loop.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Serve one engine (shared by every client: continuous batching batches them together). */
export async function startServer(engine: LLMEngine, chatTemplate: ChatTemplate, opts: ServeOptions & { host?: string; port?: number }): Promise<RunningServer> {
  const llm = new AsyncLLM(engine);
  const ctx = new ServerContext(llm, chatTemplate, opts);
  const app = createApp(ctx);
  const listener = await listen((req) => app.fetch(req), opts.host ?? "127.0.0.1", opts.port ?? 0);
  let stopping: Promise<void> | null = null;
  return {
    url: listener.url, port: listener.port, ctx,
    shutdown(graceMs = 0) {
      stopping ??= (async () => {
        ctx.shuttingDown = true;
        listener.stopAccepting();
        await ctx.inflight.drain(graceMs);
        // Every response has ended: connections still open are idle or their clients are slow to
        // hang up; give them a moment to flush, then cut them.
        await listener.close(CLOSE_FORCE_MS);
        await llm.shutdown();
      })();
      return stopping;
    },
  };
}
