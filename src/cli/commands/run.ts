import { Command } from "commander";
import { looksLikePath } from "../../config/model-spec.ts";
import { AsyncLLM } from "../../engine/async-llm.ts";
import type { RequestOutput } from "../../engine/request-output.ts";
import { encodeChatPrompt, resolveChatTemplate } from "../../server/chat-template.ts";
import type { ChatMessage } from "../../server/chat-messages.ts";
import { addEngineOptions, addModelSourceOptions, addSamplingOptions, loadRegistry, resolveSpec, samplingFrom, type CommonOpts } from "../common-options.ts";
import { openEngine } from "../open-engine.ts";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

interface RunOpts extends CommonOpts {
  echo: boolean;
  chat?: boolean;
  system?: string;
  chatTemplate?: string;
}

/** `llm run [model] [prompt]`: one prompt, streamed to stdout. One positional is a model when it names one, else the prompt. */
async function runAction(a: string | undefined, b: string | undefined, o: RunOpts): Promise<void> {
  let model = a;
  let prompt = b;
  if (b === undefined && a !== undefined) {
    const { registry } = loadRegistry(o);
    const isModel = registry.models.some((m) => m.id === a) || looksLikePath(a);
    if (!isModel) { model = undefined; prompt = a; }
  }
  if (prompt === undefined) prompt = process.stdin.isTTY ? "" : await readStdin();
  const spec = resolveSpec(model, o);
  const engine = await openEngine(spec, o);
  const llm = new AsyncLLM(engine);
  const t0 = performance.now();
  // --chat: the prompt becomes one user turn (after --system) rendered by the model's chat template.
  let input: string | number[] = prompt;
  if (o.chat || o.system !== undefined || o.chatTemplate !== undefined) {
    const template = resolveChatTemplate(engine.loaded.checkpoint.metadata, engine.tokenizer, o.chatTemplate);
    const messages: ChatMessage[] = [];
    if (o.system !== undefined) messages.push({ role: "system", content: o.system });
    messages.push({ role: "user", content: prompt });
    input = encodeChatPrompt(engine.tokenizer, template.render(messages, true));
    if (o.verbose) process.stderr.write(`chat template: ${template.origin}\n`);
  }
  const stream = llm.addRequest(input, samplingFrom(o, spec), { outputKind: "delta" });
  const onSigint = () => llm.abort(stream.requestId);
  process.once("SIGINT", onSigint);
  if (!o.json && o.echo && typeof input === "string") process.stdout.write(prompt);
  let text = "";
  const tokenIds: number[] = [];
  let last: RequestOutput | null = null;
  for await (const out of stream) {
    const c = out.outputs[0];
    if (c) {
      text += c.text;
      tokenIds.push(...c.tokenIds);
      if (!o.json && c.text) process.stdout.write(c.text);
    }
    last = out;
  }
  process.removeListener("SIGINT", onSigint);
  const t1 = performance.now();
  const m = last!.metrics;
  const firstTok = m.firstTokenTime !== null ? m.firstTokenTime * 1000 : null;
  const arrival = m.arrivalTime * 1000;
  const ttftMs = firstTok !== null ? Math.max(0, firstTok - arrival) : null;
  const genMs = firstTok !== null && m.lastTokenTime !== null ? Math.max(0, m.lastTokenTime * 1000 - firstTok) : 0;
  const timings = {
    load_ms: round(engine.loaded.loadMs),
    prompt_tokens: m.numPromptTokens,
    cached_prompt_tokens: m.numCachedTokens,
    ttft_ms: ttftMs === null ? null : round(ttftMs),
    prompt_tok_per_s: ttftMs ? round((m.numPromptTokens / ttftMs) * 1000) : null,
    generated_tokens: tokenIds.length,
    gen_tok_per_s: genMs > 0 ? round(((tokenIds.length - 1) / genMs) * 1000) : null,
    total_ms: round(t1 - t0),
  };
  const finish = last!.outputs[0]?.finishReason ?? "abort";
  if (o.json) {
    process.stdout.write(JSON.stringify({
      model: spec.id, text, prompt_token_ids: last!.promptTokenIds, generated_token_ids: tokenIds,
      finish_reason: finish, stop_reason: last!.outputs[0]?.stopReason ?? null, timings,
    }) + "\n");
  } else {
    process.stdout.write("\n");
  }
  if (o.verbose) process.stderr.write(`timings: ${JSON.stringify(timings)} finish_reason=${finish}\n`);
  if (finish === "abort") process.exitCode = 130;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function runCommand(): Command {
  const cmd = new Command("run")
    .description("generate text from a prompt, streamed to stdout")
    .argument("[model]", "models.yaml id or a path to a .gguf / llama2.c .bin file / Hugging Face folder (default: the registry's default)")
    .argument("[prompt]", "the prompt (default: read from stdin when it is not a terminal)")
    .option("--json", "print one JSON object (text, token ids, finish reason, timings) instead of streaming")
    .option("--no-echo", "do not print the prompt before the generated text")
    .option("--chat", "wrap the prompt as one user message in the model's chat template (no echo)")
    .option("--system <text>", "with --chat: a system message before the prompt (implies --chat)")
    .option("--chat-template <file|name>", "with --chat: a Jinja template file, or chatml (default: the model's own; implies --chat)")
    .option("-v, --verbose", "timings and model facts on stderr; stack traces on errors");
  addSamplingOptions(cmd);
  addEngineOptions(cmd);
  addModelSourceOptions(cmd);
  cmd.addHelpText("after", `
Examples:
  llm run "Once upon a time"                          default model, default sampling
  llm run stories260k "Once upon a time" --temperature 0 -n 64
  llm run stories260k-llama2c "Lily and Tom" --seed 42 --top-p 0.9
  llm run ./model.gguf "Hello" --json
  llm run ./SmolLM2-135M-Instruct "What is a llama?" --chat --system "Answer briefly."
  echo "The cat" | llm run stories260k --stop "." --max-tokens 100`);
  return cmd.action(runAction);
}
