import type { EngineStats } from "../engine/llm-engine.ts";
import type { RequestOutput } from "../engine/request-output.ts";
import { Histogram, renderMetric, type Labels } from "./prometheus.ts";

/** Bucket bounds in seconds, vLLM's with finer low ends for small CPU models. */
const TTFT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640];
const ITL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920];

/**
 * The server's Prometheus metrics, named as vLLM's with an `llm:` prefix: finished sequences by
 * finish reason, token counters, TTFT / inter-token / end-to-end latency histograms, and engine
 * gauges read at scrape time. One instance per server (no module-global registry).
 */
export class ServerMetrics {
  private readonly finished = new Map<string, number>();
  private readonly httpResponses = new Map<string, number>();
  private promptTokens = 0;
  private generationTokens = 0;
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly itl = new Histogram(ITL_BUCKETS);
  readonly e2e = new Histogram(E2E_BUCKETS);

  constructor(readonly modelName: string) {}

  /** Follow one engine request from arrival (performance.now() ms) to its end. */
  startRequest(arrivalMs: number, numPromptTokens: number): RequestRecorder {
    this.promptTokens += numPromptTokens;
    return new RequestRecorder(this, arrivalMs);
  }

  /** @internal, for RequestRecorder */
  addGenerated(n: number): void {
    this.generationTokens += n;
  }

  /** @internal, for RequestRecorder */
  addFinished(reason: string): void {
    this.finished.set(reason, (this.finished.get(reason) ?? 0) + 1);
  }

  countResponse(status: number): void {
    const k = String(status);
    this.httpResponses.set(k, (this.httpResponses.get(k) ?? 0) + 1);
  }

  render(s: EngineStats): string {
    const m: Labels = { model_name: this.modelName };
    const reasons = new Set(["stop", "length", "abort", ...this.finished.keys()]);
    return [
      renderMetric("llm:num_requests_running", "gauge", "Sequences in the running batch.", [[m, s.numRunning]]),
      renderMetric("llm:num_requests_waiting", "gauge", "Sequences waiting to be scheduled.", [[m, s.numWaiting]]),
      renderMetric("llm:kv_cache_usage_perc", "gauge", "Fraction of KV cache blocks in use (0 to 1).", [[m, s.kvCacheUsage]]),
      renderMetric("llm:num_kv_cache_blocks", "gauge", "KV cache blocks in the pool.", [[m, s.numBlocks]]),
      renderMetric("llm:prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.", [[m, s.prefixCacheQueries]]),
      renderMetric("llm:prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.", [[m, s.prefixCacheHits]]),
      renderMetric("llm:prefix_cache_hit_rate", "gauge", "Prefix cache hits over queries (0 to 1).", [[m, s.prefixCacheHitRate]]),
      renderMetric("llm:num_preemptions_total", "counter", "Preemptions by recompute.", [[m, s.numPreemptions]]),
      renderMetric("llm:prompt_tokens_total", "counter", "Prompt tokens received.", [[m, this.promptTokens]]),
      renderMetric("llm:generation_tokens_total", "counter", "Tokens generated.", [[m, this.generationTokens]]),
      renderMetric("llm:request_success_total", "counter", "Finished sequences by finish reason (a request with n samples counts n).",
        [...reasons].map((r) => [{ ...m, finished_reason: r }, this.finished.get(r) ?? 0] as const)),
      renderMetric("llm:http_responses_total", "counter", "HTTP responses by status code.",
        [...this.httpResponses].map(([code, v]) => [{ code }, v] as const)),
      this.ttft.render("llm:time_to_first_token_seconds", "Time from arrival to the first generated token.", m),
      this.itl.render("llm:inter_token_latency_seconds", "Time between a request's consecutive outputs.", m),
      this.e2e.render("llm:e2e_request_latency_seconds", "Time from arrival to the end of the request.", m),
    ].join("");
  }
}

/** Per-request timing: TTFT at the first token, one inter-token latency per later output, E2E and finish reasons at the end. */
export class RequestRecorder {
  private lastMs: number | null = null;
  private readonly reasons = new Map<number, string>();
  private done = false;

  constructor(private readonly metrics: ServerMetrics, private readonly arrivalMs: number) {}

  onOutput(out: RequestOutput, nowMs = performance.now()): void {
    let tokens = 0;
    for (const o of out.outputs) {
      tokens += o.tokenIds.length;
      if (o.finishReason !== null) this.reasons.set(o.index, o.finishReason);
    }
    if (tokens > 0) {
      if (this.lastMs === null) this.metrics.ttft.observe((nowMs - this.arrivalMs) / 1000);
      else this.metrics.itl.observe((nowMs - this.lastMs) / 1000);
      this.lastMs = nowMs;
      this.metrics.addGenerated(tokens);
    }
  }

  /** End of the request: every sample without a finish reason counts as aborted. */
  finish(numSamples: number, nowMs = performance.now()): void {
    if (this.done) return;
    this.done = true;
    for (let i = 0; i < numSamples; i++) this.metrics.addFinished(this.reasons.get(i) ?? "abort");
    this.metrics.e2e.observe((nowMs - this.arrivalMs) / 1000);
  }
}
