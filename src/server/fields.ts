import { ApiError, badRequest } from "./errors.ts";

/** A parsed JSON request body: an object whose fields are read with type and range checks. */
export type Body = Record<string, unknown>;

export interface NumberRange {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  integer?: boolean;
}

const typeError = (name: string, expected: string, v: unknown) =>
  new ApiError(400, `Invalid type for '${name}': expected ${expected}, but got ${describe(v)} instead.`, "invalid_request_error", name, "invalid_type");

const valueError = (name: string, expected: string, v: unknown) =>
  new ApiError(400, `Invalid value for '${name}': expected ${expected}, but got ${JSON.stringify(v)}.`, "invalid_request_error", name, "invalid_value");

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

export function asBody(v: unknown): Body {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest(`The request body must be a JSON object, got ${describe(v)}.`, null, "invalid_type");
  return v as Body;
}

function rangeText(r: NumberRange): string {
  const kind = r.integer ? "an integer" : "a number";
  const parts: string[] = [];
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.min !== undefined) parts.push(`>= ${r.min}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return parts.length ? `${kind} ${parts.join(" and ")}` : kind;
}

/** A number field (null or absent: undefined). */
export function optNumber(b: Body, name: string, r: NumberRange = {}): number | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw typeError(name, r.integer ? "an integer" : "a number", v);
  if (r.integer && !Number.isSafeInteger(v)) throw typeError(name, "an integer", v);
  const bad = (r.min !== undefined && v < r.min) || (r.max !== undefined && v > r.max) || (r.above !== undefined && v <= r.above);
  if (bad) throw valueError(name, rangeText(r), v);
  return v;
}

export function optBool(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw typeError(name, "a boolean", v);
  return v;
}

export function optString(b: Body, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw typeError(name, "a string", v);
  return v;
}

export function optObject(b: Body, name: string): Body | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw typeError(name, "an object", v);
  return v as Body;
}

/** `stop`: a string or a list of non-empty strings. */
export function optStop(b: Body, name = "stop"): string[] | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === "string")) throw typeError(name, "a string or an array of strings", v);
  if (list.some((s) => s.length === 0)) throw valueError(name, "non-empty strings", v);
  return list as string[];
}

/** A list of integers in [0, limit). */
export function optIdList(b: Body, name: string, limit: number): number[] | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) throw typeError(name, "an array of integers", v);
  const bad = (v as number[]).find((x) => x < 0 || x >= limit);
  if (bad !== undefined) throw valueError(name, `token ids in [0, ${limit - 1}]`, bad);
  return v as number[];
}

/** `logit_bias`: {"token id": bias in [-100, 100]} with ids in the vocabulary. */
export function optLogitBias(b: Body, vocabSize: number): Record<number, number> | undefined {
  const o = optObject(b, "logit_bias");
  if (!o) return undefined;
  const out: Record<number, number> = {};
  for (const [k, v] of Object.entries(o)) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= vocabSize) throw valueError("logit_bias", `keys that are token ids in [0, ${vocabSize - 1}]`, k);
    if (typeof v !== "number" || !Number.isFinite(v)) throw typeError("logit_bias", "numbers as values", v);
    if (v < -100 || v > 100) throw valueError("logit_bias", "biases in [-100, 100]", v);
    out[id] = v;
  }
  return out;
}
