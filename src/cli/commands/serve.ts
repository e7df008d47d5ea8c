import { Command } from "commander";
import { resolveChatTemplate } from "../../server/chat-template.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../../server/context.ts";
import { startServer } from "../../server/start-server.ts";
import { addEngineOptions, addModelSourceOptions, addSamplingOptions, resolveSpec, samplingFrom, type CommonOpts } from "../common-options.ts";
import { openEngine } from "../open-engine.ts";
import { bytes, int, num } from "../parse-flags.ts";

interface ServeOpts extends CommonOpts {
  host: string;
  port: number;
  apiKey?: string;
  servedModelName?: string;
  chatTemplate?: string;
  maxWaiting?: number;
  maxBodySize: number;
  shutdownTimeout: number;
  disableLogRequests?: boolean;
}

/** `llm serve [model]`: an OpenAI-compatible HTTP server over one shared engine. */
async function serveAction(model: string | undefined, o: ServeOpts): Promise<void> {
  const spec = resolveSpec(model, o);
  const engine = await openEngine(spec, o);
  const chatTemplate = resolveChatTemplate(engine.loaded.checkpoint.metadata, engine.tokenizer, o.chatTemplate);
  const apiKey = o.apiKey ?? (process.env.LLM_API_KEY || undefined);
  const server = await startServer(engine, chatTemplate, {
    host: o.host, port: o.port, modelName: o.servedModelName ?? spec.id, apiKey, maxWaiting: o.maxWaiting,
    maxBodyBytes: o.maxBodySize, defaults: samplingFrom(o, spec), log: o.disableLogRequests ? null : undefined,
  });
  process.stderr.write(
    `llm serve: model ${spec.id} as "${server.ctx.opts.modelName}", max_model_len ${engine.maxModelLen}, ` +
      `${engine.kvCacheManager.blockPool.numBlocks} KV blocks of ${engine.args.blockSize}, chat template: ${chatTemplate.origin}` +
      `${apiKey ? ", API key required" : ""}\n`,
  );
  process.stderr.write(`llm serve: listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string) => {
      if (++signals > 1) process.exit(1);
      process.stderr.write(`llm serve: ${sig}: shutting down (in-flight requests: ${server.ctx.inflight.size})\n`);
      server.shutdown(o.shutdownTimeout * 1000).then(resolve, (e) => {
        process.stderr.write(`llm serve: error during shutdown: ${(e as Error).message}\n`);
        resolve();
      });
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
  process.stderr.write("llm serve: stopped\n");
  process.exit(0);
}

export function serveCommand(): Command {
  const cmd = new Command("serve")
    .description("serve a model over an OpenAI-compatible HTTP API (completions, chat, models, tokenize, metrics)")
    .argument("[model]", "models.yaml id or a path to a .gguf / llama2.c .bin file (default: the registry's default)")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "port to bind (0 = pick a free one)", int("--port", 0), 8000)
    .option("--api-key <key>", "require 'Authorization: Bearer KEY' on /v1/* (default: $LLM_API_KEY)")
    .option("--served-model-name <name>", "the model name clients use (default: the models.yaml id)")
    .option("--chat-template <file>", "Jinja chat template file, or a name: chatml (default: the model's own, else chatml)")
    .option("--max-waiting <n>", "answer 429 when more than n sequences would wait (default: no limit)", int("--max-waiting", 0))
    .option("--max-body-size <size>", "largest request body, e.g. 1MiB (413 beyond)", bytes("--max-body-size"), DEFAULT_MAX_BODY_BYTES)
    .option("--shutdown-timeout <seconds>", "on SIGINT/SIGTERM, let in-flight requests run this long before aborting them", num("--shutdown-timeout"), 0)
    .option("--disable-log-requests", "no per-request log line on stderr")
    .option("-v, --verbose", "model facts on stderr; stack traces on errors");
  addSamplingOptions(cmd);
  addEngineOptions(cmd);
  addModelSourceOptions(cmd);
  cmd.addHelpText("after", `
Sampling flags set the server's defaults (under each request's own values, over models.yaml's).

Endpoints: POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /health,
GET /metrics (Prometheus), POST /tokenize, POST /detokenize.

Examples:
  llm serve                                   the default model on http://127.0.0.1:8000
  llm serve stories260k --port 0              pick a free port (printed on stderr)
  llm serve ./model.gguf --api-key secret --max-waiting 64
  curl -s localhost:8000/v1/completions -H 'content-type: application/json' \\
    -d '{"prompt": "Once upon a time", "max_tokens": 32, "temperature": 0}'`);
  return cmd.action(serveAction);
}
