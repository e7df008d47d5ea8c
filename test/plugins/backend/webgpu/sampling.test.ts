/**
 * Greedy sampling on the GPU: the argmax kernel against the cpu sampler's argmax (ties to the lowest
 * id, vocab sizes around the workgroup size), and the engine on webgpu reading back only token ids
 * for greedy requests while a seeded sampling request in the same batch still gets its logits row
 * (and the same tokens as on the cpu backend).
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { resolveModelSpec } from "../../../../src/config/model-spec.ts";
import { readModelRegistry } from "../../../../src/config/models-dir.ts";
import { LLMEngine } from "../../../../src/engine/llm-engine.ts";
import { loadModel } from "../../../../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../../../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../../../src/plugin/registry.ts";
import { argmax } from "../../../../src/sampling/sampler.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { readGolden } from "../../../helpers/golden.ts";
import { REPO_ROOT, testModelsDir } from "../../../helpers/models-dir.ts";
import { openWebGpu, seeded, webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("sampling.test.ts");

describe.skipIf(skip !== null)("greedy sampling on webgpu", () => {
  it("argmaxRows equals the cpu argmax, ties to the lowest id, for vocab sizes around the workgroup size", async () => {
    const gpu = await openWebGpu();
    try {
      for (const vocab of [1, 7, 255, 256, 257, 1000, 32000]) {
        const rows = 5;
        const x = seeded(rows * vocab, vocab, 3);
        // Row 1: the maximum twice (the lower id wins); row 2: all equal (id 0); row 3: maximum last.
        if (vocab > 3) { x[vocab + 2] = 9; x[vocab + vocab - 1] = 9; }
        x.fill(0.5, 2 * vocab, 3 * vocab);
        x[4 * vocab - 1] = 10;
        const ids = gpu.empty([rows], "i32");
        gpu.ops.argmaxRows!(ids, gpu.upload(x, [rows, vocab]), rows);
        const got = Array.from((await gpu.read(ids)) as Int32Array);
        const want = Array.from({ length: rows }, (_, r) => argmax(x.subarray(r * vocab, (r + 1) * vocab)));
        expect(got, `vocab ${vocab}`).toEqual(want);
      }
      expect(() => gpu.ops.argmaxRows!(gpu.empty([2], "i32"), gpu.empty([3, 10]), 3)).toThrow(/3 ids into a tensor of 2/);
    } finally {
      gpu.dispose();
    }
  });

  it("the engine reads back ids for greedy requests and the logits row only for the sampling one; same tokens as the cpu backend", async () => {
    const spec = resolveModelSpec("stories260k", readModelRegistry(join(REPO_ROOT, "models.yaml")), testModelsDir());
    const g = readGolden("stories260K_once_upon_a_time");
    const results = new Map<string, Map<string, number[]>>();
    const readSizes: number[] = [];
    for (const backend of ["webgpu", "cpu"]) {
      const loaded = await loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS), { plugins: { backend } });
      const b = loaded.selection.backend;
      if (backend === "webgpu") {
        const gpu = b as WebGpuBackend;
        const read = gpu.read.bind(gpu);
        gpu.read = (t, count) => { readSizes.push(count ?? -1); return read(t, count); };
      }
      const engine = new LLMEngine(loaded, { blockSize: 8 });
      engine.addRequest("greedy", g.prompt_ids, { temperature: 0, maxTokens: 24, ignoreEos: true });
      engine.addRequest("greedy2", g.prompt_ids.slice(0, 3), { temperature: 0, maxTokens: 24, ignoreEos: true });
      engine.addRequest("sampled", g.prompt_ids, { temperature: 0.8, topK: 40, seed: 7, maxTokens: 24, ignoreEos: true });
      const got = new Map<string, number[]>([["greedy", []], ["greedy2", []], ["sampled", []]]);
      while (engine.hasUnfinishedRequests()) for (const o of await engine.step()) got.get(o.requestId)!.push(...o.outputs[0]!.tokenIds);
      results.set(backend, got);
      b.dispose();
    }
    const vocab = 512;
    expect(results.get("webgpu")!.get("greedy")).toEqual(g.generated_ids.slice(0, 24));
    expect(results.get("webgpu")).toEqual(results.get("cpu"));
    // Every step read the ids (3 rows or fewer) and at most one logits row; never all rows' logits.
    expect(readSizes.length).toBeGreaterThan(0);
    expect(readSizes.every((n) => n <= 3 || n === vocab)).toBe(true);
    expect(readSizes.filter((n) => n === vocab).length).toBe(24);
  });
});
