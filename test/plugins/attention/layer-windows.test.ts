import { describe, expect, it } from "vitest";
import { pagedAttentionPlugin } from "../../../plugins/attention/paged/index.ts";
import { buildCase, maxError, runCase, shapeOf } from "./cases.ts";
import { denseAttention } from "./dense-reference.ts";
import { randomSpec } from "./random-spec.ts";

const TOL = 1e-5;

/** Per-layer sliding windows (Gemma's local/global layers): the case runs on layer 1 of 2. */
describe("paged attention: per-layer sliding windows and soft-cap", () => {
  for (const seed of [3, 11, 29]) {
    it(`seed ${seed}: layer 1 uses its own window, not layer 0's or the global one`, async () => {
      const { slidingWindow: _w, ...rest } = randomSpec(seed);
      const spec = { ...rest, logitsSoftCap: 2 };
      const c = buildCase(spec, seed);
      const base = shapeOf(spec);
      const maxLen = Math.max(...c.dense.map((d) => d.seqLen));
      for (const [layerWindows, effective] of [[[null, 3], 3], [[3, null], null], [[1, 5], 5]] as const) {
        const shape = { ...base, slidingWindow: 7, layerSlidingWindows: [...layerWindows] };
        const got = await runCase(pagedAttentionPlugin, c, shape);
        const ref = denseAttention(c.dense, { ...shape, causal: true, slidingWindow: effective, logitsSoftCap: 2 });
        expect(maxError(c, got, ref), JSON.stringify(layerWindows)).toBeLessThanOrEqual(TOL);
        if (maxLen > 4 && effective === 3) {
          // The window matters for this case: full attention differs.
          const full = denseAttention(c.dense, { ...shape, causal: true, slidingWindow: null, logitsSoftCap: 2 });
          expect(maxError(c, got, full)).toBeGreaterThan(1e-3);
        }
      }
    });
  }

  it("refuses a per-layer list of the wrong length", async () => {
    const shape = { ...shapeOf(randomSpec(1)), layerSlidingWindows: [4] };
    const { cpuBackendPlugin } = await import("../../../plugins/backend/cpu/index.ts");
    expect(pagedAttentionPlugin.check(shape, await cpuBackendPlugin.create({})).join()).toMatch(/1 entries for 2 layers/);
  });
});
