/**
 * Flex with every built-in mod (and the and/or combinators, a custom closure mod, string
 * expressions) against the fp64 dense reference with the same mod, over random shapes and steps.
 * Same tolerance as the conformance suite; seeds printed on failure.
 */
import { describe, expect, it } from "vitest";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { createFlexPlugin, flexAttentionPlugin } from "../../../plugins/attention/flex/index.ts";
import { maskClosure, scoreClosure } from "../../../plugins/attention/flex/mods.ts";
import { buildCase, maxError, runCase, shapeOf } from "./cases.ts";
import { CASES } from "./flex-cases.ts";
import { denseAttention } from "./dense-reference.ts";
import { randomSpec } from "./random-spec.ts";

const TOL = 1e-5;
const SEEDS = Array.from({ length: 12 }, (_, i) => 2000 + i);

describe("flex: every built-in mod against dense attention with the same mod", () => {
  const backend = cpuBackendPlugin.create({});
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
        const direct = createFlexPlugin({ name: "flex-test", causal: false, ...(mods.mask ? { maskMod: mods.mask } : {}), ...(mods.score ? { scoreMod: mods.score } : {}) });
        const err = maxError(c, await runCase(direct, c), ref);
        if (!(err <= TOL)) failures.push(`seed ${seed} direct: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
        if (mc.yaml) {
          const shape = shapeOf(spec, mc.yaml(spec));
          const reasons = flexAttentionPlugin.check(shape, await backend);
          if (reasons.length) { failures.push(`seed ${seed} yaml refused: ${reasons.join("; ")}`); continue; }
          const e2 = maxError(c, await runCase(flexAttentionPlugin, c, shape), ref);
          if (!(e2 <= TOL)) failures.push(`seed ${seed} yaml: error ${e2.toExponential(2)} for ${JSON.stringify(spec)}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it("every built-in mod is inlined into the kernel (no call per element) on this runtime", () => {
    const spec = randomSpec(1);
    for (const mc of CASES) {
      const mods = mc.make(spec);
      const impl = createFlexPlugin({ causal: false, ...(mods.mask ? { maskMod: mods.mask } : {}), ...(mods.score ? { scoreMod: mods.score } : {}) })
        .create(shapeOf(spec), { name: "cpu" } as never) as unknown as { kernel: { notes: string[]; source: string } };
      expect(impl.kernel.notes, mc.name).toEqual([]);
      expect(impl.kernel.source, mc.name).not.toContain("F[");
    }
  });

  it("the built-in flex refuses prefix_lm from models.yaml (it needs later positions) and names unknown mods", async () => {
    const b = await backend;
    const spec = randomSpec(3);
    expect(flexAttentionPlugin.check(shapeOf(spec, { mod: "prefix_lm", prefix_len: 4 }), b).join()).toMatch(/prefix_lm attends to later positions/);
    expect(flexAttentionPlugin.check(shapeOf(spec, { mod: "slidng_window", window: 4 }), b).join()).toMatch(/unknown mod "slidng_window"; available: causal, sliding_window/);
    expect(flexAttentionPlugin.check(shapeOf(spec, { mod: "sliding_window", widow: 4 }), b).join()).toMatch(/no parameter 'widow'; accepted: window/);
    expect(flexAttentionPlugin.check(shapeOf(spec, { score_mod: "score + fetch(1)" }), b).join()).toMatch(/unknown name 'fetch'/);
    expect(flexAttentionPlugin.check(shapeOf(spec, { mask_mod: "q_idx = 3" }), b).join()).toMatch(/unexpected character '='/);
  });
});
