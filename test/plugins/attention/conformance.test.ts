/**
 * Every attention plugin in the builtin list against an fp64 dense attention, over random shapes
 * (head counts, GQA ratios, head dims 32..128, block sizes 1..32, ragged lengths on and around
 * block boundaries, decode / prefill / chunked-prefill mixes, shared prefixes on shared blocks,
 * sliding windows, soft-caps). Tolerance: |out - ref| <= 1e-5 x max|V| (f32 inputs; outputs are
 * convex mixes of V rows). Seeds are fixed and printed with every failure.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_PLUGINS } from "../../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../../src/plugin/registry.ts";
import type { AttentionPlugin } from "../../../src/plugin/types.ts";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { buildCase, maxError, runCase, shapeOf } from "./cases.ts";
import { denseAttention } from "./dense-reference.ts";
import { randomSpec } from "./random-spec.ts";

const TOL = 1e-5;
const SEEDS = Array.from({ length: 40 }, (_, i) => 1000 + i);
const NAMES = BUILTIN_PLUGINS.filter((e) => e.kind === "attention").map((e) => e.name);

/** Option variants that drive other code paths of a plugin (split-KV, lanes, cascade off). */
const VARIANTS: Record<string, Array<Record<string, unknown> | undefined>> = {
  flashinfer: [undefined, { kv_chunk_size: 8 }, { num_workers: 4, min_kv_chunk_size: 1 }, { cascade: false, kv_chunk_size: 1 }],
};

/** Features a plugin may refuse (with a reason); refusing anything else fails the suite. */
const MAY_REFUSE: Record<string, Array<"softCap">> = {};

async function plugin(name: string): Promise<AttentionPlugin> {
  return PluginRegistry.withBuiltins(BUILTIN_PLUGINS).get("attention", name);
}

describe("attention conformance: every builtin plugin against fp64 dense attention", () => {
  it("the builtin list has the three attention plugins", () => {
    expect(NAMES).toEqual(expect.arrayContaining(["paged", "flashinfer", "flex"]));
  });

  it("a plugin that cannot honour a shape refuses it with a reason (8-bit or f16 KV cache, per-layer windows: flashinfer and flex)", async () => {
    const backend = await cpuBackendPlugin.create({});
    for (const kvCacheDtype of ["int8", "f16"] as const) {
      const shape = { ...shapeOf(randomSpec(1)), kvCacheDtype };
      for (const name of ["flashinfer", "flex"]) expect((await plugin(name)).check(shape, backend).join()).toMatch(new RegExp(`f32 KV cache; kv cache dtype ${kvCacheDtype} is not supported \\(paged has it\\)`));
    }
    const perLayer = { ...shapeOf(randomSpec(1)), layerSlidingWindows: [4, null] };
    for (const name of ["flashinfer", "flex"]) expect((await plugin(name)).check(perLayer, backend).join()).toMatch(/per-layer windows .* not supported/);
    expect((await plugin("paged")).check(perLayer, backend)).toEqual([]);
  });

  for (const name of NAMES) {
    for (const options of VARIANTS[name] ?? [undefined]) {
      it(`${name}${options ? " " + JSON.stringify(options) : ""}: ${SEEDS.length} random steps within ${TOL} x max|V|`, async () => {
        const p = await plugin(name);
        const backend = await cpuBackendPlugin.create({});
        const failures: string[] = [];
        let worst = 0, ran = 0;
        for (const seed of SEEDS) {
          const spec = randomSpec(seed, { window: true, softCap: true });
          const c = buildCase(spec, seed);
          const shape = shapeOf(spec, options);
          const reasons = p.check(shape, backend);
          if (reasons.length) {
            const allowed = (MAY_REFUSE[name] ?? []).some((f) => f === "softCap" && spec.logitsSoftCap);
            if (!allowed) failures.push(`seed ${seed}: refused ${JSON.stringify(spec)}: ${reasons.join("; ")}`);
            continue;
          }
          const got = await runCase(p, c, shape);
          const ref = denseAttention(c.dense, { ...shape, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: spec.logitsSoftCap ?? null });
          const err = maxError(c, got, ref);
          worst = Math.max(worst, err);
          ran++;
          if (!(err <= TOL)) failures.push(`seed ${seed}: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
        }
        expect(failures, `${name} failures (worst ${worst.toExponential(2)})`).toEqual([]);
        expect(ran).toBeGreaterThan(SEEDS.length / 2);
      });
    }
  }
});
