/**
 * End to end: the engine (scheduler, prefix caching, chunked prefill) over stories260K under each
 * attention plugin gives the run.c goldens' greedy tokens; a shared-prefix batch (cascade under
 * flashinfer) and a sliding-window model give the same tokens under every plugin; and the CLI's
 * --attention flag reaches the plugin.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { resolveModelSpec } from "../../../src/config/model-spec.ts";
import { readModelRegistry } from "../../../src/config/models-dir.ts";
import { LLMEngine } from "../../../src/engine/llm-engine.ts";
import { loadModel, type LoadedModel } from "../../../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../../src/plugin/registry.ts";
import type { AttentionShape } from "../../../src/plugin/types.ts";
import type { FlashInferPlan } from "../../../plugins/attention/flashinfer/plan.ts";
import { runCli } from "../../helpers/cli.ts";
import { goldenNames, readGolden } from "../../helpers/golden.ts";
import { REPO_ROOT, testModelsDir } from "../../helpers/models-dir.ts";

const PLUGINS = ["paged", "flashinfer", "flex"];

async function load(attention: string, attentionOptions?: Record<string, unknown>): Promise<LoadedModel> {
  const spec = resolveModelSpec("stories260k", readModelRegistry(join(REPO_ROOT, "models.yaml")), testModelsDir());
  return loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS), { plugins: { attention, ...(attentionOptions ? { attentionOptions } : {}) } });
}

/** Run requests concurrently (each added at its step) to completion; greedy token ids per id. */
async function run(engine: LLMEngine, reqs: Array<{ id: string; prompt: number[]; maxTokens: number; at?: number; stop?: number[] }>): Promise<Map<string, number[]>> {
  const got = new Map<string, number[]>(reqs.map((r) => [r.id, []]));
  for (let step = 0; step < 5000; step++) {
    for (const r of reqs) if ((r.at ?? 0) === step) engine.addRequest(r.id, r.prompt, { temperature: 0, maxTokens: r.maxTokens, ignoreEos: true, stopTokenIds: r.stop ?? [] });
    for (const o of await engine.step()) got.get(o.requestId)!.push(...o.outputs[0]!.tokenIds);
    if (step > Math.max(...reqs.map((r) => r.at ?? 0)) && !engine.hasUnfinishedRequests()) break;
  }
  return got;
}

describe("engine end to end under each attention plugin", () => {
  for (const name of PLUGINS) {
    it(`${name}: every golden's greedy ids, all goldens batched together (chunked prefill, block size 4)`, async () => {
      const loaded = await load(name);
      expect(loaded.selection.attention.name).toBe(name);
      const engine = new LLMEngine(loaded, { blockSize: 4, maxNumBatchedTokens: 48 });
      const goldens = goldenNames().map(readGolden);
      const got = await run(engine, goldens.map((g, i) => ({ id: g.name, prompt: g.prompt_ids, maxTokens: g.new_tokens_requested, at: i, stop: [1] })));
      for (const g of goldens) expect(got.get(g.name), `${name} ${g.name}`).toEqual(g.generated_ids);
    });
  }

  it("a shared-prefix batch (prefix caching → identical leading blocks → cascade) gives the same tokens under every plugin", async () => {
    const g = readGolden("stories260K_long_200");
    const prefix = g.prompt_ids.concat(g.generated_ids.slice(0, 100));
    const reqs = [
      { id: "a", prompt: [...prefix, 300], maxTokens: 12, at: 0 },
      ...[301, 302, 303, 304, 305].map((t, i) => ({ id: `r${i}`, prompt: [...prefix, t, t + 1], maxTokens: 12, at: 3 })),
    ];
    const results: Array<Map<string, number[]>> = [];
    let groupsSeen = 0;
    for (const name of PLUGINS) {
      const loaded = await load(name);
      if (name === "flashinfer") {
        const impl = loaded.attention, plan = impl.plan.bind(impl);
        impl.plan = (b) => { const p = plan(b) as FlashInferPlan; groupsSeen += p.groups.length; return p; };
      }
      results.push(await run(new LLMEngine(loaded, { blockSize: 16 }), reqs));
    }
    expect(groupsSeen).toBeGreaterThan(0);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it("a model with a sliding window (AttentionShape.slidingWindow = 24) runs under paged, flashinfer and flex alike", async () => {
    const g = readGolden("stories260K_long_200");
    const reqs = [{ id: "w", prompt: g.prompt_ids, maxTokens: 40 }, { id: "v", prompt: g.prompt_ids.slice(0, 30), maxTokens: 40, at: 2 }];
    const results: Array<Map<string, number[]>> = [];
    for (const name of PLUGINS) {
      const loaded = await load(name);
      const p = loaded.selection.attention;
      const shape: AttentionShape = {
        numLayers: loaded.config.numLayers, numHeads: loaded.config.numHeads, numKvHeads: loaded.config.numKvHeads,
        headDim: loaded.config.headDim, smScale: 1 / Math.sqrt(loaded.config.headDim), slidingWindow: 24,
      };
      expect(p.check(shape, loaded.selection.backend)).toEqual([]);
      const windowed = { ...loaded, attention: p.create(shape, loaded.selection.backend) };
      results.push(await run(new LLMEngine(windowed, { blockSize: 8, maxNumBatchedTokens: 32 }), reqs));
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    const full = await run(new LLMEngine(await load("paged"), { blockSize: 8 }), reqs);
    expect(full.get("w")).not.toEqual(results[0]!.get("w")); // the window changed the continuation
  });

  for (const name of ["flashinfer", "flex"]) {
    it(`llm run --attention ${name} prints the golden's ids`, async () => {
      const g = readGolden("stories260K_once_upon_a_time");
      const r = await runCli(["run", "stories260k", g.prompt, "--temperature", "0", "-n", String(g.new_tokens_requested), "--attention", name, "--json", "--explain"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`attention ${name}: selected`);
      expect(JSON.parse(r.stdout.trim().split("\n").pop()!).generated_token_ids).toEqual(g.generated_ids);
    });
  }
});
