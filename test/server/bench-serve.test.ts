import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poissonGaps, runServeBench } from "../../src/bench/serve.ts";
import { parseRequestRate } from "../../src/cli/commands/bench-serve.ts";
import type { RunningServer } from "../../src/server/start-server.ts";
import { runCli } from "../helpers/cli.ts";
import { inProcessServer } from "./helpers.ts";
import { scrape } from "./prometheus-parse.ts";

let server: RunningServer;
beforeAll(async () => {
  server = await inProcessServer();
});
afterAll(async () => {
  await server.shutdown();
});

describe("llm bench serve", () => {
  it("Poisson gaps are seeded with mean 1/rate; an infinite rate sends all at once", () => {
    const gaps = poissonGaps(4000, 20, 1);
    expect(gaps).toEqual(poissonGaps(4000, 20, 1));
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeCloseTo(1 / 20, 2);
    expect(poissonGaps(3, Infinity, 1)).toEqual([0, 0, 0]);
  });

  it("token-id prompts at an infinite rate, text prompts at a finite one: every request completes with exact lengths", async () => {
    const before = await scrape(server.url);
    const a = await runServeBench({ baseUrl: server.url, numPrompts: 8, requestRate: Infinity, inputLen: 16, outputLen: 8, seed: 0, promptFormat: "ids" });
    expect(a.completed).toBe(8);
    expect(a.failed).toBe(0);
    expect(a.total_input_tokens).toBe(8 * 16);
    expect(a.total_output_tokens).toBe(8 * 8);
    expect(a.request_rate).toBe("inf");
    for (const k of ["ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"] as const) {
      expect(Object.keys(a[k]).sort()).toEqual(["mean", "p50", "p90", "p99"]);
      expect(a[k].p50).toBeGreaterThan(0);
      expect(a[k].p99).toBeGreaterThanOrEqual(a[k].p50);
    }
    expect(a.requests_per_s).toBeGreaterThan(0);
    expect(a.output_tok_per_s).toBeGreaterThan(0);
    const b = await runServeBench({ baseUrl: server.url + "/v1", numPrompts: 6, requestRate: 100, inputLen: 16, outputLen: 4, seed: 3, promptFormat: "text" });
    expect(b.completed).toBe(6);
    expect(b.total_output_tokens).toBe(24);
    const after = await scrape(server.url);
    expect(after.get("llm:generation_tokens_total") - before.get("llm:generation_tokens_total")).toBe(64 + 24);
  });

  it("the CLI prints one JSON line; a bad --request-rate is a usage error", async () => {
    const r = await runCli(["bench", "serve", "--base-url", server.url, "--num-prompts", "4", "--request-rate", "50", "--input-len", "8", "--output-len", "4"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(out.completed).toBe(4);
    expect(out.request_rate).toBe(50);
    expect(parseRequestRate("inf")).toBe(Infinity);
    expect(parseRequestRate("2.5")).toBe(2.5);
    for (const bad of ["-1", "0", "fast", ""]) expect(() => parseRequestRate(bad)).toThrow(/--request-rate must be a number > 0 or inf/);
  });
});
