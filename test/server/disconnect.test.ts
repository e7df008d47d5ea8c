import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/start-server.ts";
import { inProcessServer } from "./helpers.ts";
import { scrape } from "./prometheus-parse.ts";

let server: RunningServer;
beforeAll(async () => {
  server = await inProcessServer();
});
afterAll(async () => {
  await server.shutdown();
});

/** Start a long streaming request and return once `chunks` events have arrived, with the means to drop it. */
async function startStream(i: number, chunks: number): Promise<{ drop: () => void; settled: Promise<unknown> }> {
  const ac = new AbortController();
  const path = i % 2 ? "/v1/chat/completions" : "/v1/completions";
  const body = i % 2
    ? { messages: [{ role: "user", content: `story ${i}` }], max_tokens: 400, ignore_eos: true, stream: true }
    : { prompt: `Once upon a time ${i}`, max_tokens: 400, ignore_eos: true, stream: true };
  const res = await fetch(server.url + path, { method: "POST", body: JSON.stringify(body), signal: ac.signal });
  const reader = res.body!.getReader();
  let seen = 0;
  while (seen < chunks) {
    const r = await reader.read();
    if (r.done) throw new Error("stream ended early");
    seen += new TextDecoder().decode(r.value).split("\n\n").filter((s) => s.startsWith("data:")).length;
  }
  const settled = reader.read().catch(() => null);
  return { drop: () => ac.abort(), settled };
}

async function until(cond: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

describe("clients that disconnect mid-stream", () => {
  it("16 dropped streams are aborted within a second and their KV blocks freed", async () => {
    const base = await scrape(server.url);
    expect(base.get("llm:kv_cache_usage_perc")).toBe(0);
    const abortsBefore = base.get("llm:request_success_total", { finished_reason: "abort" });
    const streams = await Promise.all(Array.from({ length: 16 }, (_, i) => startStream(i, 3)));
    const mid = await scrape(server.url);
    expect(mid.get("llm:num_requests_running") + mid.get("llm:num_requests_waiting")).toBe(16);
    expect(mid.get("llm:kv_cache_usage_perc")).toBeGreaterThan(0);
    for (const s of streams) s.drop();
    const ms = await until(async () => {
      const m = await scrape(server.url);
      return m.get("llm:num_requests_running") === 0 && m.get("llm:num_requests_waiting") === 0 && m.get("llm:kv_cache_usage_perc") === 0;
    }, 1000);
    expect(ms).toBeLessThan(1000);
    const after = await scrape(server.url);
    expect(after.get("llm:request_success_total", { finished_reason: "abort" }) - abortsBefore).toBe(16);
    expect(server.ctx.inflight.size).toBe(0);
    expect(server.ctx.engine.hasUnfinishedRequests()).toBe(false);
    await Promise.all(streams.map((s) => s.settled));
  });

  it("a dropped non-streaming request is aborted too", async () => {
    const ac = new AbortController();
    const p = fetch(server.url + "/v1/completions", { method: "POST", body: JSON.stringify({ prompt: "Hi", max_tokens: 400, ignore_eos: true }), signal: ac.signal }).catch(() => null);
    await until(async () => (await scrape(server.url)).get("llm:num_requests_running") === 1, 2000);
    ac.abort();
    await p;
    await until(async () => (await scrape(server.url)).get("llm:kv_cache_usage_perc") === 0, 1000);
    expect(server.ctx.engine.hasUnfinishedRequests()).toBe(false);
  });
});
