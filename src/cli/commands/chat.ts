import { Command } from "commander";
import type { SamplingParams } from "../../sampling/params.ts";
import { resolveChatTemplate } from "../../server/chat-template.ts";
import type { ChatBackend } from "../../tui/backend.ts";
import { ChatSession } from "../../tui/chat-session.ts";
import { LocalChatBackend, stripUndefined } from "../../tui/local-backend.ts";
import { runPiped } from "../../tui/piped.ts";
import { RemoteChatBackend } from "../../tui/remote-backend.ts";
import { addEngineOptions, addModelSourceOptions, addSamplingOptions, resolveSpec, type CommonOpts } from "../common-options.ts";
import { openEngine } from "../open-engine.ts";
import { int } from "../parse-flags.ts";

interface ChatOpts extends CommonOpts {
  system?: string;
  url?: string;
  apiKey?: string;
  chatTemplate?: string;
  fps: number;
}

/** The sampling flags given on the command line (over the model's defaults, or the server's). */
function flagSampling(o: CommonOpts): Partial<SamplingParams> {
  return stripUndefined({
    temperature: o.temperature, topP: o.topP, topK: o.topK, minP: o.minP, repetitionPenalty: o.repetitionPenalty,
    presencePenalty: o.presencePenalty, frequencyPenalty: o.frequencyPenalty, seed: o.seed, maxTokens: o.maxTokens,
    stop: o.stop, ignoreEos: o.ignoreEos,
  });
}

async function openBackend(model: string | undefined, o: ChatOpts): Promise<{ backend: ChatBackend; extra: string[] }> {
  if (o.url) {
    const apiKey = o.apiKey ?? (process.env.OPENAI_API_KEY || process.env.LLM_API_KEY || undefined);
    return { backend: await RemoteChatBackend.connect(o.url, { apiKey, model }), extra: [] };
  }
  const spec = resolveSpec(model, o);
  const engine = await openEngine(spec, o);
  const template = resolveChatTemplate(engine.loaded.checkpoint.metadata, engine.tokenizer, o.chatTemplate);
  return { backend: new LocalChatBackend(engine, template, spec.id, spec.sampling), extra: [`chat template: ${template.origin}`] };
}

/** `llm chat [model]`: the ink TUI on a terminal, plain lines otherwise. */
async function chatAction(model: string | undefined, o: ChatOpts): Promise<void> {
  const { backend, extra } = await openBackend(model, o);
  const session = new ChatSession(backend, { system: o.system ?? null, params: flagSampling(o) });
  try {
    if (process.stdin.isTTY && process.stdout.isTTY) {
      // React's development build costs several ms a frame; load the TUI (and React) only now, in production mode.
      process.env.NODE_ENV ??= "production";
      // ink renders only the final frame when it believes it runs in CI ($CI set); a person at a
      // terminal wants the live UI, so say "not CI" before ink is first imported.
      process.env.CI = "0";
      const { bannerFor, runTui } = await import("../../tui/run-tui.ts");
      await runTui(session, { banner: bannerFor(session, extra), fps: o.fps });
    } else {
      const errors = await runPiped(session, { input: process.stdin, out: process.stdout, err: process.stderr });
      if (errors > 0) process.exitCode = 1;
    }
  } finally {
    await backend.close();
  }
  // stdin may still hold the event loop (after /exit, or the terminal in raw mode): leave now.
  process.exit(process.exitCode ?? 0);
}

export function chatCommand(): Command {
  const cmd = new Command("chat")
    .description("chat with a model: an interactive terminal UI (plain text lines when stdin or stdout is not a terminal)")
    .argument("[model]", "models.yaml id or a path to a .gguf / llama2.c .bin file (default: the registry's default); with --url, the served model name")
    .option("--system <text>", "system prompt (change it later with /system)")
    .option("--url <url>", "chat with an OpenAI-compatible server instead, e.g. http://127.0.0.1:8000/v1")
    .option("--api-key <key>", "API key for --url (default: $OPENAI_API_KEY, else $LLM_API_KEY)")
    .option("--chat-template <file>", "Jinja chat template file, or a name: chatml (default: the model's own, else chatml)")
    .option("--fps <n>", "most screen updates per second while a reply streams", int("--fps", 1), 30)
    .option("-v, --verbose", "model facts on stderr; stack traces on errors");
  addSamplingOptions(cmd);
  addEngineOptions(cmd);
  addModelSourceOptions(cmd);
  cmd.addHelpText("after", `
In the chat: /help lists the commands (/reset, /system TEXT, /temp N, /top_p, /top_k, /min_p,
/max_tokens, /seed, /repetition_penalty, /save FILE, /load FILE, /stats, /exit). Ctrl+C stops a
reply; Ctrl+C twice when idle quits; Esc clears the input; up/down recall earlier inputs.

Examples:
  llm chat                                   the default model (stories260k)
  llm chat stories260k --system "You tell short stories." --temperature 0.7
  llm chat --url http://127.0.0.1:8000/v1    a running llm serve or vLLM server
  printf 'hello\\n/temp 0\\nOnce upon a time\\n' | llm chat stories260k   one reply per line`);
  return cmd.action(chatAction);
}
