/**
 * Prompt and generation tok/s on stories260k, single stream, against llama.cpp (node-llama-cpp) on
 * the same GGUF in the same run. One JSON line per case, with ratio = ours / llama.cpp.
 * Run: npx tsx bench/stories.ts   (or: bun bench/stories.ts)
 */
import { join } from "node:path";
import { resolveModelSpec } from "../src/config/model-spec.ts";
import { readModelRegistry, resolveModelsDir, PACKAGE_ROOT } from "../src/config/models-dir.ts";
import { LLMEngine } from "../src/engine/llm-engine.ts";
import { loadModel } from "../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../src/plugin/builtin.ts";
import { PluginRegistry } from "../src/plugin/registry.ts";
import { llamaCppGreedy } from "./baseline/llama-cpp.ts";

const registryFile = join(PACKAGE_ROOT, "models.yaml");
const registry = readModelRegistry(registryFile);
const modelsDir = resolveModelsDir(undefined, registryFile);
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";

async function ours(id: string, prompt: number[], gen: number) {
  const spec = resolveModelSpec(id, registry, modelsDir);
  const loaded = await loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS));
  const engine = new LLMEngine(loaded, { maxNumBatchedTokens: 512 });
  // prefill alone: max_tokens 1 measures TTFT over the prompt
  const run = async (maxTokens: number) => {
    const t0 = performance.now();
    engine.addRequest(`r${t0}`, prompt, { temperature: 0, maxTokens, ignoreEos: true });
    let first = 0;
    let n = 0;
    while (engine.hasUnfinishedRequests()) {
      for (const o of await engine.step()) {
        n += o.outputs[0]!.tokenIds.length;
        if (first === 0 && n > 0) first = performance.now();
      }
    }
    return { ttftMs: first - t0, decodeMs: performance.now() - first, n };
  };
  await run(4); // warm-up
  const p = await run(1);
  const d = await run(gen);
  return { path: spec.path, prefillTokPerS: (prompt.length / p.ttftMs) * 1000, decodeTokPerS: ((d.n - 1) / d.decodeMs) * 1000 };
}

const promptLen = 256;
const gen = 128;
const prompt = [1, ...Array.from({ length: promptLen - 1 }, (_, i) => 3 + ((i * 7919) % 509))];
for (const id of ["stories260k", "stories260k-q8_0"]) {
  const o = await ours(id, prompt, gen);
  const b = await llamaCppGreedy(o.path, prompt, gen, 1);
  for (const [kind, v, base] of [["prefill", o.prefillTokPerS, b.prefillTokPerS], ["decode", o.decodeTokPerS, b.decodeTokPerS]] as const) {
    console.log(JSON.stringify({
      bench: "stories-single-stream", model: id, runtime, case: kind, prompt_tokens: promptLen, gen_tokens: gen,
      tok_per_s: Math.round(v * 10) / 10, baseline: "llama.cpp (node-llama-cpp 3.21.1, 1 thread)",
      baseline_tok_per_s: Math.round(base * 10) / 10, ratio: Math.round((v / base) * 1000) / 1000,
    }));
  }
}
