/**
 * Mods → source fragments for the generated kernel: a score mod becomes statements that rewrite
 * `score`; a mask mod tree becomes one boolean expression (`and` → &&, `or` → ||). Leaves that
 * cannot be inlined become calls through F[i] (and are reported in `notes`).
 */
import { inlineExpr } from "./expr.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";

export const SCORE_ROLES = ["score", "b", "h", "q_idx", "kv_idx"] as const;
export const MASK_ROLES = ["b", "h", "q_idx", "kv_idx"] as const;

export class ModCompilation {
  readonly consts = new Map<string, number | ArrayLike<number>>();
  readonly fallbacks: Function[] = [];
  readonly notes: string[] = [];
  readonly maskUses = new Set<string>();
  private leaves = 0;

  /** Statements that rewrite `score` in place, in application order. */
  score(mod: ScoreMod | undefined): string[] {
    if (!mod) return [];
    if (mod.parts) return mod.parts.flatMap((m) => this.score(m));
    return [`score = ${this.leaf(mod.fn!, mod.params, mod.name, SCORE_ROLES, null)};`];
  }

  /** One boolean expression; `true` when there is no mask. */
  mask(mod: MaskMod | undefined): string {
    if (!mod) return "true";
    if (mod.parts) {
      if (mod.parts.length === 0) return mod.op === "or" ? "false" : "true";
      return `(${mod.parts.map((m) => this.mask(m)).join(mod.op === "or" ? " || " : " && ")})`;
    }
    return this.leaf(mod.fn!, mod.params, mod.name, MASK_ROLES, this.maskUses);
  }

  private leaf(fn: Function | string, params: ScoreMod["params"], name: string, roles: readonly string[], uses: Set<string> | null): string {
    const prefix = `P${this.leaves++}`;
    const r = inlineExpr(fn, roles, params, prefix);
    if ("error" in r) {
      if (typeof fn === "string") throw new Error(`flex mod '${name}': ${r.error} in ${JSON.stringify(fn)}`);
      this.notes.push(`mod '${name}' runs as a call per element: ${r.error}`);
      this.fallbacks.push(fn);
      for (const x of roles) uses?.add(x);
      return `F[${this.fallbacks.length - 1}](${roles.join(", ")})`;
    }
    for (const [k, v] of r.consts) this.consts.set(k, v);
    for (const x of r.uses) uses?.add(x);
    return r.code;
  }
}
