/**
 * Turn a mod (a function or an expression string) into JavaScript source that can be pasted into
 * a generated loop. The function's text (Function.prototype.toString) is split into parameters and
 * one body expression, tokenized, and every identifier is checked and renamed:
 *   - the mod's own parameters → the loop's variables (score, b, h, q_idx, kv_idx),
 *   - names in `params` → hoisted constants (P<i>_<name>),
 *   - Math.abs/min/max/floor/ceil/round/trunc/sign/sqrt stay (exact in IEEE arithmetic);
 *     Math.exp/log/tanh/pow/sin/cos → det-math's (D.exp, ...), so every runtime gives the same bits,
 *   - anything else is refused with a reason (the caller then falls back to a call per element).
 * Only numbers, operators, brackets, commas and `.length` survive, so the text is safe to compile.
 */
import type { ModParams } from "./mods.ts";

export interface InlinedExpr {
  /** Parenthesised JavaScript expression over the loop variables, P<i>_* constants, Math.* and D.*. */
  code: string;
  /** Which loop variables the expression reads (so a mask without h is evaluated once for all heads). */
  uses: Set<string>;
  /** Constants to hoist: generated name → value. */
  consts: Map<string, number | ArrayLike<number>>;
}

const EXACT_MATH = new Set(["abs", "min", "max", "floor", "ceil", "round", "trunc", "sign", "sqrt"]);
const DET_MATH = new Set(["exp", "log", "tanh", "pow", "sin", "cos"]);
const LITERALS = new Set(["true", "false", "Infinity", "NaN"]);
const PUNCT = ["===", "!==", "**", "<=", ">=", "==", "!=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "!", "?", ":", "(", ")", "[", "]", ",", ".", "&", "|", "^", "~"];
const TOKEN_SOURCE = String.raw`\s+|(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)`;

/** Split a function's source into parameter names and a body expression; null when it is not that simple. */
export function splitFunction(src: string): { params: string[]; body: string } | null {
  const s = src.trim();
  let m = /^(?:function\b[^(]*)?\(([^()]*)\)\s*(=>)?\s*([\s\S]*)$/.exec(s) ?? /^([A-Za-z_$][\w$]*)\s*(=>)\s*([\s\S]*)$/.exec(s);
  if (!m) return null;
  const params = m[1]!.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  if (!params.every((p) => /^[A-Za-z_$][\w$]*$/.test(p))) return null;
  let body = m[3]!.trim();
  if (body.startsWith("{")) {
    m = /^\{\s*return\b([\s\S]*?);?\s*\}$/.exec(body);
    if (!m || m[1]!.includes(";") || m[1]!.includes("return")) return null;
    body = m[1]!.trim();
  } else if (!s.includes("=>")) return null;
  return { params, body };
}

/**
 * Inline one leaf mod. `roles` are the loop variable names in argument order (score mods:
 * score, b, h, q_idx, kv_idx; mask mods: b, h, q_idx, kv_idx); a string uses those names directly.
 */
export function inlineExpr(fn: Function | string, roles: readonly string[], params: ModParams, prefix: string): InlinedExpr | { error: string } {
  let argNames: string[], body: string;
  if (typeof fn === "string") {
    argNames = [...roles];
    body = fn;
  } else {
    const split = splitFunction(fn.toString());
    if (!split) return { error: "not a single-expression function" };
    if (split.params.length > roles.length) return { error: `takes ${split.params.length} arguments, at most ${roles.length}` };
    argNames = split.params;
    body = split.body;
  }
  const rename = new Map<string, string>();
  argNames.forEach((a, i) => rename.set(a, roles[i]!));
  const out: string[] = [];
  const uses = new Set<string>();
  const consts = new Map<string, number | ArrayLike<number>>();
  const TOKEN = new RegExp(TOKEN_SOURCE, "y"); // sticky: per call, never shared
  let pos = 0, prev = "";
  while (pos < body.length) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(body);
    let tok: string;
    if (m && m.index === pos) {
      tok = m[0];
      pos += tok.length;
      if (/^\s/.test(tok)) continue;
      if (m[2] !== undefined) {
        const id = m[2];
        if (prev === ".") {
          if (id !== "length") return { error: `property '.${id}' is not allowed (only .length)` };
        } else if (id === "Math") {
          const fm = /^\s*\.\s*([A-Za-z]+)/.exec(body.slice(pos));
          if (!fm || !(EXACT_MATH.has(fm[1]!) || DET_MATH.has(fm[1]!))) return { error: `Math.${fm?.[1] ?? "?"} is not supported` };
          pos += fm[0].length;
          tok = DET_MATH.has(fm[1]!) ? `D.${fm[1]}` : `Math.${fm[1]}`;
        } else if (rename.has(id)) {
          tok = rename.get(id)!;
          uses.add(tok);
        } else if (Object.hasOwn(params, id)) {
          tok = `${prefix}_${id}`;
          consts.set(tok, params[id]!);
        } else if (EXACT_MATH.has(id)) tok = `Math.${id}`;
        else if (DET_MATH.has(id)) tok = `D.${id}`;
        else if (!LITERALS.has(id)) return { error: `unknown name '${id}' (pass closed-over values in params under the same name)` };
      }
    } else {
      const p = PUNCT.find((x) => body.startsWith(x, pos));
      if (!p) return { error: `unexpected character '${body[pos]}'` };
      tok = p;
      pos += p.length;
    }
    out.push(tok);
    prev = tok;
  }
  if (out.length === 0) return { error: "empty expression" };
  const code = `(${out.join(" ")})`;
  try {
    new Function(...roles, "Math", "D", ...consts.keys(), `return ${code};`);
  } catch (e) {
    return { error: `does not parse: ${(e as Error).message}` };
  }
  return { code, uses, consts };
}
