/**
 * PagedAttention on webgpu (KV cache resident on the GPU) against the fp64 dense attention of the
 * attention conformance suite, over its random steps (decode, prefill, chunked prefill, shared
 * prefixes, sliding windows, soft-caps, head dims 32..128, block sizes 1..32). Tolerance: 1e-5 x
 * max|V|, the suite's. Fewer seeds than the cpu suite: llvmpipe is slow.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pagedAttentionPlugin } from "../../../../plugins/attention/paged/index.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import type { AttentionShape } from "../../../../src/plugin/types.ts";
import { buildCase, maxError, shapeOf } from "../../attention/cases.ts";
import { denseAttention } from "../../attention/dense-reference.ts";
import { randomSpec } from "../../attention/random-spec.ts";
import { openWebGpu, runAttentionOnGpu, webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("paged-attention.test.ts");
const TOL = 1e-5;
const SEEDS = Array.from({ length: 16 }, (_, i) => 1000 + i);

describe.skipIf(skip !== null)("paged attention on webgpu against fp64 dense attention", () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => { gpu = await openWebGpu(); });
  afterAll(() => gpu?.dispose());

  it(`${SEEDS.length} random steps within ${TOL} x max|V|`, async () => {
    const failures: string[] = [];
    let worst = 0;
    for (const seed of SEEDS) {
      const spec = randomSpec(seed, { window: true, softCap: true });
      const c = buildCase(spec, seed);
      const shape = shapeOf(spec);
      expect(pagedAttentionPlugin.check(shape, gpu)).toEqual([]);
      const got = await runAttentionOnGpu(gpu, pagedAttentionPlugin, c, shape);
      const ref = denseAttention(c.dense, { ...shape, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: spec.logitsSoftCap ?? null });
      const err = maxError(c, got, ref);
      worst = Math.max(worst, err);
      if (!(err <= TOL)) failures.push(`seed ${seed}: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
    }
    expect(failures, `worst ${worst.toExponential(2)}`).toEqual([]);
  });

  it("per-layer sliding windows pick the layer's window", async () => {
    const spec = { ...randomSpec(1003), slidingWindow: 3 };
    const c = buildCase(spec, 1003);
    const shape: AttentionShape = { ...shapeOf(spec), slidingWindow: null, layerSlidingWindows: [null, 3] };
    const got = await runAttentionOnGpu(gpu, pagedAttentionPlugin, c, shape);
    const ref = denseAttention(c.dense, { ...shapeOf(spec), causal: true, slidingWindow: 3, logitsSoftCap: null });
    expect(maxError(c, got, ref)).toBeLessThanOrEqual(TOL);
  });

  it("refuses what it cannot run on webgpu, with the reason; flashinfer refuses webgpu", async () => {
    const shape = shapeOf(randomSpec(1));
    expect(pagedAttentionPlugin.check({ ...shape, kvCacheDtype: "int8" }, gpu).join()).toMatch(/f32 KV cache only/);
    expect(pagedAttentionPlugin.check({ ...shape, headDim: 512 }, gpu).join()).toMatch(/head size up to 256/);
    const { flashInferAttentionPlugin } = await import("../../../../plugins/attention/flashinfer/index.ts");
    expect(flashInferAttentionPlugin.check(shape, gpu).join()).toMatch(/webgpu/);
  });
});
