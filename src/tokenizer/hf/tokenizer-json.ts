/**
 * The parts of a Hugging Face tokenizer.json (the `tokenizers` library's serialisation) that we read,
 * checked loosely at the edges: anything malformed or of an unsupported type throws with the path of
 * the offending field and what is accepted.
 */

/** A component of the pipeline: `{ type: "...", ...fields }`. */
export type Component = { type: string } & Record<string, unknown>;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface BpeModelJson {
  type: "BPE";
  /** model.vocab as parallel arrays (one pass over a large JSON object is the costly part of loading). */
  vocabTexts: string[];
  vocabIds: number[];
  merges: (string | [string, string])[];
  unk_token: string | null;
  byte_fallback: boolean;
  fuse_unk: boolean;
  ignore_merges: boolean;
}

export interface TokenizerJson {
  model: BpeModelJson;
  added_tokens: AddedToken[];
  normalizer: Component | null;
  pre_tokenizer: Component | null;
  post_processor: Component | null;
  decoder: Component | null;
}

export const SUPPORTED_MODELS = ["BPE"] as const;

export class TokenizerJsonError extends Error {}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function component(v: unknown, where: string): Component | null {
  if (v === null || v === undefined) return null;
  if (!isObj(v) || typeof v.type !== "string") throw new TokenizerJsonError(`'${where}' should be null or an object with a string 'type'`);
  return v as Component;
}

/** Validates the parsed JSON of a tokenizer.json. */
export function readTokenizerJson(raw: unknown): TokenizerJson {
  if (!isObj(raw)) throw new TokenizerJsonError("expected a JSON object with 'model', 'added_tokens', 'normalizer', 'pre_tokenizer', 'decoder'");
  const m = raw.model;
  if (!isObj(m)) throw new TokenizerJsonError("'model' should be an object");
  const type = m.type ?? (m.merges !== undefined ? "BPE" : undefined);
  if (type !== "BPE") {
    throw new TokenizerJsonError(`unsupported model type ${JSON.stringify(type)} ('model.type'); supported: ${SUPPORTED_MODELS.join(", ")} (byte-level BPE and SentencePiece-style BPE with byte_fallback)`);
  }
  if (!isObj(m.vocab)) throw new TokenizerJsonError("'model.vocab' should be an object of token → id");
  const vocabTexts: string[] = [];
  const vocabIds: number[] = [];
  const vocab = m.vocab;
  for (const t in vocab) {
    const id = vocab[t];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0) throw new TokenizerJsonError(`'model.vocab' maps ${JSON.stringify(t)} to ${JSON.stringify(id)}; ids must be non-negative integers`);
    vocabTexts.push(t);
    vocabIds.push(id);
  }
  if (!Array.isArray(m.merges)) throw new TokenizerJsonError("'model.merges' should be an array");
  m.merges.forEach((x, i) => {
    const ok = typeof x === "string" || (Array.isArray(x) && x.length === 2 && x.every((s) => typeof s === "string"));
    if (!ok) throw new TokenizerJsonError(`'model.merges[${i}]' should be "a b" or ["a", "b"]`);
  });
  if (m.dropout !== undefined && m.dropout !== null && m.dropout !== 0) throw new TokenizerJsonError("'model.dropout' is set; BPE dropout is for training and is not supported");
  for (const k of ["continuing_subword_prefix", "end_of_word_suffix"]) {
    if (m[k] !== undefined && m[k] !== null && m[k] !== "") throw new TokenizerJsonError(`'model.${k}' is ${JSON.stringify(m[k])}; only null or "" is supported`);
  }
  const unk = m.unk_token ?? null;
  if (unk !== null && typeof unk !== "string") throw new TokenizerJsonError("'model.unk_token' should be a string or null");
  const added = raw.added_tokens ?? [];
  if (!Array.isArray(added)) throw new TokenizerJsonError("'added_tokens' should be an array");
  const addedTokens = added.map((a, i): AddedToken => {
    if (!isObj(a) || !Number.isInteger(a.id) || (a.id as number) < 0 || typeof a.content !== "string" || a.content.length === 0) {
      throw new TokenizerJsonError(`'added_tokens[${i}]' should have a non-negative integer 'id' and a non-empty string 'content'`);
    }
    return { id: a.id as number, content: a.content, special: a.special === true };
  });
  return {
    model: {
      type: "BPE",
      vocabTexts,
      vocabIds,
      merges: m.merges as (string | [string, string])[],
      unk_token: unk as string | null,
      byte_fallback: m.byte_fallback === true,
      fuse_unk: m.fuse_unk === true,
      ignore_merges: m.ignore_merges === true,
    },
    added_tokens: addedTokens,
    normalizer: component(raw.normalizer, "normalizer"),
    pre_tokenizer: component(raw.pre_tokenizer, "pre_tokenizer"),
    post_processor: component(raw.post_processor, "post_processor"),
    decoder: component(raw.decoder, "decoder"),
  };
}

/** A merge rule as its two parts ("a b" splits at the first space after the first character). */
export function mergePair(m: string | [string, string], rank: number): [string, string] {
  if (typeof m !== "string") return m;
  const at = m.indexOf(" ", 1);
  if (at < 0 || at === m.length - 1) throw new TokenizerJsonError(`malformed merge ${rank} ${JSON.stringify(m)} in 'model.merges'`);
  return [m.slice(0, at), m.slice(at + 1)];
}

/** The components of a Sequence (or the component itself), flattened. */
export function flatten(c: Component | null, listKey: string): Component[] {
  if (c === null) return [];
  if (c.type !== "Sequence") return [c];
  const list = c[listKey];
  if (!Array.isArray(list)) throw new TokenizerJsonError(`a Sequence should have a '${listKey}' array`);
  return list.flatMap((x, i) => {
    const sub = component(x, `${listKey}[${i}]`);
    return sub ? flatten(sub, listKey) : [];
  });
}

/** `{String: " "}` or `{Regex: "..."}` as in Split/Replace patterns. */
export function patternOf(p: unknown, where: string): { string: string } | { regex: string } {
  if (isObj(p) && typeof p.String === "string") return { string: p.String };
  if (isObj(p) && typeof p.Regex === "string") return { regex: p.Regex };
  throw new TokenizerJsonError(`${where}: 'pattern' should be {"String": ...} or {"Regex": ...}`);
}
