import type { PreTokenizerSpec } from "../pre-tokenizers.ts";
import { onigurumaToJs } from "./split-regex.ts";
import { flatten, patternOf, TokenizerJsonError, type Component, type TokenizerJson } from "./tokenizer-json.ts";

/** GPT-2's pattern, as the ByteLevel pre-tokenizer applies it when `use_regex` is true. */
const GPT2_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export const SUPPORTED_NORMALIZERS = ["NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Prepend", "Replace", "Sequence"];
export const SUPPORTED_PRE_TOKENIZERS = ["ByteLevel", "Split", "Metaspace", "Sequence"];
export const SUPPORTED_DECODERS = ["ByteLevel", "Metaspace", "Replace", "ByteFallback", "Fuse", "Strip", "Sequence"];

/** Per text fragment (text between added tokens): its normalized text. `atStart`: it begins the input. */
export type Normalize = (text: string, atStart: boolean) => string;

/** How a tokenizer.json's normalizer, pre-tokenizer and decoder map onto our two tokenizer kinds. */
export type HfPipeline =
  | { kind: "byte-level"; normalize: Normalize; pre: PreTokenizerSpec }
  | { kind: "spm"; normalize: Normalize; splitWords: (text: string) => string[]; addSpacePrefix: boolean };

function unsupported(where: string, type: string, supported: readonly string[]): never {
  throw new TokenizerJsonError(`unsupported ${where} type "${type}"; supported: ${supported.join(", ")}`);
}

function buildNormalizer(json: TokenizerJson): { fn: (s: string) => string; prependsSpace: boolean } {
  const steps: ((s: string) => string)[] = [];
  let prependsSpace = false;
  for (const c of flatten(json.normalizer, "normalizers")) {
    switch (c.type) {
      case "NFC": case "NFD": case "NFKC": case "NFKD": {
        const form = c.type;
        steps.push((s) => s.normalize(form));
        break;
      }
      case "Lowercase":
        steps.push((s) => s.toLowerCase());
        break;
      case "Prepend": {
        if (typeof c.prepend !== "string") throw new TokenizerJsonError("normalizer Prepend needs a string 'prepend'");
        const p = c.prepend;
        if (p === "\u2581" && steps.length === 0) prependsSpace = true;
        steps.push((s) => (s.length > 0 ? p + s : s));
        break;
      }
      case "Replace":
        steps.push(replacer(c, "normalizer Replace"));
        break;
      default:
        unsupported("normalizer", c.type, SUPPORTED_NORMALIZERS);
    }
  }
  return { fn: (s) => steps.reduce((t, f) => f(t), s), prependsSpace };
}

function replacer(c: Component, where: string): (s: string) => string {
  const pat = patternOf(c.pattern, where);
  if (typeof c.content !== "string") throw new TokenizerJsonError(`${where} needs a string 'content'`);
  const content = c.content;
  if ("string" in pat) return (s) => s.replaceAll(pat.string, content);
  const re = new RegExp(onigurumaToJs(pat.regex), "gu");
  return (s) => s.replace(re, () => content);
}

const SPLIT_BEHAVIORS = ["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext"];

/** Splits at every occurrence of `sep` per a Split behavior. */
function splitLiteral(text: string, sep: string, behavior: string): string[] {
  const out: string[] = [];
  let from = 0;
  let carry = ""; // MergedWithNext: the separator waiting for the next word
  for (let at = text.indexOf(sep); at >= 0 && sep.length > 0; at = text.indexOf(sep, from)) {
    const before = text.slice(from, at);
    switch (behavior) {
      case "Isolated": if (before) out.push(before); out.push(sep); break;
      case "Removed": if (before) out.push(before); break;
      case "MergedWithPrevious": out.push(before + sep); break;
      case "MergedWithNext": if (carry + before) out.push(carry + before); carry = sep; break;
      default: throw new TokenizerJsonError(`unsupported Split behavior "${behavior}"; supported: Isolated, Removed, MergedWithPrevious, MergedWithNext`);
    }
    from = at + sep.length;
  }
  const rest = carry + text.slice(from);
  if (rest) out.push(rest);
  return out;
}

