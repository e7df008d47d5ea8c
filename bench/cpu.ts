/**
 * The CPU backends against llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU build) on the same GGUF
 * files in the same run: single-stream decode, 512-token prefill, and 32 concurrent requests.
 * llama.cpp runs at 1 and 2 threads and its better figure is the baseline (its 2-thread decode is
 * often slower on 2-vCPU machines); ours runs at --threads (default: all cores). Each measurement
 * is taken --repeat times (default 3; llama-bench repeats 5) on both sides and the median is the
 * figure: this VM's speed drifts by 10-30% over seconds, so one sample of a 3-second case is
 * largely luck. One JSON line per case with ratio = ours / llama.cpp (medians; the samples too),
 * and for q8_0/q4_0 the weight bandwidth decode reaches.
 *
 * Run (Node; node-llama-cpp does not load under Bun):
 *   npx tsx bench/cpu.ts [--models stories260k-f32,smollm2-135m-q8_0,...] [--backends cpu,cpu-native] [--threads 2] [--repeat 3] [--batched-out N] [--quick]
 * --batched-out sets the output tokens of each of the 32 concurrent requests (default 64: their
 * 16-token prompts are then a fifth of the tokens; with 16 output tokens half of our time is the
 * 512-token prefill step, which measures prefill more than batched decoding).
 * The 135M-shape files are generated (random weights, SmolLM2-135M's shape) into .bench-out/ once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PACKAGE_ROOT, resolveModelsDir } from "../src/config/models-dir.ts";
import { LLMEngine } from "../src/engine/llm-engine.ts";
import { loadModel, type LoadedModel } from "../src/engine/load-model.ts";
import { loadCheckpoint } from "../src/loader/load-checkpoint.ts";
import { RANDOM_MODEL_PRESETS, writeRandomModel } from "../src/model/random-model.ts";
import { BUILTIN_PLUGINS } from "../src/plugin/builtin.ts";
import { PluginRegistry } from "../src/plugin/registry.ts";
import { quantizeCheckpoint, type QuantizeTarget } from "../src/quant/gguf-quantize.ts";
import { llamaCppBatched, llamaCppGreedy, loadLlamaCpp } from "./baseline/llama-cpp.ts";

const { values: flags } = parseArgs({
  options: {
    models: { type: "string" }, backends: { type: "string", default: "cpu,cpu-native" }, threads: { type: "string" },
    quick: { type: "boolean", default: false }, out: { type: "string", default: join(PACKAGE_ROOT, ".bench-out") },
    repeat: { type: "string", default: "3" }, "batched-out": { type: "string" },
  },
});
const outDir = flags.out!;
const quick = flags.quick === true;
const threads = flags.threads ? Number(flags.threads) : undefined;
const repeat = Number(flags.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write(`bench/cpu: --repeat must be a positive integer, got ${flags.repeat}\n`);
  process.exit(2);
}
const batchedOutFlag = flags["batched-out"] === undefined ? undefined : Number(flags["batched-out"]);
if (batchedOutFlag !== undefined && (!Number.isInteger(batchedOutFlag) || batchedOutFlag < 1)) {
  process.stderr.write(`bench/cpu: --batched-out must be a positive integer, got ${flags["batched-out"]}\n`);
  process.exit(2);
}
/** The median of samples (the lower middle one of an even count). */
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const log = (s: string) => process.stderr.write(`bench/cpu: ${s}\n`);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ bench: "cpu", ...o }) + "\n");
const r1 = (v: number) => Math.round(v * 10) / 10;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

interface Case { id: string; path: () => Promise<string>; decode: number; batchedOut: number; prefill: number; maxModelLen: number }

async function random135m(type: "f32" | QuantizeTarget): Promise<string> {
  const f32 = join(outDir, "smollm2-135m-f32.gguf");
  if (!existsSync(f32)) {
    mkdirSync(outDir, { recursive: true });
    log(`generating ${f32} (once)`);
    await writeRandomModel(f32, { shape: RANDOM_MODEL_PRESETS["smollm2-135m"]!, type: "f32", seed: 0, name: "random-smollm2-135m-f32" });
  }
  if (type === "f32") return f32;
  return quantized(f32, join(outDir, `smollm2-135m-${type}.gguf`), type);
}

async function quantized(from: string, to: string, type: QuantizeTarget): Promise<string> {
  if (!existsSync(to)) {
    log(`quantizing ${from} to ${type} (once)`);
    mkdirSync(join(to, ".."), { recursive: true });
    await quantizeCheckpoint(await loadCheckpoint(from), type, to);
  }
  return to;
}

