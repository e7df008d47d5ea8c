/**
 * FlexAttention's programming model: a score mod rewrites each attention score and a mask mod
 * says which (query, key) pairs may attend at all.
 *
 *   scoreMod(score, b, h, qIdx, kvIdx) => number      maskMod(b, h, qIdx, kvIdx) => boolean
 *
 * b is the request's index in the batch, h the query head, qIdx / kvIdx absolute token positions.
 * Mods are compiled into the kernel (codegen.ts): the function's expression is inlined into the
 * generated loop. So that this works, a mod is a single expression (an arrow function with an
 * expression body, or `{ return expr; }`) and every value it closes over is passed in `params`
 * under the same name. Math.* may be used (exp, log, tanh, pow, sin, cos become det-math's, which
 * give identical bits on every runtime). A mod that cannot be inlined still runs, as a call per element.
 * The same expression may be given as a string, with parameters named score, b, h, q_idx, kv_idx.
 */
export type ScoreModFn = (score: number, b: number, h: number, qIdx: number, kvIdx: number) => number;
export type MaskModFn = (b: number, h: number, qIdx: number, kvIdx: number) => boolean;
export type ModParams = Readonly<Record<string, number | ArrayLike<number>>>;

export interface ScoreMod {
  readonly kind: "score";
  readonly name: string;
  /** A leaf: the function or expression. A composition applies `parts` in order instead. */
  readonly fn?: ScoreModFn | string;
  readonly params: ModParams;
  readonly parts?: readonly ScoreMod[];
}

export interface MaskMod {
  readonly kind: "mask";
  readonly name: string;
  readonly fn?: MaskModFn | string;
  readonly params: ModParams;
  /** A combinator: and / or of `parts`. */
  readonly op?: "and" | "or";
  readonly parts?: readonly MaskMod[];
}

export function scoreMod(fn: ScoreModFn | string, params: ModParams = {}, name = "custom"): ScoreMod {
  return { kind: "score", name, fn, params };
}

export function maskMod(fn: MaskModFn | string, params: ModParams = {}, name = "custom"): MaskMod {
  return { kind: "mask", name, fn, params };
}

/** and_masks: a pair attends only if every mask allows it (an empty `and` allows everything). */
export function and(...masks: MaskMod[]): MaskMod {
  return masks.length === 1 ? masks[0]! : { kind: "mask", name: `and(${masks.map((m) => m.name).join(", ")})`, params: {}, op: "and", parts: masks };
}

/** or_masks: a pair attends if any mask allows it (an empty `or` allows nothing). */
export function or(...masks: MaskMod[]): MaskMod {
  return masks.length === 1 ? masks[0]! : { kind: "mask", name: `or(${masks.map((m) => m.name).join(", ")})`, params: {}, op: "or", parts: masks };
}

/** Apply score mods one after another: compose(a, b)(s) = b(a(s)). */
export function compose(...mods: ScoreMod[]): ScoreMod {
  return mods.length === 1 ? mods[0]! : { kind: "score", name: `compose(${mods.map((m) => m.name).join(", ")})`, params: {}, parts: mods };
}

/** A plain closure evaluating a mask mod (no code generation): the reference the tests hold the kernel to. */
export function maskClosure(m: MaskMod): MaskModFn {
  if (m.parts) {
    const fs = m.parts.map(maskClosure);
    return m.op === "or" ? (b, h, q, kv) => fs.some((f) => f(b, h, q, kv)) : (b, h, q, kv) => fs.every((f) => f(b, h, q, kv));
  }
  if (typeof m.fn !== "function") throw new Error(`mask mod ${m.name}: a string expression has no closure; compile it`);
  return m.fn;
}

/** A plain closure evaluating a score mod (no code generation). */
export function scoreClosure(m: ScoreMod): ScoreModFn {
  if (m.parts) {
    const fs = m.parts.map(scoreClosure);
    return (s, b, h, q, kv) => fs.reduce((acc, f) => f(acc, b, h, q, kv), s);
  }
  if (typeof m.fn !== "function") throw new Error(`score mod ${m.name}: a string expression has no closure; compile it`);
  return m.fn;
}