/** Reads the normalizer/pre-tokenizer/decoder of a tokenizer.json; unsupported setups throw, listing what is. */
export function buildPipeline(json: TokenizerJson): HfPipeline {
  const norm = buildNormalizer(json);
  for (const d of flatten(json.decoder, "decoders")) if (!SUPPORTED_DECODERS.includes(d.type)) unsupported("decoder", d.type, SUPPORTED_DECODERS);
  const pres = flatten(json.pre_tokenizer, "pretokenizers");
  for (const p of pres) if (!SUPPORTED_PRE_TOKENIZERS.includes(p.type)) unsupported("pre_tokenizer", p.type, SUPPORTED_PRE_TOKENIZERS);
  const byteLevel = pres.find((p) => p.type === "ByteLevel") ?? (json.decoder?.type === "ByteLevel" ? json.decoder : undefined);
  if (byteLevel) return byteLevelPipeline(json, pres, norm.fn, byteLevel.add_prefix_space === true && pres.includes(byteLevel));
  if (json.model.merges.length > 0 && !json.model.byte_fallback && json.model.unk_token === null && pres.length === 0) {
    throw new TokenizerJsonError("a BPE model with neither a ByteLevel pre-tokenizer/decoder nor byte_fallback/unk_token is not supported");
  }
  return spmPipeline(pres, norm.fn, norm.prependsSpace);
}

function byteLevelPipeline(json: TokenizerJson, pres: Component[], normalize: (s: string) => string, addPrefixSpace: boolean): HfPipeline {
  let regex: string | undefined;
  for (const p of pres) {
    if (p.type === "ByteLevel") {
      if (p.use_regex !== false) {
        if (regex !== undefined) throw new TokenizerJsonError("pre_tokenizer: a Split followed by ByteLevel with use_regex true is not supported");
        regex = GPT2_REGEX;
      }
    } else if (p.type === "Split") {
      const pat = patternOf(p.pattern, "pre_tokenizer Split");
      if (!("regex" in pat) || p.behavior !== "Isolated" || p.invert === true || regex !== undefined) {
        throw new TokenizerJsonError("pre_tokenizer: byte-level tokenizers are supported with one Split {Regex, behavior Isolated, invert false} before ByteLevel");
      }
      regex = pat.regex;
    } else {
      throw new TokenizerJsonError(`pre_tokenizer "${p.type}" cannot be combined with ByteLevel; supported: Split (Regex, Isolated) then ByteLevel`);
    }
  }
  let pattern: string;
  try {
    pattern = onigurumaToJs(regex ?? "[\\s\\S]+");
    new RegExp(pattern, "gu");
  } catch (e) {
    throw new TokenizerJsonError(`pre_tokenizer Split pattern: ${(e as Error).message}`);
  }
  const fn: Normalize = addPrefixSpace ? (s) => { const t = normalize(s); return t.length > 0 && !t.startsWith(" ") ? ` ${t}` : t; } : normalize;
  return {
    kind: "byte-level",
    normalize: fn,
    pre: { name: "tokenizer.json", pattern, ignoreMerges: json.model.ignore_merges, addBosDefault: false },
  };
}

function spmPipeline(pres: Component[], normalize: (s: string) => string, prependsSpace: boolean): HfPipeline {
  let metaspace: { replacement: string; scheme: string; split: boolean } | undefined;
  const splits: ((s: string) => string[])[] = [];
  for (const p of pres) {
    if (p.type === "Metaspace") {
      const replacement = typeof p.replacement === "string" ? p.replacement : "\u2581";
      const scheme = typeof p.prepend_scheme === "string" ? p.prepend_scheme : p.add_prefix_space === false ? "never" : "always";
      if (!["always", "first", "never"].includes(scheme)) throw new TokenizerJsonError(`Metaspace prepend_scheme "${scheme}"; supported: always, first, never`);
      metaspace = { replacement, scheme, split: p.split !== false };
      if (metaspace.split) splits.push((s) => splitLiteral(s, replacement, "MergedWithNext"));
    } else if (p.type === "Split") {
      const pat = patternOf(p.pattern, "pre_tokenizer Split");
      if (!("string" in pat) || p.invert === true) throw new TokenizerJsonError("pre_tokenizer: SentencePiece-style tokenizers are supported with Split on a literal String only");
      const behavior = String(p.behavior);
      if (!SPLIT_BEHAVIORS.includes(behavior)) throw new TokenizerJsonError(`unsupported Split behavior "${behavior}"; supported: ${SPLIT_BEHAVIORS.join(", ")}`);
      splits.push((s) => splitLiteral(s, pat.string, behavior));
    } else {
      throw new TokenizerJsonError(`pre_tokenizer "${p.type}" is not supported without ByteLevel; supported: Metaspace, Split (String)`);
    }
  }
  const ms = metaspace;
  const fn: Normalize = (text, atStart) => {
    let t = normalize(text);
    if (ms) {
      t = t.replaceAll(" ", ms.replacement);
      const prepend = ms.scheme === "always" || (ms.scheme === "first" && atStart);
      if (prepend && t.length > 0 && !t.startsWith(ms.replacement)) t = ms.replacement + t;
    }
    return t;
  };
  const splitWords = (text: string): string[] => splits.reduce<string[]>((words, f) => words.flatMap(f), [text]);
  return { kind: "spm", normalize: fn, splitWords, addSpacePrefix: prependsSpace || (ms !== undefined && ms.scheme !== "never") };
}