const shared = (file: string) => join(resolveModelsDir(undefined, join(PACKAGE_ROOT, "models.yaml")), "stories260K", file);
const q = (n: number) => (quick ? Math.max(4, n >> 2) : n);
const CASES: Case[] = [
  // stories260K's context is 512 tokens: its "512-token" prefill is 500 tokens.
  { id: "stories260k-f32", path: async () => shared("stories260K-f32.gguf"), decode: q(256), batchedOut: q(64), prefill: 500, maxModelLen: 512 },
  { id: "stories260k-q8_0", path: async () => shared("stories260K-q8_0.gguf"), decode: q(256), batchedOut: q(64), prefill: 500, maxModelLen: 512 },
  { id: "stories260k-q4_0", path: () => quantized(shared("stories260K-f32.gguf"), join(outDir, "stories260K-q4_0.gguf"), "q4_0"), decode: q(256), batchedOut: q(64), prefill: 500, maxModelLen: 512 },
  { id: "smollm2-135m-f32", path: () => random135m("f32"), decode: q(48), batchedOut: q(64), prefill: 512, maxModelLen: 1024 },
  { id: "smollm2-135m-q8_0", path: () => random135m("q8_0"), decode: q(48), batchedOut: q(64), prefill: 512, maxModelLen: 1024 },
  { id: "smollm2-135m-q4_0", path: () => random135m("q4_0"), decode: q(48), batchedOut: q(64), prefill: 512, maxModelLen: 1024 },
];

/** Deterministic token ids in [3, vocab), distinct per seed (so no prompt shares a cached prefix). */
function promptIds(len: number, vocab: number, seed: number): number[] {
  return [1, ...Array.from({ length: len - 1 }, (_, i) => 3 + ((i * 7919 + seed * 104729) % (vocab - 3)))];
}

async function drain(engine: LLMEngine): Promise<number> {
  let first = 0;
  while (engine.hasUnfinishedRequests()) {
    for (const o of await engine.step()) if (first === 0 && o.outputs[0]!.tokenIds.length > 0) first = performance.now();
  }
  return first;
}

async function ours(loaded: LoadedModel, c: Case) {
  const vocab = loaded.config.vocabSize;
  const engine = () => new LLMEngine(loaded, { maxNumSeqs: 64, maxNumBatchedTokens: 512, kvCacheMemory: 128 * 1048576, enablePrefixCaching: false });
  let seed = 1;
  // Warm-up with the timed shapes (a full-length prompt and 32 short requests), as llama-bench
  // warms up: JIT tiers and the one-time growth of workspaces stay out of the timings (llama.cpp
  // allocates its compute graph when the context is created, also untimed).
  const warm = engine();
  warm.addRequest("warm", promptIds(c.prefill, vocab, seed++), { temperature: 0, maxTokens: 4, ignoreEos: true });
  for (let i = 0; i < 32; i++) warm.addRequest(`warm${i}`, promptIds(16, vocab, seed++), { temperature: 0, maxTokens: 4, ignoreEos: true });
  await drain(warm);
  // The timed runs reuse the warmed engine (its KV cache: a fresh one per run would grow wasm memory, which is never returned).
  const runs: Array<{ decode: number; prefill: number; batched: number }> = [];
  for (let r = 0; r < repeat; r++) runs.push(await oursOnce(warm, c, vocab, seed + r * 100));
  return {
    decode: median(runs.map((x) => x.decode)), prefill: median(runs.map((x) => x.prefill)), batched: median(runs.map((x) => x.batched)),
    samples: { decode: runs.map((x) => x.decode), prefill: runs.map((x) => x.prefill), batched: runs.map((x) => x.batched) },
  };
}

/** One timed run of the three cases on an idle engine (no request in flight). */
async function oursOnce(e: LLMEngine, c: Case, vocab: number, seed: number) {
  // Decode: one request, time from its first token to its last.
  const e1 = e;
  e1.addRequest("d", promptIds(16, vocab, seed++), { temperature: 0, maxTokens: c.decode + 1, ignoreEos: true });
  const first = await drain(e1);
  const decode = (c.decode / (performance.now() - first)) * 1000;
  // Prefill: a 512-token prompt, one output token (TTFT is the prefill).
  const e2 = e;
  const t0 = performance.now();
  e2.addRequest("p", promptIds(c.prefill, vocab, seed++), { temperature: 0, maxTokens: 1, ignoreEos: true });
  await drain(e2);
  const prefill = (c.prefill / (performance.now() - t0)) * 1000;
  // 32 concurrent requests, 16-token prompts: aggregate output tok/s over the whole run.
  const e3 = e;
  const t1 = performance.now();
  for (let i = 0; i < 32; i++) e3.addRequest(`b${i}`, promptIds(16, vocab, seed++), { temperature: 0, maxTokens: c.batchedOut, ignoreEos: true });
  await drain(e3);
  const batched = ((32 * c.batchedOut) / (performance.now() - t1)) * 1000;
  return { decode, prefill, batched };
}

