import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Histogram, renderMetric } from "../../src/server/prometheus.ts";
import type { RunningServer } from "../../src/server/start-server.ts";
import { inProcessServer, postJson, readSse } from "./helpers.ts";
import { parsePrometheus, scrape, type Scrape } from "./prometheus-parse.ts";

let server: RunningServer;
beforeAll(async () => {
  server = await inProcessServer();
});
afterAll(async () => {
  await server.shutdown();
});

const HISTOGRAMS = ["llm:time_to_first_token_seconds", "llm:inter_token_latency_seconds", "llm:e2e_request_latency_seconds"];

/** Buckets are cumulative (non-decreasing in le), +Inf equals _count. */
function checkHistogram(s: Scrape, name: string): void {
  const buckets = s.samples.filter((x) => x.name === `${name}_bucket`);
  expect(buckets.length).toBeGreaterThan(5);
  const les = buckets.map((b) => (b.labels.le === "+Inf" ? Infinity : Number(b.labels.le)));
  expect([...les].sort((a, b) => a - b)).toEqual(les);
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
  expect(buckets.at(-1)!.labels.le).toBe("+Inf");
  expect(buckets.at(-1)!.value).toBe(s.get(`${name}_count`));
}

describe("/metrics", () => {
  it("is Prometheus text with TYPE lines, and the counters move as requests run", async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const before = parsePrometheus(await res.text());
    expect(before.types.get("llm:prompt_tokens_total")).toBe("counter");
    expect(before.types.get("llm:num_requests_running")).toBe("gauge");
    expect(before.types.get("llm:kv_cache_usage_perc")).toBe("gauge");
    for (const h of HISTOGRAMS) {
      expect(before.types.get(h)).toBe("histogram");
      checkHistogram(before, h);
    }
    const r = await postJson(`${server.url}/v1/completions`, { prompt: "Once upon a time", max_tokens: 10, temperature: 0 });
    expect(r.status).toBe(200);
    const s = await fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify({ prompt: "The cat", max_tokens: 6, temperature: 0, stream: true, stop: "zzz" }) });
    await readSse(s);
    const catTokens = (await postJson(`${server.url}/tokenize`, { prompt: "The cat" })).body.count;
    const after = await scrape(server.url);
    const d = (name: string, labels?: Record<string, string>) => after.get(name, labels) - before.get(name, labels);
    expect(d("llm:prompt_tokens_total")).toBe(r.body.usage.prompt_tokens + catTokens);
    expect(d("llm:generation_tokens_total")).toBe(16);
    expect(d("llm:request_success_total", { finished_reason: "length" })).toBe(2);
    expect(d("llm:time_to_first_token_seconds_count")).toBe(2);
    expect(d("llm:inter_token_latency_seconds_count")).toBe(9 + 5);
    expect(d("llm:e2e_request_latency_seconds_count")).toBe(2);
    expect(d("llm:time_to_first_token_seconds_sum")).toBeGreaterThan(0);
    expect(after.get("llm:http_responses_total", { code: "200" })).toBeGreaterThanOrEqual(3);
    for (const h of HISTOGRAMS) checkHistogram(after, h);
    expect(after.get("llm:num_requests_running")).toBe(0);
    expect(after.get("llm:num_requests_waiting")).toBe(0);
    expect(after.get("llm:kv_cache_usage_perc")).toBe(0);
  });

  it("running and KV usage while a request runs; prefix cache hits for a repeated prompt", async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify({ prompt: "Hello", max_tokens: 400, ignore_eos: true, stream: true }), signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const mid = await scrape(server.url);
    expect(mid.get("llm:num_requests_running")).toBe(1);
    expect(mid.get("llm:kv_cache_usage_perc")).toBeGreaterThan(0);
    void reader.read().catch(() => {});
    ac.abort();
    const prompt = Array.from({ length: 70 }, (_, i) => 100 + i);
    const before = await scrape(server.url);
    await postJson(`${server.url}/v1/completions`, { prompt, max_tokens: 2 });
    await postJson(`${server.url}/v1/completions`, { prompt, max_tokens: 2 });
    const after = await scrape(server.url);
    expect(after.get("llm:prefix_cache_hits_total") - before.get("llm:prefix_cache_hits_total")).toBe(64);
    expect(after.get("llm:prefix_cache_hit_rate")).toBeGreaterThan(0);
    expect(after.get("llm:request_success_total", { finished_reason: "abort" })).toBeGreaterThanOrEqual(1);
  });

  it("errors are counted by status", async () => {
    const before = await scrape(server.url);
    await postJson(`${server.url}/v1/completions`, "{bad");
    const after = await scrape(server.url);
    const c = (s: Scrape) => s.samples.find((x) => x.name === "llm:http_responses_total" && x.labels.code === "400")?.value ?? 0;
    expect(c(after) - c(before)).toBe(1);
  });
});

describe("the Prometheus text writer", () => {
  it("escapes label values and writes +Inf; the test parser reads it back", () => {
    const text = renderMetric("x_total", "counter", "help", [[{ a: 'q"uo\\te\nnl' }, 3]]);
    const h = new Histogram([0.1, 1]);
    h.observe(0.05);
    h.observe(5);
    const s = parsePrometheus(text + h.render("lat_seconds", "latency", { m: "x" }));
    expect(s.get("x_total", { a: 'q"uo\\te\nnl' })).toBe(3);
    expect(s.get("lat_seconds_bucket", { le: "0.1" })).toBe(1);
    expect(s.get("lat_seconds_bucket", { le: "1" })).toBe(1);
    expect(s.get("lat_seconds_bucket", { le: "+Inf" })).toBe(2);
    expect(s.get("lat_seconds_sum")).toBeCloseTo(5.05);
    expect(s.get("lat_seconds_count", { m: "x" })).toBe(2);
  });
});
