import type { SamplingParams } from "../sampling/params.ts";
import { LlmError } from "../util/errors.ts";
import { ContextOverflowError, type BackendStats, type ChatBackend, type ChatMessage, type ReplyEvent, type ReplyStream } from "./backend.ts";
import { stripUndefined } from "./local-backend.ts";
import { scrapeStats } from "./prometheus-text.ts";
import { readSseData } from "./sse-reader.ts";

/** SamplingParams name → the OpenAI/vLLM request field. */
const FIELDS: ReadonlyArray<readonly [keyof SamplingParams, string]> = [
  ["temperature", "temperature"], ["topP", "top_p"], ["topK", "top_k"], ["minP", "min_p"], ["maxTokens", "max_tokens"],
  ["seed", "seed"], ["repetitionPenalty", "repetition_penalty"], ["presencePenalty", "presence_penalty"],
  ["frequencyPenalty", "frequency_penalty"], ["stop", "stop"], ["ignoreEos", "ignore_eos"],
];

export interface RemoteOptions {
  apiKey?: string;
  /** Model name to request (default: the first one /v1/models lists). */
  model?: string;
}

/** "http://h:p" or "http://h:p/v1/" → "http://h:p/v1". */
export function apiBase(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, "");
  return `${u.origin}${path === "" ? "/v1" : path}`;
}

/**
 * The chat backend over an OpenAI-compatible server: streaming POST /chat/completions read as
 * SSE, abort through fetch's AbortSignal; KV cache and prefix-cache figures from the server's
 * /metrics (llm serve or vLLM) when it answers, else null ("n/a"). Only parameters the user set
 * are sent, so the server's defaults apply to the rest.
 */
export class RemoteChatBackend implements ChatBackend {
  private lastScrape = 0;
  private scraped: BackendStats | null = null;
  private metricsOk: boolean | null = null;

  private constructor(readonly where: string, readonly model: string, readonly maxContext: number | null, private readonly apiKey: string | undefined) {}

  /** Ask GET /models for the model name and context length; fails with one line when the server cannot be reached. */
  static async connect(url: string, opts: RemoteOptions = {}): Promise<RemoteChatBackend> {
    const base = apiBase(url);
    let res: Response;
    try {
      res = await fetch(`${base}/models`, { headers: authHeaders(opts.apiKey) });
    } catch (e) {
      throw new LlmError(`cannot reach ${base}/models: ${(e as Error).message}`);
    }
    if (!res.ok) throw new LlmError(`${base}/models answered ${res.status}: ${await errorMessage(res)}`);
    const list = (await res.json()) as { data?: Array<{ id?: string; max_model_len?: number }> };
    const entry = opts.model !== undefined ? list.data?.find((m) => m.id === opts.model) : list.data?.[0];
    const model = opts.model ?? entry?.id;
    if (!model) throw new LlmError(`${base}/models lists no model; name one: llm chat MODEL --url ${url}`);
    return new RemoteChatBackend(base, model, typeof entry?.max_model_len === "number" ? entry.max_model_len : null, opts.apiKey);
  }

  effectiveParams(overrides: Partial<SamplingParams>): Partial<SamplingParams> {
    return stripUndefined(overrides);
  }

  reply(messages: readonly ChatMessage[], params: Partial<SamplingParams>): ReplyStream {
    const body: Record<string, unknown> = { model: this.model, messages, stream: true, stream_options: { include_usage: true } };
    for (const [k, field] of FIELDS) if (params[k] !== undefined && params[k] !== null) body[field] = params[k];
    const ac = new AbortController();
    const url = `${this.where}/chat/completions`;
    const headers = { "content-type": "application/json", ...authHeaders(this.apiKey) };
    async function* events(): AsyncGenerator<ReplyEvent> {
      let finish: string | null = null;
      let promptTokens: number | null = null;
      let completion = 0;
      let usageCompletion: number | null = null;
      try {
        const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: ac.signal });
        if (!res.ok) {
          const msg = await errorMessage(res);
          if (res.status === 400 && /context length|context_length/i.test(msg)) throw new ContextOverflowError(msg);
          throw new LlmError(`${url} answered ${res.status}: ${msg}`);
        }
        for await (const data of readSseData(res.body!)) {
          if (data === "[DONE]") break;
          const ev = JSON.parse(data) as ChunkJson;
          if (ev.error) throw new LlmError(`the server failed mid-reply: ${ev.error.message ?? JSON.stringify(ev.error)}`);
          if (ev.usage) {
            promptTokens = ev.usage.prompt_tokens ?? null;
            usageCompletion = ev.usage.completion_tokens ?? null;
          }
          const choice = ev.choices?.[0];
          if (!choice) continue;
          const text = choice.delta?.content ?? "";
          if (text !== "") {
            completion++;
            yield { type: "delta", text, tokens: 1 };
          }
          if (choice.finish_reason) finish = choice.finish_reason;
        }
      } catch (e) {
        if (!ac.signal.aborted) throw e;
      }
      yield {
        type: "end", finishReason: ac.signal.aborted ? "abort" : finish ?? "abort", promptTokens,
        completionTokens: usageCompletion ?? completion, cachedTokens: null,
      };
    }
    const it = events();
    return { promptTokens: null, abort: () => ac.abort(), [Symbol.asyncIterator]: () => it };
  }

  /** Scrapes /metrics at most once a second unless `fresh`; after a failure, every 10 s. */
  async stats(fresh = false): Promise<BackendStats> {
    const now = Date.now();
    const wait = this.metricsOk === false ? 10_000 : fresh ? 0 : 1000;
    if (this.scraped && now - this.lastScrape < wait) return this.scraped;
    this.lastScrape = now;
    const metricsUrl = `${this.where.replace(/\/v1$/, "")}/metrics`;
    const extra = { server: this.where, metrics: metricsUrl };
    try {
      const res = await fetch(metricsUrl, { headers: authHeaders(this.apiKey), signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`status ${res.status}`);
      this.metricsOk = true;
      this.scraped = { ...scrapeStats(await res.text()), extra };
    } catch (e) {
      this.metricsOk = false;
      this.scraped = { kvCacheUsage: null, prefixCacheHitRate: null, numRunning: null, numWaiting: null, extra: { ...extra, metrics: `${metricsUrl} unreachable (${(e as Error).message})` } };
    }
    return this.scraped;
  }

  async close(): Promise<void> {}
}

interface ChunkJson {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

function authHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const j = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const m = typeof j.error === "string" ? j.error : j.error?.message ?? j.message;
    if (m) return m;
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || res.statusText;
}
