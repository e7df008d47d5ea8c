/**
 * Engine throughput at concurrency 1, 8 and 32 on stories260k and on random-weight models of
 * SmolLM2-135M's shape (f32 and q8_0, generated once into .bench-out/), and prefix caching's effect
 * on TTFT (caching on vs off, same prompts sharing a long prefix, concurrency 1 so TTFT is prefill).
 * One JSON line per case on stdout, then the in-run ratios (32-way vs 1-way output tok/s; TTFT off/on).
 *
 * Run: npx tsx bench/engine.ts [--models stories260k,smollm2-135m-f32,smollm2-135m-q8_0] [--quick]
 *      (or: bun bench/engine.ts ...)
 * The 135M shape runs in plain JS at a few tok/s, so its cases use short prompts and outputs.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runThroughput, type ThroughputOptions, type ThroughputResult } from "../src/bench/throughput.ts";
import { resolveModelSpec, type ModelSpec } from "../src/config/model-spec.ts";
import { PACKAGE_ROOT, readModelRegistry, resolveModelsDir } from "../src/config/models-dir.ts";
import { LLMEngine } from "../src/engine/llm-engine.ts";
import { loadModel, type LoadedModel } from "../src/engine/load-model.ts";
import { RANDOM_MODEL_PRESETS, writeRandomModel, type RandomWeightType } from "../src/model/random-model.ts";
import { BUILTIN_PLUGINS } from "../src/plugin/builtin.ts";
import { PluginRegistry } from "../src/plugin/registry.ts";

interface ModelCase {
  id: string;
  spec: () => Promise<ModelSpec>;
  maxModelLen: number;
  /** Prompt/output lengths of the concurrency sweep; prompts per run = max(concurrency, minPrompts). */
  sweep: { inputLen: number; outputLen: number; minPrompts: number };
  /** Shared-prefix TTFT case (concurrency 1), or null to skip it. */
  prefix: { numPrompts: number; prefixLen: number; suffixLen: number; outputLen: number } | null;
}

const { values: flags } = parseArgs({
  options: { models: { type: "string" }, quick: { type: "boolean", default: false }, out: { type: "string", default: join(PACKAGE_ROOT, ".bench-out") } },
});
const quick = flags.quick === true;
const outDir = flags.out!;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "node";
const registryFile = join(PACKAGE_ROOT, "models.yaml");
const log = (s: string) => process.stderr.write(`bench/engine: ${s}\n`);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ bench: "engine", runtime, ...o }) + "\n");

/** The 135M-shape file of `type` in the cache folder, generated on first use. */
async function randomModelSpec(type: RandomWeightType): Promise<ModelSpec> {
  const path = join(outDir, `smollm2-135m-${type}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(outDir, { recursive: true });
    log(`generating ${path} (once; later runs reuse it)`);
    const t0 = performance.now();
    await writeRandomModel(path, { shape: RANDOM_MODEL_PRESETS["smollm2-135m"]!, type, seed: 0, name: `random-smollm2-135m-${type}` });
    log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { id: `smollm2-135m-${type}`, path, sampling: {}, plugins: {} };
}

const small = (n: number) => (quick ? Math.max(1, n >> 1) : n);
const shape135m = { maxModelLen: 512, sweep: { inputLen: small(8), outputLen: small(8), minPrompts: 1 } };
const MODELS: ModelCase[] = [
  {
    id: "stories260k",
    spec: async () => resolveModelSpec("stories260k", readModelRegistry(registryFile), resolveModelsDir(undefined, registryFile)),
    maxModelLen: 512,
    sweep: { inputLen: small(128), outputLen: small(64), minPrompts: small(16) },
    prefix: { numPrompts: small(16), prefixLen: 384, suffixLen: 16, outputLen: 8 },
  },
  { id: "smollm2-135m-f32", spec: () => randomModelSpec("f32"), ...shape135m, prefix: { numPrompts: 3, prefixLen: small(32), suffixLen: 4, outputLen: 1 } },
  { id: "smollm2-135m-q8_0", spec: () => randomModelSpec("q8_0"), ...shape135m, prefix: null },
];

/** A fresh engine per case (an empty prefix cache), over the loaded weights. */
const newEngine = (loaded: LoadedModel, enablePrefixCaching = true) =>
  new LLMEngine(loaded, { maxNumSeqs: 64, maxNumBatchedTokens: 512, kvCacheMemory: 64 * 1048576, enablePrefixCaching });

async function throughput(loaded: LoadedModel, id: string, name: string, o: ThroughputOptions, enablePrefixCaching = true): Promise<ThroughputResult> {
  const r = await runThroughput(newEngine(loaded, enablePrefixCaching), id, o);
  emit({ case: name, enable_prefix_caching: enablePrefixCaching, ...r });
  return r;
}

async function benchModel(m: ModelCase): Promise<void> {
  const spec = await m.spec();
  const loaded = await loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS), { maxModelLen: m.maxModelLen });
  log(`${m.id}: loaded in ${loaded.loadMs.toFixed(0)} ms; warming up`);
  await runThroughput(newEngine(loaded), m.id, { numPrompts: 2, inputLen: 8, outputLen: 2, seed: 99 });

  const rates = new Map<number, number>();
  for (const c of [1, 8, 32]) {
    log(`${m.id}: throughput at concurrency ${c}`);
    const r = await throughput(loaded, m.id, "throughput", {
      numPrompts: Math.max(c, m.sweep.minPrompts), inputLen: m.sweep.inputLen, outputLen: m.sweep.outputLen, maxConcurrency: c, seed: c, temperature: 0,
    });
    rates.set(c, r.output_tok_per_s);
  }
  emit({
    case: "concurrency_scaling", model: m.id, output_tok_per_s: Object.fromEntries(rates),
    ratio_32_vs_1: Math.round((rates.get(32)! / rates.get(1)!) * 100) / 100, ratio_8_vs_1: Math.round((rates.get(8)! / rates.get(1)!) * 100) / 100,
  });

  if (m.prefix) {
    const p = m.prefix;
    const o: ThroughputOptions = {
      numPrompts: p.numPrompts, inputLen: p.prefixLen + p.suffixLen, outputLen: p.outputLen, sharedPrefixLen: p.prefixLen, maxConcurrency: 1, seed: 7, temperature: 0,
    };
    log(`${m.id}: shared-prefix TTFT, prefix caching off then on`);
    const off = await throughput(loaded, m.id, "shared_prefix", o, false);
    const on = await throughput(loaded, m.id, "shared_prefix", o, true);
    emit({
      case: "prefix_caching_ttft", model: m.id, num_prompts: p.numPrompts, shared_prefix_len: p.prefixLen, unique_suffix_len: p.suffixLen,
      ttft_ms_mean: { off: off.ttft_ms.mean, on: on.ttft_ms.mean }, ttft_ms_p50: { off: off.ttft_ms.p50, on: on.ttft_ms.p50 },
      prefix_cache_hit_rate: on.prefix_cache_hit_rate,
      ttft_ratio_off_over_on: Math.round((off.ttft_ms.mean / on.ttft_ms.mean) * 100) / 100,
    });
  }
}

const wanted = flags.models ? flags.models.split(",") : MODELS.map((m) => m.id);
const unknown = wanted.filter((w) => !MODELS.some((m) => m.id === w));
if (unknown.length) {
  process.stderr.write(`bench/engine: unknown model ${unknown.join(", ")}; available: ${MODELS.map((m) => m.id).join(", ")}\n`);
  process.exit(2);
}
const t0 = performance.now();
for (const m of MODELS.filter((x) => wanted.includes(x.id))) await benchModel(m);
log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
