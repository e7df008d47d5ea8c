/**
 * The webgpu device script: one call on a machine with a GPU (see bench/webgpu-device.sh).
 *  1. the adapter's description and limits;
 *  2. correctness: random-weight models of the "tiny" preset (f32, and q8_0 through gguf) on webgpu
 *     against the cpu backend: logits of a prefill and of greedy decode steps within 1e-4 of the
 *     largest |logit|, and the same greedy ids;
 *  3. speed: decode tok/s (one sequence, one token per step, logits read back each step) and
 *     prefill tok/s (one prompt in one step) on random models of SmolLM2-135M's shape and of a 1B
 *     Llama shape (dim 2048, 16 layers, 32 heads, 8 KV heads, FFN 8192, vocab 128256), f32 and q8_0.
 * One JSON line per result on stdout; progress on stderr. Models are generated once into --out.
 *
 * Run: deno run -A --no-check bench/webgpu-device.ts [--models smollm2-135m:f32,llama-1b:q8_0] [--quick]
 *      (or: npx tsx bench/webgpu-device.ts ..., Node with the webgpu package; LLM_WEBGPU_DAWN=backend=vulkan)
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadCheckpoint } from "../src/loader/load-checkpoint.ts";
import { attentionShapeOf } from "../src/model/attention-shape.ts";
import { LlamaModel } from "../src/model/llama.ts";
import { RANDOM_MODEL_PRESETS, writeRandomModel, type RandomWeightType } from "../src/model/random-model.ts";
import { architectureOf } from "../src/model/registry.ts";
import type { AttentionImpl, Backend, KVCache, QuantPlugin } from "../src/plugin/types.ts";
import { singleRequestInput } from "../src/runner/model-input.ts";
import { cpuBackendPlugin } from "../plugins/backend/cpu/index.ts";
import { WebGpuBackend } from "../plugins/backend/webgpu/backend.ts";
import { pagedAttentionPlugin } from "../plugins/attention/paged/index.ts";
import { noneQuantPlugin } from "../plugins/quant/none/index.ts";
import { ggufQuantPlugin } from "../plugins/quant/gguf/index.ts";

const { values: flags } = parseArgs({
  options: {
    models: { type: "string", default: "smollm2-135m:f32,smollm2-135m:q8_0,llama-1b:q8_0,llama-1b:f32" },
    out: { type: "string", default: join(tmpdir(), "llm-webgpu-bench") },
    "decode-steps": { type: "string", default: "64" },
    "prefill-len": { type: "string", default: "512" },
    quick: { type: "boolean", default: false },
    "skip-correctness": { type: "boolean", default: false },
  },
});
const quick = flags.quick === true;
// --quick: the dry run on a CPU driver (lavapipe/llvmpipe run a 135M-shape step in seconds).
const decodeSteps = quick ? 4 : Number(flags["decode-steps"]);
const prefillLen = quick ? 40 : Number(flags["prefill-len"]);
const prefillRuns = quick ? 1 : 3;
const runtime = (globalThis as { Deno?: unknown }).Deno ? "deno" : (globalThis as { Bun?: unknown }).Bun ? "bun" : "node";
const log = (s: string) => process.stderr.write(`bench/webgpu-device: ${s}\n`);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ bench: "webgpu-device", runtime, ...o }) + "\n");

/** The random model file `preset-type.gguf` in --out, generated on first use. */
async function modelFile(preset: string, type: RandomWeightType): Promise<string> {
  const shape = RANDOM_MODEL_PRESETS[preset];
  if (!shape) throw new Error(`unknown preset "${preset}"; available: ${Object.keys(RANDOM_MODEL_PRESETS).join(", ")}`);
  mkdirSync(flags.out!, { recursive: true });
  const path = join(flags.out!, `${preset}-${type}.gguf`);
  if (!existsSync(path)) {
    const t0 = performance.now();
    const { bytes } = await writeRandomModel(path, { shape, type, seed: 0, name: `random-${preset}-${type}` });
    log(`generated ${path} (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return path;
}

interface Loaded { model: LlamaModel; attn: AttentionImpl; cache: KVCache; backend: Backend; vocab: number; blocks: number[]; bs: number }

async function load(path: string, backend: Backend, quant: QuantPlugin, maxLen: number): Promise<Loaded> {
  const ck = await loadCheckpoint(path);
  const vocab = ck.tensors.get("token_embd.weight")!.dims[1]!;
  const config = architectureOf(ck).config(ck, vocab);
  const reasons = [...pagedAttentionPlugin.check(attentionShapeOf(config), backend), ...quant.check(backend, [...ck.tensors.values()])];
  if (reasons.length) throw new Error(reasons.join("; "));
  const model = LlamaModel.load(ck, config, backend, quant, maxLen);
  const attn = pagedAttentionPlugin.create(attentionShapeOf(config), backend);
  const bs = 16;
  const cache = attn.allocateKvCache(Math.ceil(maxLen / bs) + 1, bs);
  return { model, attn, cache, backend, vocab, bs, blocks: Array.from({ length: Math.ceil(maxLen / bs) }, (_, i) => i + 1) };
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Prefill `prompt`, then `steps` greedy decode steps; returns ids, logits rows and the decode time. */
async function greedy(m: Loaded, prompt: number[], steps: number): Promise<{ ids: number[]; rows: Float32Array[]; prefillMs: number; decodeMs: number }> {
  const ids: number[] = [], rows: Float32Array[] = [];
  let t0 = performance.now();
  let out = m.model.forward(singleRequestInput(prompt, 0, m.blocks, m.bs), m.attn, m.cache);
  let row = (await m.backend.read(out, m.vocab)) as Float32Array;
  const prefillMs = performance.now() - t0;
  rows.push(row);
  ids.push(argmax(row));
  t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    out = m.model.forward(singleRequestInput([ids[ids.length - 1]!], prompt.length + s, m.blocks, m.bs), m.attn, m.cache);
    row = (await m.backend.read(out, m.vocab)) as Float32Array;
    rows.push(row);
    ids.push(argmax(row));
  }
  return { ids, rows, prefillMs, decodeMs: performance.now() - t0 };
}

function promptOf(len: number, vocab: number, seed: number): number[] {
  return Array.from({ length: len }, (_, i) => 3 + ((i * 7919 + seed * 104729) % (vocab - 3)));
}

const gpu = await WebGpuBackend.create();
emit({ kind: "adapter", device: gpu.device, shaderF16: gpu.hasF16, maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize });

if (!flags["skip-correctness"]) {
  for (const [type, quant] of [["f32", noneQuantPlugin], ["q8_0", ggufQuantPlugin]] as const) {
    const path = await modelFile("tiny", type);
    // The reference is the cpu backend on the same weights widened to f32 (quant none): its own
    // Q8_0 kernels quantize activations to 8 bits, the GPU's keep them f32.
    const cpu = await load(path, await cpuBackendPlugin.create({}), noneQuantPlugin, 128);
    const gm = await load(path, gpu, quant, 128);
    const prompt = promptOf(24, cpu.vocab, 1);
    const a = await greedy(gm, prompt, 8), b = await greedy(cpu, prompt, 8);
    let diff = 0, scale = 1e-30;
    // Compare the rows both runs computed from the same inputs (up to the first differing id).
    for (let r = 0; r < a.rows.length; r++) {
      for (let i = 0; i < cpu.vocab; i++) { diff = Math.max(diff, Math.abs(a.rows[r]![i]! - b.rows[r]![i]!)); scale = Math.max(scale, Math.abs(b.rows[r]![i]!)); }
      if (a.ids[r] !== b.ids[r]) break;
    }
    const rel = diff / scale;
    const idsMatch = a.ids.join() === b.ids.join();
    emit({ kind: "correctness", model: `tiny-${type}`, maxAbsDiff: diff, relDiff: rel, tolerance: 1e-4, idsMatch, pass: idsMatch && rel <= 1e-4 });
    cpu.backend.dispose();
  }
}

for (const item of flags.models!.split(",").filter(Boolean)) {
  const [preset, type = "f32"] = item.split(":") as [string, RandomWeightType | undefined];
  const name = `${preset}-${type}`;
  let m: Loaded;
  // A device per model: dispose() frees its weights, cache and workspace at once.
  const dev = await WebGpuBackend.create();
  try {
    const path = await modelFile(preset, type as RandomWeightType);
    const t0 = performance.now();
    m = await load(path, dev, type === "q8_0" ? ggufQuantPlugin : noneQuantPlugin, Math.max(1024, prefillLen + decodeSteps + 32));
    log(`${name}: loaded onto the GPU in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(dev.allocatedBytes() / 2 ** 20).toFixed(0)} MiB)`);
  } catch (e) {
    emit({ kind: "skipped", model: name, reason: (e as Error).message });
    dev.dispose();
    continue;
  }
  // Warm-up compiles the pipelines of both paths (tiled prefill, matrix-vector decode).
  await greedy(m, promptOf(16, m.vocab, 2), 2);
  const dec = await greedy(m, promptOf(16, m.vocab, 3), decodeSteps);
  emit({ kind: "decode", model: name, steps: decodeSteps, tokPerSec: decodeSteps / (dec.decodeMs / 1000), msPerToken: dec.decodeMs / decodeSteps, logitsReadBack: true });
  const times: number[] = [];
  for (let r = 0; r < prefillRuns; r++) times.push((await greedy(m, promptOf(prefillLen, m.vocab, 10 + r), 0)).prefillMs);
  times.sort((x, y) => x - y);
  const median = times[times.length >> 1]!;
  emit({ kind: "prefill", model: name, tokens: prefillLen, tokPerSec: prefillLen / (median / 1000), msMedian: median, runs: prefillRuns });
  dev.dispose();
}
gpu.dispose();
