/**
 * Flex attention on webgpu: every mod case of the cpu flex suite (built-in mods, and/or
 * combinators, a closure mod with params, models.yaml string expressions), compiled to WGSL and run
 * over the GPU-resident paged cache, against the fp64 dense reference with the same mods.
 * Tolerance 1e-5 x max|V| (the conformance suite's); seeds printed on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFlexPlugin, flexAttentionPlugin, maskMod, scoreMod } from "../../../../plugins/attention/flex/index.ts";
import { maskClosure, scoreClosure } from "../../../../plugins/attention/flex/mods.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { buildCase, maxError, shapeOf } from "../../attention/cases.ts";
import { denseAttention } from "../../attention/dense-reference.ts";
import { CASES } from "../../attention/flex-cases.ts";
import { randomSpec } from "../../attention/random-spec.ts";
import { openWebGpu, runAttentionOnGpu, webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("flex-attention.test.ts");
const TOL = 1e-5;
const SEEDS = Array.from({ length: 4 }, (_, i) => 2000 + i);

describe.skipIf(skip !== null)("flex attention on webgpu against fp64 dense attention with the same mods", () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => { gpu = await openWebGpu(); });
  afterAll(() => gpu?.dispose());

  for (const mc of CASES) {
    it(`${mc.name}: createFlexPlugin(mods)${mc.yaml ? " and models.yaml options" : ""}, ${SEEDS.length} seeds`, async () => {
      const failures: string[] = [];
      for (const seed of SEEDS) {
        const spec = randomSpec(seed);
        const c = buildCase(spec, seed);
        const mods = mc.make(spec);
        const ref = denseAttention(c.dense, {
          ...c.shape, causal: false, slidingWindow: null, logitsSoftCap: null,
          ...(mods.mask ? { maskMod: maskClosure(mods.mask) } : {}), ...(mods.score ? { scoreMod: scoreClosure(mods.score) } : {}),
        });
        const direct = createFlexPlugin({ name: "flex-gpu-test", causal: false, ...(mods.mask ? { maskMod: mods.mask } : {}), ...(mods.score ? { scoreMod: mods.score } : {}) });
        expect(direct.check(c.shape, gpu)).toEqual([]);
        const err = maxError(c, await runAttentionOnGpu(gpu, direct, c, c.shape), ref);
        if (!(err <= TOL)) failures.push(`seed ${seed} direct: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
        if (mc.yaml) {
          const shape = shapeOf(spec, mc.yaml(spec));
          const reasons = flexAttentionPlugin.check(shape, gpu);
          if (reasons.length) { failures.push(`seed ${seed} yaml refused: ${reasons.join("; ")}`); continue; }
          const e2 = maxError(c, await runAttentionOnGpu(gpu, flexAttentionPlugin, c, shape), ref);
          if (!(e2 <= TOL)) failures.push(`seed ${seed} yaml: error ${e2.toExponential(2)} for ${JSON.stringify(spec)}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it("the model's sliding window and soft-cap (folded into the mods) match dense attention", async () => {
    const failures: string[] = [];
    for (const seed of [1000, 1001, 1002, 1005, 1007]) {
      const spec = randomSpec(seed, { window: true, softCap: true });
      const c = buildCase(spec, seed);
      const shape = shapeOf(spec);
      expect(flexAttentionPlugin.check(shape, gpu)).toEqual([]);
      const ref = denseAttention(c.dense, { ...shape, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: spec.logitsSoftCap ?? null });
      const err = maxError(c, await runAttentionOnGpu(gpu, flexAttentionPlugin, c, shape), ref);
      if (!(err <= TOL)) failures.push(`seed ${seed}: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
    }
    expect(failures).toEqual([]);
  });

  it("refuses, with the mod and the reason, what WGSL cannot express; the cpu still runs it", () => {
    const shape = shapeOf(randomSpec(1));
    const opaque = createFlexPlugin({ name: "opaque", maskMod: maskMod((b, h, q, kv) => [q, kv].includes(3), {}, "listy") });
    expect(opaque.check(shape, gpu).join()).toMatch(/flex mod 'listy' cannot be compiled to WGSL: .*\[/);
    const table = new Float64Array([0.5, 0.25]);
    const method = createFlexPlugin({ name: "method", scoreMod: scoreMod((score) => score + table.at(-1)!, { table }, "at") });
    expect(method.check(shape, gpu).join()).toMatch(/flex mod 'at' cannot be compiled to WGSL: property '.at' is not allowed/);
    const mixed = createFlexPlugin({ name: "mixed", scoreMod: scoreMod("score + (q_idx > kv_idx)") });
    expect(mixed.check(shape, gpu).join()).toMatch(/'\+' needs a number, got a boolean/);
    expect(method.check(shape, { name: "cpu" } as never)).toEqual([]); // runs there as a call per element
    expect(flexAttentionPlugin.check({ ...shape, headDim: 512 }, gpu).join()).toMatch(/head size up to 256/);
    expect(flexAttentionPlugin.check(shapeOf(randomSpec(1), { mask_mod: "ids[q_idx] == 1" }), gpu).join()).toMatch(/unknown name 'ids'/);
  });
});
