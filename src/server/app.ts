import { Hono, type MiddlewareHandler } from "hono";
import { bearerAuth } from "./auth.ts";
import { chatCompletionsHandler } from "./chat-completions.ts";
import { completionsHandler } from "./completions.ts";
import type { ServerContext } from "./context.ts";
import type { ServerCtx, ServerEnv } from "./env.ts";
import { ApiError, errorResponse, toApiError } from "./errors.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";
import { detokenizeHandler, tokenizeHandler } from "./tokenize.ts";

type Handler = (c: ServerCtx, ctx: ServerContext) => Response | Promise<Response>;

const health: Handler = (c, ctx) => (ctx.shuttingDown ? c.body(null, 503) : c.body(null, 200));

const metrics: Handler = (c, ctx) =>
  c.body(ctx.metrics.render(ctx.engine.stats()), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });

const models: Handler = (c, ctx) =>
  c.json({
    object: "list",
    data: [{
      id: ctx.opts.modelName, object: "model", created: Math.floor(Date.now() / 1000), owned_by: "llm",
      root: ctx.engine.loaded.spec.path, max_model_len: ctx.maxModelLen, vocab_size: ctx.vocabSize,
    }],
  });

/** Every route: method, path, handler. Known paths with another method answer 405. */
const ROUTES: ReadonlyArray<readonly ["GET" | "POST", string, Handler]> = [
  ["GET", "/health", health],
  ["GET", "/metrics", metrics],
  ["GET", "/v1/models", models],
  ["POST", "/v1/completions", completionsHandler],
  ["POST", "/v1/chat/completions", chatCompletionsHandler],
  ["POST", "/tokenize", tokenizeHandler],
  ["POST", "/detokenize", detokenizeHandler],
];

/** One stderr line per request, written when the response (or its stream) has ended; counts statuses. */
function requestLog(ctx: ServerContext): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const info = { arrivalMs: performance.now() };
    c.set("log", info);
    await next();
    const status = c.res.status;
    ctx.metrics.countResponse(status);
    const sink = ctx.opts.log === undefined ? (l: string) => process.stderr.write(l + "\n") : ctx.opts.log;
    if (!sink) return;
    const write = () => {
      const l = c.get("log");
      const parts = [`llm serve: ${c.req.method} ${c.req.path} ${status} ${(performance.now() - l.arrivalMs).toFixed(1)}ms`];
      if (l.stream !== undefined) parts.push(l.stream ? "stream" : "non-stream");
      if (l.promptTokens !== undefined) parts.push(`prompt_tokens=${l.promptTokens}`);
      if (l.completionTokens !== undefined) parts.push(`completion_tokens=${l.completionTokens}`);
      if (l.finishReasons?.length) parts.push(`finish=${l.finishReasons.join(",")}`);
      sink(parts.join(" "));
    };
    const done = c.get("log").done;
    if (done) void done.then(write);
    else write();
  };
}

/** The OpenAI-compatible app over one shared engine (web-standard Request → Response). */
export function createApp(ctx: ServerContext): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  app.use("*", requestLog(ctx));
  if (ctx.opts.apiKey) app.use("/v1/*", bearerAuth(ctx.opts.apiKey));
  for (const [method, path, handler] of ROUTES) {
    const h = (c: ServerCtx) => handler(c, ctx);
    if (method === "GET") app.get(path, h);
    else app.post(path, h);
  }
  app.notFound((c) => {
    const allowed = ROUTES.filter(([, p]) => p === c.req.path).map(([m]) => m);
    if (allowed.length > 0) {
      return errorResponse(new ApiError(405, `Method ${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(", ")}.`,
        "invalid_request_error", null, "method_not_allowed", { allow: allowed.join(", ") }));
    }
    return errorResponse(new ApiError(404, `Unknown request URL: ${c.req.method} ${c.req.path}. Routes: ${ROUTES.map(([m, p]) => `${m} ${p}`).join(", ")}.`,
      "invalid_request_error", null, "unknown_url"));
  });
  app.onError((e) => errorResponse(toApiError(e)));
  return app;
}
