/**
 * Mods named in models.yaml. Under `plugins: { attention: { name: flex, ... } }`:
 *   mod: sliding_window, window: 4096            one built-in mod with its parameters beside it
 *   mods: [{ mod: alibi }, { mod: tanh_soft_cap, cap: 30 }]   several (masks and-ed, score mods in order)
 *   score_mod: "score - slope * abs(q_idx - kv_idx)"   an expression (compiled like a TS mod)
 *   mask_mod: "q_idx - kv_idx < 256"
 *   params: { slope: 0.05 }                      values the expressions use
 *   q_block_size: 16                             query rows per block-mask tile
 */
import type { AttentionShape } from "../../../src/plugin/types.ts";
import { alibi, causal, documentMask, prefixLm, relativePositionBias, slidingWindow, tanhSoftCap } from "./builtins.ts";
import { and, compose, maskMod, scoreMod, type MaskMod, type ModParams, type ScoreMod } from "./mods.ts";

/** A mod that models.yaml can name: its parameter keys and how to build it. */
export interface NamedMod {
  keys: readonly string[];
  /** True when it needs to see later positions (cannot run under the engine's causal generation). */
  nonCausal?: boolean;
  make(p: Readonly<Record<string, unknown>>, shape: AttentionShape): { score?: ScoreMod; mask?: MaskMod };
}

const num = (p: Readonly<Record<string, unknown>>, k: string, fallback?: number): number => {
  const v = p[k] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`'${k}' must be a number`);
  return v;
};
const nums = (p: Readonly<Record<string, unknown>>, k: string): number[] => {
  const v = p[k];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) throw new Error(`'${k}' must be a list of numbers`);
  return v as number[];
};

export const BUILTIN_MODS: Readonly<Record<string, NamedMod>> = Object.freeze({
  causal: { keys: [], make: () => ({ mask: causal() }) },
  sliding_window: { keys: ["window"], make: (p) => ({ mask: slidingWindow(num(p, "window")) }) },
  prefix_lm: { keys: ["prefix_len"], nonCausal: true, make: (p) => ({ mask: prefixLm(num(p, "prefix_len")) }) },
  document: { keys: ["document_ids"], make: (p) => ({ mask: documentMask(nums(p, "document_ids")) }) },
  alibi: { keys: ["max_bias"], make: (p, s) => ({ score: alibi(s.numHeads, num(p, "max_bias", 8)) }) },
  tanh_soft_cap: { keys: ["cap"], make: (p) => ({ score: tanhSoftCap(num(p, "cap")) }) },
  relative_position_bias: { keys: ["bias"], make: (p) => ({ score: relativePositionBias(nums(p, "bias")) }) },
});

export interface FlexModConfig {
  score?: ScoreMod;
  mask?: MaskMod;
  qBlockSize: number;
  /** Named mods that need non-causal attention. */
  nonCausal: string[];
}

const TOP_KEYS = ["mod", "mods", "score_mod", "mask_mod", "params", "q_block_size"];

/** Parse the flex options of a shape; throws an Error whose message is the reason. */
export function parseFlexOptions(shape: AttentionShape, named: Readonly<Record<string, NamedMod>>): FlexModConfig {
  const o = shape.options ?? {};
  const scores: ScoreMod[] = [], masks: MaskMod[] = [], nonCausal: string[] = [];
  const one = (spec: Readonly<Record<string, unknown>>, where: string, extraKeys: readonly string[]) => {
    const name = spec.mod;
    if (typeof name !== "string" || !Object.hasOwn(named, name)) {
      throw new Error(`${where}: unknown mod ${JSON.stringify(name)}; available: ${Object.keys(named).join(", ")}`);
    }
    const entry = named[name]!;
    for (const k of Object.keys(spec)) {
      if (k !== "mod" && !entry.keys.includes(k) && !extraKeys.includes(k)) throw new Error(`${where}: mod ${name} has no parameter '${k}'; accepted: ${entry.keys.join(", ") || "(none)"}`);
    }
    let made: ReturnType<NamedMod["make"]>;
    try { made = entry.make(spec, shape); } catch (e) { throw new Error(`${where}: mod ${name}: ${(e as Error).message}`); }
    if (made.score) scores.push(made.score);
    if (made.mask) masks.push(made.mask);
    if (entry.nonCausal) nonCausal.push(name);
  };
  for (const k of Object.keys(o)) {
    if (!TOP_KEYS.includes(k) && o.mod === undefined) throw new Error(`flex: unknown option '${k}'; accepted: ${TOP_KEYS.join(", ")}`);
  }
  if (o.mod !== undefined) one(o, "flex", TOP_KEYS);
  if (o.mods !== undefined) {
    if (!Array.isArray(o.mods)) throw new Error("flex: 'mods' must be a list of { mod: name, ...parameters }");
    o.mods.forEach((m, i) => {
      if (typeof m !== "object" || m === null) throw new Error(`flex: mods[${i}] must be a mapping`);
      one(m as Record<string, unknown>, `flex: mods[${i}]`, []);
    });
  }
  const params = (o.params ?? {}) as Record<string, unknown>;
  if (typeof params !== "object" || Array.isArray(params)) throw new Error("flex: 'params' must be a mapping of names to numbers or lists of numbers");
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== "number" && !(Array.isArray(v) && v.every((x) => typeof x === "number"))) throw new Error(`flex: params.${k} must be a number or a list of numbers`);
  }
  const modParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? Float64Array.from(v) : v])) as ModParams;
  if (o.score_mod !== undefined) {
    if (typeof o.score_mod !== "string") throw new Error("flex: score_mod must be an expression string over score, b, h, q_idx, kv_idx");
    scores.push(scoreMod(o.score_mod, modParams, "score_mod"));
  }
  if (o.mask_mod !== undefined) {
    if (typeof o.mask_mod !== "string") throw new Error("flex: mask_mod must be an expression string over b, h, q_idx, kv_idx");
    masks.push(maskMod(o.mask_mod, modParams, "mask_mod"));
  }
  const qb = o.q_block_size ?? 16;
  if (typeof qb !== "number" || !Number.isInteger(qb) || qb < 1) throw new Error("flex: q_block_size must be a positive integer");
  const cfg: FlexModConfig = { qBlockSize: qb, nonCausal };
  if (scores.length) cfg.score = compose(...scores);
  if (masks.length) cfg.mask = and(...masks);
  return cfg;
}
