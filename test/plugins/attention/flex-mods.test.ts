/**
 * Flex with every built-in mod (and the and/or combinators, a custom closure mod, string
 * expressions) against the fp64 dense reference with the same mod, over random shapes and steps.
 * Same tolerance as the conformance suite; seeds printed on failure.
 */
import { describe, expect, it } from "vitest";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import {
  alibi, and, causal, createFlexPlugin, documentMask, flexAttentionPlugin, maskMod, or, prefixLm, relativePositionBias,
  scoreMod, slidingWindow, tanhSoftCap, type MaskMod, type ScoreMod,
} from "../../../plugins/attention/flex/index.ts";
import { maskClosure, scoreClosure } from "../../../plugins/attention/flex/mods.ts";
import { buildCase, maxError, runCase, shapeOf, type CaseSpec } from "./cases.ts";
import { denseAttention } from "./dense-reference.ts";
import { randomSpec } from "./random-spec.ts";

const TOL = 1e-5;
const SEEDS = Array.from({ length: 12 }, (_, i) => 2000 + i);

interface ModCase {
  name: string;
  make(spec: CaseSpec): { score?: ScoreMod; mask?: MaskMod };
  /** models.yaml form for the built-in flex plugin (causal is and-ed in by the plugin). */
  yaml?(spec: CaseSpec): Record<string, unknown>;
}

const docIds = Array.from({ length: 256 }, (_, p) => Math.floor(p / 7) + (p % 13 === 0 ? 1 : 0));
const relBias = Array.from({ length: 9 }, (_, i) => Math.sin(i) * 0.7);

const CASES: ModCase[] = [
  { name: "causal", make: () => ({ mask: causal() }), yaml: () => ({ mod: "causal" }) },
  { name: "sliding window", make: () => ({ mask: and(causal(), slidingWindow(5)) }), yaml: () => ({ mod: "sliding_window", window: 5 }) },
  { name: "prefix-LM", make: () => ({ mask: prefixLm(6) }) },
  { name: "document mask", make: () => ({ mask: and(causal(), documentMask(docIds)) }), yaml: () => ({ mod: "document", document_ids: docIds }) },
  { name: "ALiBi", make: (s) => ({ mask: causal(), score: alibi(s.numHeads) }), yaml: () => ({ mod: "alibi" }) },
  { name: "tanh soft-cap", make: () => ({ mask: causal(), score: tanhSoftCap(0.7) }), yaml: () => ({ mod: "tanh_soft_cap", cap: 0.7 }) },
  { name: "relative position bias", make: () => ({ mask: causal(), score: relativePositionBias(relBias) }), yaml: () => ({ mod: "relative_position_bias", bias: relBias }) },
  {
    name: "or / and combinators with a head-dependent mask",
    make: () => ({ mask: and(causal(), or(slidingWindow(3), maskMod((b, h, qIdx, kvIdx) => (kvIdx + h) % 3 === 0, {}, "strided"))) }),
  },
  {
    name: "custom closure mod with params, and a mods list",
    make: (s) => {
      const slope = 0.11, offset = 1.5;
      return { mask: and(causal(), slidingWindow(9)), score: scoreMod((score, b, h, qIdx, kvIdx) => score - slope * Math.abs(qIdx - kvIdx) + (h % 2 ? offset : 0), { slope, offset }, `penalty(${s.numHeads})`) };
    },
    yaml: () => ({ mods: [{ mod: "sliding_window", window: 9 }], score_mod: "score - slope * abs(q_idx - kv_idx) + (h % 2 ? offset : 0)", params: { slope: 0.11, offset: 1.5 } }),
  },
];

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
