import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe("llm bench", () => {
  it("throughput prints one JSON line with every field; output tokens = prompts × output_len", async () => {
    const r = await runCli(["bench", "throughput", "stories260k", "--num-prompts", "8", "--input-len", "32", "--output-len", "8", "--max-concurrency", "4"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const j = lastJson(r.stdout);
    for (const k of ["model", "backend", "attention", "quant", "num_prompts", "concurrency", "input_len", "output_len", "shared_prefix_len", "elapsed_s",
      "requests_per_s", "output_tok_per_s", "total_tok_per_s", "ttft_ms", "itl_ms", "e2e_ms", "prefix_cache_hit_rate", "peak_kv_usage", "num_preemptions"]) {
      expect(j, k).toHaveProperty(k);
    }
    expect(j.num_output_tokens).toBe(64);
    expect(j.concurrency).toBe(4);
    expect(r.stderr).toMatch(/output tok\/s/);
  });

  it("throughput with a shared prefix reports prefix cache hits", async () => {
    const r = await runCli(["bench", "throughput", "stories260k", "--num-prompts", "6", "--input-len", "64", "--output-len", "2", "--shared-prefix-len", "48", "--max-concurrency", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout).prefix_cache_hit_rate as number).toBeGreaterThan(0);
  });

  it("latency prints one JSON line", async () => {
    const r = await runCli(["bench", "latency", "stories260k", "--input-len", "16", "--output-len", "4", "--batch-size", "2", "--num-iters", "2"]);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    for (const k of ["avg_latency_s", "percentiles", "prefill_tok_per_s", "decode_tok_per_s"]) expect(j, k).toHaveProperty(k);
  });

  it("usage errors exit 2 with one line", async () => {
    const r = await runCli(["bench", "throughput", "stories260k", "--input-len", "500", "--output-len", "100"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exceeds max_model_len/);
    const bad = await runCli(["bench", "latency", "--batch-size", "0"]);
    expect(bad.code).toBe(2);
  });
});

describe("llm gen-model", () => {
  it("writes a q8_0 tiny model that `llm run` can run", async () => {
    const out = join(tempDir("gen-model-"), "tiny.gguf");
    const g = await runCli(["gen-model", "tiny", "--type", "q8_0", "--num-layers", "1", "--seed", "3", "-o", out, "--json"]);
    expect(g.code, g.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const j = lastJson(g.stdout);
    expect(j).toMatchObject({ preset: "tiny", type: "q8_0", seed: 3 });
    expect((j.shape as { numLayers: number }).numLayers).toBe(1);
    expect(g.stderr).toMatch(/wrote .*tiny\.gguf/);
    const r = await runCli(["run", out, "hello", "-n", "6", "--temperature", "0", "--ignore-eos", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((lastJson(r.stdout).generated_token_ids as number[]).length).toBe(6);
  });

  it("an unknown preset or impossible shape is a usage error naming what is accepted", async () => {
    const dir = tempDir("gen-model-");
    const a = await runCli(["gen-model", "gpt5", "-o", join(dir, "x.gguf")]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown preset "gpt5"; available: smollm2-135m, llama-1b, tiny/);
    const b = await runCli(["gen-model", "tiny", "--num-heads", "3", "-o", join(dir, "y.gguf")]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/multiple of the head count 3/);
    expect(existsSync(join(dir, "y.gguf"))).toBe(false);
  });
});
