/**
 * The quality table of the quant plugins: mean KL(P_f32 || P_quant) of next-token distributions and
 * greedy top-1 agreement with the f32 model, teacher-forced on the same tokens.
 *   stories260k: the golden prompts with their f32 greedy continuations (647 positions);
 *   smollm2-135m: the SmolLM2-135M-shape random-weight model on random token ids (--seqs x --len).
 * Rows: every online plugin and group size, two output-head variants, the GGUF formats written by
 * `llm quantize` (computed in place by the gguf plugin), and the int8 / fp8 KV cache.
 * Usage: npx tsx bench/quant-quality.ts [--model stories260k|smollm2-135m] [--seqs 4] [--len 32] [--json]
 */
import { readdirSync, readFileSync } from "node:fs";
import { makeInt4Plugin } from "../plugins/quant/int4/index.ts";
import { makeInt8Plugin } from "../plugins/quant/int8/index.ts";
import { BUILTIN_PLUGINS } from "../src/plugin/builtin.ts";
import { PluginRegistry } from "../src/plugin/registry.ts";
import { compareLogits, mergeComparisons } from "../src/quant/quality.ts";
import { loadWithQuant, randomSequences, sequenceLogits, type EvalSequence, type QualityRow } from "../src/quant/quality-suite.ts";
import type { QuantizeTarget } from "../src/quant/gguf-quantize.ts";
import { quantizedCopy, randomF32Model } from "./quant-models.ts";
import { testModelsDir } from "./quant-paths.ts";

interface Row { label: string; file: "f32" | QuantizeTarget; quant: string; kv?: string }

const ROWS: Row[] = [
  { label: "int8 (per-channel, weight-only)", file: "f32", quant: "int8" },
  { label: "int8-dynamic (int8 × int8 per-token)", file: "f32", quant: "int8-dynamic" },
  { label: "int8, output head int8 too", file: "f32", quant: "int8-head-int8" },
  { label: "int4 g32", file: "f32", quant: "int4" },
  { label: "int4 g64", file: "f32", quant: "int4-g64" },
  { label: "int4 g128", file: "f32", quant: "int4-g128" },
  { label: "int4 g32, output head int4 too", file: "f32", quant: "int4-head-int4" },
  { label: "int4 g32, with the range search", file: "f32", quant: "int4-search" },
  { label: "fp8 e4m3 (per-channel)", file: "f32", quant: "fp8" },
  { label: "fp8 e5m2 (per-channel)", file: "f32", quant: "fp8-e5m2" },
  { label: "GGUF Q8_0 (llm quantize)", file: "q8_0", quant: "gguf" },
  { label: "GGUF Q6_K (llm quantize)", file: "q6_k", quant: "gguf" },
  { label: "GGUF Q4_K (llm quantize)", file: "q4_k", quant: "gguf" },
  { label: "GGUF Q4_0 (llm quantize)", file: "q4_0", quant: "gguf" },
  { label: "KV cache int8 (f32 weights)", file: "f32", quant: "none", kv: "int8" },
  { label: "KV cache fp8 (f32 weights)", file: "f32", quant: "none", kv: "fp8" },
];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

function goldenSequences(): EvalSequence[] {
  const dir = `${testModelsDir()}/golden`;
  return readdirSync(dir).filter((f) => f.startsWith("stories260K_") && f.endsWith(".json")).sort().map((f) => {
    const g = JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as { prompt_ids: number[]; generated_ids: number[] };
    return { ids: [...g.prompt_ids, ...g.generated_ids], rows: g.generated_ids.map((_, i) => g.prompt_ids.length - 1 + i) };
  });
}

async function main(): Promise<void> {
  const model = arg("model", "stories260k");
  const json = process.argv.includes("--json");
  const registry = PluginRegistry.withBuiltins(BUILTIN_PLUGINS)
    .register(makeInt8Plugin({ dynamic: false, head: "int8", name: "int8-head-int8" }))
    .register(makeInt4Plugin({ groupSize: 32, head: "same", name: "int4-head-int4" }))
    .register(makeInt4Plugin({ groupSize: 32, search: true, name: "int4-search" }));
  const f32Path = model === "smollm2-135m" ? await randomF32Model("smollm2-135m") : `${testModelsDir()}/stories260K/stories260K-f32.gguf`;
  const ref0 = await loadWithQuant(f32Path, "none", registry);
  const vocab = ref0.config.vocabSize;
  const seqs = model === "smollm2-135m" ? randomSequences(Number(arg("seqs", "4")), Number(arg("len", "32")), vocab, 1234) : goldenSequences();
  const ref = await sequenceLogits(ref0, seqs);
  ref0.model.backend.dispose();
  const out: Array<QualityRow & { label: string }> = [];
  for (const r of ROWS) {
    const path = r.file === "f32" ? f32Path : await quantizedCopy(f32Path, r.file);
    const t0 = performance.now();
    const m = await loadWithQuant(path, r.quant, registry, r.kv ? { kvCacheDtype: r.kv } : {});
    const got = await sequenceLogits(m, seqs);
    const row = { label: r.label, quant: r.quant, weightBytes: m.model.weightBytes, ...mergeComparisons(got.map((g, i) => compareLogits(ref[i]!, g))) };
    m.model.backend.dispose();
    out.push(row);
    const line = { bench: "quant-quality", model, ...row, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
    process.stderr.write(JSON.stringify(line) + "\n");
    if (json) process.stdout.write(JSON.stringify(line) + "\n");
  }
  if (json) return;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(`\n${model}: ${out[0]!.positions} positions; f32 weights ${(ref0.model.weightBytes / 1048576).toFixed(2)} MiB\n\n`);
  process.stdout.write("| scheme | mean KL (nats) | top-1 agreement | linear weights (MiB) |\n|---|---:|---:|---:|\n");
  for (const r of out) process.stdout.write(`| ${r.label} | ${r.meanKl.toExponential(2)} | ${pct(r.top1)} | ${(r.weightBytes / 1048576).toFixed(2)} |\n`);
}

await main();
