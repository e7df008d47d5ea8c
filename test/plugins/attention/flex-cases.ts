/** The flex mod cases the cpu (flex-mods.test.ts) and webgpu (webgpu/flex-attention.test.ts) suites share. */
import {
  alibi, and, causal, documentMask, maskMod, or, prefixLm, relativePositionBias, scoreMod, slidingWindow, tanhSoftCap,
  type MaskMod, type ScoreMod,
} from "../../../plugins/attention/flex/index.ts";
import type { CaseSpec } from "./cases.ts";

export interface ModCase {
  name: string;
  make(spec: CaseSpec): { score?: ScoreMod; mask?: MaskMod };
  /** models.yaml form for the built-in flex plugin (causal is and-ed in by the plugin). */
  yaml?(spec: CaseSpec): Record<string, unknown>;
}

const docIds = Array.from({ length: 256 }, (_, p) => Math.floor(p / 7) + (p % 13 === 0 ? 1 : 0));
const relBias = Array.from({ length: 9 }, (_, i) => Math.sin(i) * 0.7);

export const CASES: ModCase[] = [
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