/** llama.cpp's figures: per thread count the median of `repeat` runs, then the better thread count. */
async function llamaCpp(path: string, c: Case, vocab: number) {
  type Figure = { v: number; t: number; samples: number[] };
  const best = (xs: Figure[]) => xs.reduce((a, b) => (b.v > a.v ? b : a));
  const decode: Figure[] = [], prefill: Figure[] = [], batched: Figure[] = [];
  const llama = await loadLlamaCpp();
  for (const t of [1, 2]) {
    const d: number[] = [], p: number[] = [], b: number[] = [];
    for (let r = 0; r < repeat; r++) {
      p.push((await llamaCppGreedy(path, promptIds(c.prefill, vocab, 900 + t + r * 10), 2, t, c.maxModelLen, llama)).prefillTokPerS);
      d.push((await llamaCppGreedy(path, promptIds(16, vocab, 950 + t + r * 10), c.decode + 1, t, c.maxModelLen, llama)).decodeTokPerS);
      const prompts = Array.from({ length: 32 }, (_, i) => promptIds(16, vocab, 500 + i + t * 50 + r * 1000));
      b.push((await llamaCppBatched(path, prompts, c.batchedOut, t, 32 * (16 + c.batchedOut + 8), llama)).outputTokPerS);
    }
    decode.push({ v: median(d), t, samples: d });
    prefill.push({ v: median(p), t, samples: p });
    batched.push({ v: median(b), t, samples: b });
  }
  return { decode: best(decode), prefill: best(prefill), batched: best(batched) };
}

const wanted = flags.models ? flags.models.split(",") : CASES.map((c) => c.id);
const unknown = wanted.filter((w) => !CASES.some((c) => c.id === w));
if (unknown.length) {
  process.stderr.write(`bench/cpu: unknown model ${unknown.join(", ")}; available: ${CASES.map((c) => c.id).join(", ")}\n`);
  process.exit(2);
}
const tooLong = CASES.filter((x) => wanted.includes(x.id) && batchedOutFlag !== undefined && 16 + batchedOutFlag > x.maxModelLen);
if (tooLong.length) {
  process.stderr.write(`bench/cpu: --batched-out ${batchedOutFlag} does not fit ${tooLong.map((x) => `${x.id} (context ${x.maxModelLen}, 16 prompt tokens: at most ${x.maxModelLen - 16})`).join(", ")}\n`);
  process.exit(2);
}
const backends = flags.backends!.split(",");
const registry = PluginRegistry.withBuiltins(BUILTIN_PLUGINS);
for (const c0 of CASES.filter((x) => wanted.includes(x.id))) {
  const c = batchedOutFlag === undefined ? c0 : { ...c0, batchedOut: batchedOutFlag };
  const path = await c.path();
  let vocab = 0;
  const results = new Map<string, { decode: number; prefill: number; batched: number; samples: Record<"decode" | "prefill" | "batched", number[]>; weightBytes: number; device: string }>();
  for (const backend of backends) {
    log(`${c.id}: ${backend}`);
    let loaded: LoadedModel;
    try {
      loaded = await loadModel({ id: c.id, path, sampling: {}, plugins: {} }, registry, { plugins: { backend, attention: "paged" }, maxModelLen: c.maxModelLen, ...(threads ? { threads } : {}) });
    } catch (e) {
      emit({ model: c.id, backend, skipped: e instanceof Error ? e.message : String(e) });
      continue;
    }
    vocab = loaded.config.vocabSize;
    results.set(backend, { ...(await ours(loaded, c)), weightBytes: loaded.model.weightBytes, device: loaded.selection.backend.device });
    loaded.selection.backend.dispose();
  }
  if (!vocab) continue;
  log(`${c.id}: llama.cpp`);
  const lc = await llamaCpp(path, c, vocab);
  for (const [backend, r] of results) {
    for (const [kase, v, samples, base] of [["decode", r.decode, r.samples.decode, lc.decode], ["prefill_512", r.prefill, r.samples.prefill, lc.prefill], ["concurrent_32", r.batched, r.samples.batched, lc.batched]] as const) {
      emit({
        model: c.id, backend, device: r.device, case: kase, tok_per_s: r1(v),
        baseline: "llama.cpp (node-llama-cpp 3.21.1)", baseline_threads: base.t, baseline_tok_per_s: r1(base.v), ratio: r3(v / base.v),
        ...(kase === "concurrent_32" ? { output_tokens: c.batchedOut } : {}), runs: repeat, samples: samples.map(r1), baseline_samples: base.samples.map(r1),
      });
    }
    if (c.id.endsWith("q8_0") || c.id.endsWith("q4_0")) {
      emit({ model: c.id, backend, case: "decode_weight_bandwidth", weight_mib: r1(r.weightBytes / 1048576), gb_per_s: r1((r.weightBytes * r.decode) / 1e9) });
    }
  }
}
