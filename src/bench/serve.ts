import { Prng } from "../sampling/prng.ts";
import { dlog } from "../util/det-math.ts";
import { LlmError, UsageError } from "../util/errors.ts";
import { randomPrompts } from "./common.ts";
import { timeStreamingRequest, type StreamTiming } from "./serve-client.ts";
import { round, summarize, type Summary } from "./stats.ts";

export interface ServeBenchOptions {
  /** Server root, e.g. http://127.0.0.1:8000 (the /v1 paths are added). */
  baseUrl: string;
  /** Default: the server's first model. */
  model?: string;
  numPrompts: number;
  /** Requests per second, Poisson arrivals; Infinity sends all at once. */
  requestRate: number;
  inputLen: number;
  outputLen: number;
  seed: number;
  /** "ids": prompts as token-id lists; "text": the same ids detokenized by the server. */
  promptFormat: "ids" | "text";
  maxConcurrency?: number;
  temperature?: number;
  apiKey?: string;
}

export interface ServeBenchResult {
  base_url: string; model: string; endpoint: string; prompt_format: string;
  num_prompts: number; request_rate: number | "inf"; max_concurrency: number | null; input_len: number; output_len: number;
  completed: number; failed: number; duration_s: number;
  requests_per_s: number; output_tok_per_s: number; total_tok_per_s: number;
  total_input_tokens: number; total_output_tokens: number;
  ttft_ms: Summary; itl_ms: Summary; tpot_ms: Summary; e2e_ms: Summary;
  errors: string[];
}

/** Seconds between arrivals: exponential with mean 1/rate (a Poisson process), seeded; all 0 for an infinite rate. */
export function poissonGaps(n: number, rate: number, seed: number): number[] {
  if (rate === Infinity) return new Array(n).fill(0);
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => -dlog(1 - rng.nextFloat()) / rate);
}

async function getJson(url: string, headers: Record<string, string>, body?: object): Promise<Record<string, unknown>> {
  const res = await fetch(url, body ? { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) } : { headers });
  if (!res.ok) throw new LlmError(`${url}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * vLLM's serving benchmark against a running `llm serve` (or any OpenAI-compatible server that takes
 * token-id prompts): random prompts of `inputLen` tokens, each asking for exactly `outputLen` tokens
 * (ignore_eos), streamed from /v1/completions, arriving as a seeded Poisson process.
 */
export async function runServeBench(o: ServeBenchOptions): Promise<ServeBenchResult> {
  if (!(o.requestRate > 0)) throw new UsageError(`invalid request rate ${o.requestRate}; accepted: a number > 0 or inf`);
  const base = o.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
  const headers: Record<string, string> = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {};
  const models = (await getJson(`${base}/v1/models`, headers)).data as { id: string; vocab_size?: number; max_model_len?: number }[];
  const info = o.model ? models.find((m) => m.id === o.model) ?? { id: o.model } : models[0];
  if (!info) throw new LlmError(`${base}/v1/models lists no model`);
  if (info.max_model_len !== undefined && o.inputLen + o.outputLen > info.max_model_len) {
    throw new UsageError(`input length ${o.inputLen} + output length ${o.outputLen} exceeds the server's max_model_len ${info.max_model_len}`);
  }
  const bos = ((await getJson(`${base}/tokenize`, headers, { model: info.id, prompt: "" })).tokens as number[]) ?? [];
  const ids = randomPrompts({ numPrompts: o.numPrompts, inputLen: o.inputLen, vocabSize: info.vocab_size ?? 256, seed: o.seed, exclude: bos });
  const prompts: (string | number[])[] = o.promptFormat === "text"
    ? await Promise.all(ids.map(async (p) => (await getJson(`${base}/detokenize`, headers, { model: info.id, tokens: p })).prompt as string))
    : ids;
  const gaps = poissonGaps(o.numPrompts, o.requestRate, o.seed + 1);
  const limit = o.maxConcurrency ?? Infinity;
  let active = 0;
  const wakeups: (() => void)[] = [];
  const url = `${base}/v1/completions`;
  const t0 = performance.now();
  const runs: Promise<StreamTiming>[] = [];
  for (let i = 0; i < o.numPrompts; i++) {
    if (gaps[i]! > 0) await new Promise((r) => setTimeout(r, gaps[i]! * 1000));
    while (active >= limit) await new Promise<void>((r) => wakeups.push(r));
    active++;
    const body = { model: info.id, prompt: prompts[i], max_tokens: o.outputLen, ignore_eos: true, temperature: o.temperature ?? 0, seed: o.seed + i };
    runs.push(timeStreamingRequest(url, body, headers).finally(() => {
      active--;
      wakeups.shift()?.();
    }));
  }
  const results = await Promise.all(runs);
  const duration = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.ok);
  const inTok = ok.reduce((s, r) => s + r.promptTokens, 0);
  const outTok = ok.reduce((s, r) => s + r.outputTokens, 0);
  const tpot = ok.filter((r) => r.outputTokens > 1 && r.ttftMs !== null).map((r) => (r.e2eMs - r.ttftMs!) / (r.outputTokens - 1));
  return {
    base_url: base, model: info.id, endpoint: "/v1/completions", prompt_format: o.promptFormat,
    num_prompts: o.numPrompts, request_rate: o.requestRate === Infinity ? "inf" : o.requestRate, max_concurrency: o.maxConcurrency ?? null,
    input_len: o.inputLen, output_len: o.outputLen,
    completed: ok.length, failed: results.length - ok.length, duration_s: round(duration),
    requests_per_s: round(ok.length / duration), output_tok_per_s: round(outTok / duration, 1), total_tok_per_s: round((inTok + outTok) / duration, 1),
    total_input_tokens: inTok, total_output_tokens: outTok,
    ttft_ms: summarize(ok.map((r) => r.ttftMs ?? 0)), itl_ms: summarize(ok.flatMap((r) => r.itlsMs)),
    tpot_ms: summarize(tpot), e2e_ms: summarize(ok.map((r) => r.e2eMs)),
    errors: [...new Set(results.filter((r) => !r.ok).map((r) => r.error ?? "unknown error"))].slice(0, 5),
  };
}
