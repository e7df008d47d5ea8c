import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import type { EngineArgs } from "../../src/engine/engine-args.ts";
import { resolveChatTemplate } from "../../src/server/chat-template.ts";
import type { ServeOptions } from "../../src/server/context.ts";
import { startServer, type RunningServer } from "../../src/server/start-server.ts";
import { loadTestModel } from "../helpers/engine.ts";
import { REPO_ROOT, testModelsDir } from "../helpers/models-dir.ts";

/** The models.yaml sampling defaults of stories260k, as `llm serve` passes them. */
const STORIES_DEFAULTS = { temperature: 0.8, topP: 0.95, maxTokens: 256, stopTokenIds: [1] };

/** `llm serve`'s app in this process on a free loopback port (Bun.serve under bun, node-server under vitest). */
export async function inProcessServer(opts: Partial<ServeOptions> & { engine?: Partial<EngineArgs>; chatTemplate?: string } = {}): Promise<RunningServer> {
  const loaded = await loadTestModel("stories260k");
  const engine = new LLMEngine(loaded, opts.engine ?? {});
  const template = resolveChatTemplate(loaded.checkpoint.metadata, loaded.tokenizer, opts.chatTemplate);
  return startServer(engine, template, { modelName: "stories260k", defaults: STORIES_DEFAULTS, log: null, ...opts, host: "127.0.0.1", port: 0 });
}

export interface CliServer {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Spawn the real `llm serve --port 0 ...` and wait for its "listening on" line. */
export function spawnServer(args: string[], env: Record<string, string> = {}): Promise<CliServer> {
  const proc = spawn(process.execPath, [join(REPO_ROOT, "bin", "llm.js"), "serve", "--port", "0", ...args], {
    cwd: REPO_ROOT, env: { ...process.env, LLM_MODELS_DIR: testModelsDir(), ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((r) => proc.on("close", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`llm serve did not start in 30 s:\n${err}`)); }, 30_000);
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /llm serve: listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, proc, stderr: () => err, exited });
      }
    });
    proc.stdout!.resume();
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`llm serve exited (${code}) before listening:\n${err}`)); });
  });
}

/** Stop a spawned server (SIGTERM) and wait for it to exit. */
export async function stopServer(s: CliServer): Promise<number | null> {
  if (s.proc.exitCode === null) s.proc.kill("SIGTERM");
  return s.exited;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Read an SSE response to its end: the parsed `data:` events (without [DONE]) and whether [DONE] came. */
export async function readSse(res: Response, onEvent?: (e: any, i: number) => void): Promise<{ events: any[]; done: boolean }> {
  const dec = new TextDecoder();
  const reader = res.body!.getReader();
  let buf = "";
  const events: any[] = [];
  let done = false;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    buf += dec.decode(r.value, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const line = buf.slice(0, cut).replace(/^data: /, "");
      buf = buf.slice(cut + 2);
      if (line === "[DONE]") done = true;
      else {
        events.push(JSON.parse(line));
        onEvent?.(events.at(-1), events.length - 1);
      }
    }
  }
  return { events, done };
}

/** Text of a chat or completions stream, per choice index. */
export function streamText(events: any[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of events) for (const c of e.choices ?? []) out.set(c.index, (out.get(c.index) ?? "") + (c.text ?? c.delta?.content ?? ""));
  return out;
}
