// The webgpu backend under Deno (navigator.gpu; on a CPU-only machine Mesa's lavapipe Vulkan driver):
// kernels against the cpu backend, paged attention against the cpu plugin, and the CLI reproducing a
// run.c golden with --backend webgpu. Skipped with the reason when no adapter is found, unless
// LLM_REQUIRE_WEBGPU=1 (set by .ci/run), which turns "no adapter" into a failure.
// Run: deno test -A --no-check test/deno/webgpu.deno.ts
import { assertEquals } from "./assert.ts";
import { webgpuBackendPlugin } from "../../plugins/backend/webgpu/index.ts";
import { WebGpuBackend } from "../../plugins/backend/webgpu/backend.ts";
import { CpuBackend } from "../../plugins/backend/cpu/index.ts";
import { pagedAttentionPlugin } from "../../plugins/attention/paged/index.ts";
import { alibi, and, createFlexPlugin, documentMask, slidingWindow } from "../../plugins/attention/flex/index.ts";
import { ggufQuantPlugin } from "../../plugins/quant/gguf/index.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { encodeGgml } from "../../src/quant/ggml/encode.ts";
import { dequantize } from "../../src/loader/gguf/dequantize.ts";
import type { AttentionBatch, Backend, LinearMethod } from "../../src/plugin/types.ts";

const repo = new URL("../../", import.meta.url).pathname;
const modelsDir = Deno.env.get("LLM_MODELS_DIR") ?? `${repo}../shared/models`;
const reasons = await webgpuBackendPlugin.probe();
if (reasons.length && Deno.env.get("LLM_REQUIRE_WEBGPU") === "1") throw new Error(`LLM_REQUIRE_WEBGPU=1 but webgpu cannot run: ${reasons.join("; ")}`);
if (reasons.length) console.log(`webgpu.deno.ts: skipped: ${reasons.join("; ")}`);
const ignore = reasons.length > 0;

function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; }
  return a;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 1e-30;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return a.length === b.length ? d / m : Infinity;
}

Deno.test({ name: "deno webgpu: f32 and Q8_0 matmul (matrix-vector and tiled) match the cpu backend within 1e-5 x max|out|", ignore, fn: async () => {
  const gpu = await WebGpuBackend.create();
  const cpu = new CpuBackend();
  try {
    for (const [n, k, m] of [[1, 96, 37], [13, 64, 70]]) {
      const x = seeded(n * k, n), w = seeded(m * k, m);
      const q8 = encodeGgml(GGMLType.Q8_0, w);
      const tensor = { name: "blk.0.attn_q.weight", type: GGMLType.Q8_0, dims: [k, m], numel: k * m, data: q8 };
      const outs: Float32Array[] = [];
      for (const b of [gpu as Backend, cpu]) {
        const o1 = b.empty([n, m]), o2 = b.empty([n, m]), xt = b.upload(x, [n, k]);
        b.ops.matmul(o1, xt, b.upload(w, [m, k]), n);
        const lin: LinearMethod = ggufQuantPlugin.createLinear({ name: tensor.name, tensor, inFeatures: k, outFeatures: m }, b);
        lin.apply(xt, o2, n);
        outs.push((await b.read(o1)) as Float32Array, (await b.read(o2)) as Float32Array);
      }
      // The GPU's Q8_0 product keeps f32 activations: compare it with the cpu's f32 product over the
      // dequantized weights (the cpu's own Q8_0 kernels quantize activations to 8 bits, as llama.cpp).
      const deqOut = cpu.empty([n, m]);
      cpu.ops.matmul(deqOut, cpu.upload(x, [n, k]), cpu.upload(dequantize(tensor), [m, k]), n);
      const deq = (await cpu.read(deqOut)) as Float32Array;
      assertEquals(relErr(outs[0]!, outs[2]!) <= 1e-5, true, `f32 n=${n}`);
      assertEquals(relErr(outs[1]!, deq) <= 1e-5, true, `q8_0 n=${n}`);
    }
  } finally {
    gpu.dispose();
  }
} });

Deno.test({ name: "deno webgpu: paged attention, and flex with ALiBi + window + document mods compiled to WGSL, match the cpu plugins within 1e-5", ignore, fn: async () => {
  const gpu = await WebGpuBackend.create();
  const cpu = new CpuBackend();
  const shape = { numLayers: 1, numHeads: 4, numKvHeads: 2, headDim: 32, smScale: 1 / Math.sqrt(32), slidingWindow: null };
  const bs = 4, table = [3, 1, 4, 2];
  const batch = (start: number, len: number): AttentionBatch => {
    const positions = Int32Array.from({ length: len }, (_, i) => start + i);
    return {
      numTokens: len, numReqs: 1, queryStartLoc: Int32Array.from([0, len]), seqLens: Int32Array.from([start + len]), positions,
      slotMapping: positions.map((p) => table[Math.floor(p / bs)]! * bs + (p % bs)), blockTables: Int32Array.from(table), maxBlocksPerReq: 4, blockSize: bs,
    };
  };
  const flex = createFlexPlugin({ name: "flex-deno", scoreMod: alibi(4), maskMod: and(slidingWindow(6), documentMask([0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2])) });
  try {
    for (const plugin of [pagedAttentionPlugin, flex]) {
    const outs: Float32Array[] = [];
    for (const b of [gpu as Backend, cpu]) {
      assertEquals(plugin.check(shape, b), [], `${plugin.name} on ${b.name}`);
      const impl = plugin.create(shape, b);
      const cache = impl.allocateKvCache(5, bs);
      for (const [start, len, seed] of [[0, 11, 1], [11, 1, 2]]) {
        const q = b.upload(seeded(len * 128, seed), [len, 128]), k = b.upload(seeded(len * 64, seed + 10), [len, 64]), v = b.upload(seeded(len * 64, seed + 20), [len, 64]);
        const o = b.empty([len, 128]);
        impl.forward(0, q, k, v, cache, impl.plan(batch(start, len)), o);
        outs.push((await b.read(o)) as Float32Array);
      }
    }
    assertEquals(relErr(outs[0]!, outs[2]!) <= 1e-5, true, `${plugin.name} prefill`);
    assertEquals(relErr(outs[1]!, outs[3]!) <= 1e-5, true, `${plugin.name} decode`);
    }
  } finally {
    gpu.dispose();
  }
} });

Deno.test({ name: "deno webgpu: llm run --backend webgpu prints the run.c golden text", ignore, fn: async () => {
  const g = JSON.parse(Deno.readTextFileSync(`${modelsDir}/golden/stories260K_once_upon_a_time.json`));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}bin/llm.js`, "run", "stories260k", g.prompt, "--backend", "webgpu", "--temperature", "0", "-n", "64"],
    env: { LLM_MODELS_DIR: modelsDir }, stdout: "piped", stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assertEquals(out.code, 0, dec.decode(out.stderr));
  assertEquals(dec.decode(out.stdout), g.run_c_stdout + "\n");
} });
