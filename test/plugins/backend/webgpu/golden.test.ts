/**
 * stories260K end to end on webgpu: the engine (scheduler, chunked prefill, paged KV cache on the
 * GPU) reproduces run.c goldens' greedy token ids with four goldens batched together, one
 * command buffer per steady-state step; the logits agree with the goldens' within 1e-4; the Q8_0
 * file through gguf (kept quantized on the GPU) gives the greedy ids of its weights dequantized to
 * f32, on webgpu and on the cpu backend.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { resolveModelSpec } from "../../../../src/config/model-spec.ts";
import { readModelRegistry } from "../../../../src/config/models-dir.ts";
import { LLMEngine } from "../../../../src/engine/llm-engine.ts";
import { loadModel, type LoadedModel } from "../../../../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../../../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../../../src/plugin/registry.ts";
import { singleRequestInput } from "../../../../src/runner/model-input.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { goldenNames, readGolden } from "../../../helpers/golden.ts";
import { REPO_ROOT, testModelsDir } from "../../../helpers/models-dir.ts";
import { webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("golden.test.ts");
/** Four of the eight goldens (llvmpipe runs a stories260K step in about 60 ms: CI time). */
const GOLDENS = ["stories260K_bos_only", "stories260K_once_upon_a_time", "stories260K_the_cat", "stories260K_one_day_tim"];

async function load(id: string, backend: string, maxModelLen?: number, quant?: string, attention?: string): Promise<LoadedModel> {
  const spec = resolveModelSpec(id, readModelRegistry(join(REPO_ROOT, "models.yaml")), testModelsDir());
  const plugins = { backend, ...(quant ? { quant } : {}), ...(attention ? { attention } : {}) };
  return loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS), { plugins, ...(maxModelLen ? { maxModelLen } : {}) });
}

async function run(engine: LLMEngine, reqs: Array<{ id: string; prompt: number[]; maxTokens: number; at?: number }>, onStep?: () => void): Promise<Map<string, number[]>> {
  const got = new Map<string, number[]>(reqs.map((r) => [r.id, []]));
  for (let step = 0; step < 5000; step++) {
    for (const r of reqs) if ((r.at ?? 0) === step) engine.addRequest(r.id, r.prompt, { temperature: 0, maxTokens: r.maxTokens, ignoreEos: true, stopTokenIds: [1] });
    for (const o of await engine.step()) got.get(o.requestId)!.push(...o.outputs[0]!.tokenIds);
    onStep?.();
    if (step > Math.max(...reqs.map((r) => r.at ?? 0)) && !engine.hasUnfinishedRequests()) break;
  }
  return got;
}

describe.skipIf(skip !== null)("stories260K on webgpu against the run.c goldens", () => {
  it("the goldens' greedy ids, batched (chunked prefill, block size 4); one submit per steady step", async () => {
    const loaded = await load("stories260k", "webgpu");
    expect(loaded.selection.backend.name).toBe("webgpu");
    expect(loaded.selection.attention.name).toBe("paged");
    const gpu = loaded.selection.backend as WebGpuBackend;
    const engine = new LLMEngine(loaded, { blockSize: 4, maxNumBatchedTokens: 48 });
    const goldens = GOLDENS.map(readGolden);
    const perStep: number[] = [];
    let last = gpu.submits;
    const got = await run(engine, goldens.map((g, i) => ({ id: g.name, prompt: g.prompt_ids, maxTokens: g.new_tokens_requested, at: i })), () => {
      perStep.push(gpu.submits - last);
      last = gpu.submits;
    });
    for (const g of goldens) expect(got.get(g.name), g.name).toEqual(g.generated_ids);
    // After warm-up (workspace and cache allocation), a step is exactly one command buffer.
    const steady = perStep.slice(perStep.length >> 1);
    expect(Math.max(...steady)).toBe(1);
    gpu.dispose();
  });

  it("logits at the goldens' recorded positions within 1e-4", async () => {
    const loaded = await load("stories260k", "webgpu", 256);
    const { model, attention, config } = loaded;
    const gpu = loaded.selection.backend as WebGpuBackend;
    const bs = 16;
    const cache = attention.allocateKvCache(256 / bs + 1, bs);
    const blocks = Array.from({ length: 256 / bs }, (_, i) => i + 1);
    let worst = 0, checked = 0;
    for (const g of goldenNames().map(readGolden).filter((x) => x.logits?.length)) {
      const seq = [...g.prompt_ids, ...g.generated_ids];
      for (const ref of g.logits!) {
        // Prefill the prompt and generated tokens up to ref.pos in one chunk; its last row predicts ref.pos + 1.
        const out = model.forward(singleRequestInput(seq.slice(0, ref.pos + 1), 0, blocks, bs), attention, cache);
        const row = (await gpu.read(out, config.vocabSize)) as Float32Array;
        for (let i = 0; i < ref.values.length; i++) worst = Math.max(worst, Math.abs(row[i]! - ref.values[i]!));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(worst).toBeLessThan(1e-4);
    gpu.dispose();
  });

  it("Q8_0 through gguf, kept quantized on the GPU: the greedy ids of its dequantized f32 weights on webgpu and on cpu", async () => {
    const g = readGolden("stories260K_one_day_tim");
    const results = new Map<string, number[]>();
    for (const [backend, quant] of [["webgpu", "gguf"], ["webgpu", "none"], ["cpu", "none"]] as const) {
      const loaded = await load("stories260k-q8_0", backend, undefined, quant);
      expect(loaded.selection.quant.name).toBe(quant);
      const got = await run(new LLMEngine(loaded, { blockSize: 16 }), [{ id: "q", prompt: g.prompt_ids, maxTokens: 40 }]);
      results.set(`${backend}/${quant}`, got.get("q")!);
      loaded.selection.backend.dispose();
    }
    expect(results.get("webgpu/gguf"), "Q8_0 kernels vs f32 kernels on webgpu").toEqual(results.get("webgpu/none"));
    expect(results.get("webgpu/none"), "webgpu vs cpu on the same f32 weights").toEqual(results.get("cpu/none"));
  });

  it("flex attention (its causal mask compiled to WGSL) reproduces the goldens' greedy ids, batched", async () => {
    const loaded = await load("stories260k", "webgpu", undefined, undefined, "flex");
    expect(loaded.selection.attention.name).toBe("flex");
    const goldens = GOLDENS.slice(0, 2).map(readGolden);
    const got = await run(new LLMEngine(loaded, { blockSize: 8, maxNumBatchedTokens: 32 }), goldens.map((g, i) => ({ id: g.name, prompt: g.prompt_ids, maxTokens: g.new_tokens_requested, at: i })));
    for (const g of goldens) expect(got.get(g.name), g.name).toEqual(g.generated_ids);
    loaded.selection.backend.dispose();
  });
});
