/**
 * Merged q/k/v and gate/up projections (decoder-weights.ts, on a backend with splitColumns and
 * siluAndMul / geluAndMul) against the same model loaded as separate linears: the Q8_0 products
 * give the same bits (their kernels compute each output column alone), f32 within summation order;
 * every architecture's wiring (fused phi3 tensors, q/k/v biases, GeGLU) included.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CpuBackend } from "../../plugins/backend/cpu/index.ts";
import { ggufQuantPlugin } from "../../plugins/quant/gguf/index.ts";
import { int8QuantPlugin } from "../../plugins/quant/int8/index.ts";
import { writeTinyArchGGUF } from "../../src/model/random-arch-model.ts";
import { TINY_ARCHS } from "../../src/model/tiny-arch-shapes.ts";
import type { Backend, QuantPlugin } from "../../src/plugin/types.ts";
import { directModel } from "../helpers/direct-model.ts";
import { readGolden } from "../helpers/golden.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";
import { maxAbsDiff } from "./arch-helpers.ts";

/** The backend without the merged-projection ops: the model then loads separate linears. */
function withoutMerging(b: CpuBackend): Backend {
  const ops = { ...b.ops, splitColumns: undefined, siluAndMul: undefined, geluAndMul: undefined };
  return Object.create(b, { ops: { value: ops } }) as Backend;
}

/** Whether the loaded model's first layer has merged q/k/v and gate/up. */
function mergedLayers(model: unknown): [boolean, boolean] {
  const l = (model as { layers: Array<{ qkv: { merged: unknown }; gateUp: { merged: unknown } }> }).layers[0]!;
  return [l.qkv.merged !== null, l.gateUp.merged !== null];
}

const backends: CpuBackend[] = [];

async function bothWays(path: string, threads: number, quant?: QuantPlugin) {
  const a = new CpuBackend({ threads }), b = new CpuBackend({ threads });
  backends.push(a, b);
  const merged = await directModel(path, { backend: a, ...(quant ? { quant } : {}) });
  const separate = await directModel(path, { backend: withoutMerging(b), ...(quant ? { quant } : {}) });
  expect(mergedLayers(merged.model)).toEqual([true, true]);
  expect(mergedLayers(separate.model)).toEqual([false, false]);
  expect(merged.model.weightBytes).toBe(separate.model.weightBytes);
  return { merged, separate };
}

const dir = tempDir("llm-merged-");
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const b of backends) b.dispose();
});

describe("merged q/k/v and gate/up projections", () => {
  const g = () => readGolden("stories260K_once_upon_a_time");

  for (const threads of [1, 2]) {
    it(`stories260K Q8_0 in place (q8 activations), ${threads} thread(s): the same bits as separate linears, greedy ids included`, async () => {
      const { merged, separate } = await bothWays(modelPath("stories260K", "stories260K-q8_0.gguf"), threads, ggufQuantPlugin);
      const x = await merged.greedy(g().prompt_ids, 12), y = await separate.greedy(g().prompt_ids, 12);
      expect(x.ids).toEqual(y.ids);
      x.logits.forEach((row, i) => expect(Buffer.from(row.buffer).equals(Buffer.from(y.logits[i]!.buffer)), `step ${i}`).toBe(true));
    });
  }

  it("stories260K f32 and int8 (quantized at load): the goldens' ids, logits within 1e-5 of separate linears", async () => {
    for (const quant of [undefined, int8QuantPlugin]) {
      const { merged, separate } = await bothWays(modelPath("stories260K", "stories260K-f32.gguf"), 2, quant);
      const x = await merged.greedy(g().prompt_ids, g().new_tokens_requested), y = await separate.greedy(g().prompt_ids, g().new_tokens_requested);
      expect(x.ids).toEqual(y.ids);
      if (!quant) expect(x.ids).toEqual(g().generated_ids);
      x.logits.forEach((row, i) => expect(maxAbsDiff(row, y.logits[i]!), `${quant?.name ?? "f32"} step ${i}`).toBeLessThanOrEqual(1e-5));
    }
  });

  for (const arch of TINY_ARCHS) {
    it(`${arch}: logits within 1e-5 of separate linears over a prefill and decode steps`, async () => {
      const path = join(dir, `${arch}.gguf`);
      await writeTinyArchGGUF(path, arch, 21);
      const { merged, separate } = await bothWays(path, 1);
      const prompt = [1, 300, 301, 302, 400, 5, 77];
      const x = await merged.greedy(prompt, 4), y = await separate.greedy(prompt, 4);
      expect(x.ids).toEqual(y.ids);
      x.logits.forEach((row, i) => expect(maxAbsDiff(row, y.logits[i]!), `step ${i}`).toBeLessThanOrEqual(1e-5));
    });
  }
});

describe("the output head's buffers", () => {
  it("are sized by the rows that reach the head, not by the step's tokens", async () => {
    const m = await directModel(modelPath("stories260K", "stories260K-f32.gguf"));
    const prompt = Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 500));
    const { logits } = await m.greedy(prompt, 1);
    expect(logits[0]!.length).toBe(m.config.vocabSize);
    const heads = (m.model as unknown as { headWs: { capacity: number } }).headWs;
    expect(heads.capacity).toBe(16);
  });
});
