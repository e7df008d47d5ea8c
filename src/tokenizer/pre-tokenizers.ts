import { LlmError } from "../util/errors.ts";

/**
 * Pre-tokenizers for byte-level BPE, chosen by tokenizer.ggml.pre. Each splits text into words;
 * BPE merges never cross a word boundary.
 *
 * The patterns are the ones in the models' tokenizer.json, rewritten for JavaScript:
 * - `(?i:'s|'t|...)` (an inline case-insensitive group, which JS lacks before ES2025) becomes
 *   `(?:'[sS]|'[tT]|'[rR][eE]|...)`, as llama.cpp does too.
 * - `\s`/`\S` become the Unicode White_Space set (what Oniguruma in Hugging Face tokenizers and
 *   llama.cpp's unicode tables use). JS's own `\s` differs: it also matches U+FEFF and misses U+0085.
 */
const WS = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const S = `[${WS}]`;
const NOT_S = `[^${WS}]`;
const CONTRACTIONS_CI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

/** GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` */
const GPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|${S}+(?!${NOT_S})|${S}+`;

/** Llama 3 / Qwen 2 share everything but how digits group: `\p{N}{1,3}` vs `\p{N}`. */
function llama3Like(digits: string): string {
  return (
    `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|${digits}` +
    `| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*|${S}*[\\r\\n]+|${S}+(?!${NOT_S})|${S}+`
  );
}

export interface PreTokenizerSpec {
  /** Canonical name ("gpt2", "llama3", "qwen2"). */
  readonly name: string;
  /** The JS regex source (flags "gu"). */
  readonly pattern: string;
  /** Use a word that is itself in the vocabulary as one token, skipping merges (Llama 3). */
  readonly ignoreMerges: boolean;
  /** llama.cpp's add_bos default for this family when the file has no add_bos_token. */
  readonly addBosDefault: boolean;
}

const GPT2_SPEC: PreTokenizerSpec = { name: "gpt2", pattern: GPT2, ignoreMerges: false, addBosDefault: false };
const LLAMA3_SPEC: PreTokenizerSpec = {
  name: "llama3",
  pattern: llama3Like("\\p{N}{1,3}"),
  ignoreMerges: true,
  addBosDefault: true,
};
const QWEN2_SPEC: PreTokenizerSpec = {
  name: "qwen2",
  pattern: llama3Like("\\p{N}"),
  ignoreMerges: false,
  addBosDefault: false,
};

/** tokenizer.ggml.pre values we know, as llama.cpp names them. "default" is GPT-2's pattern here. */
const BY_GGUF_NAME: ReadonlyMap<string, PreTokenizerSpec> = new Map([
  ["default", GPT2_SPEC],
  ["gpt-2", GPT2_SPEC],
  ["llama-bpe", LLAMA3_SPEC],
  ["llama3", LLAMA3_SPEC],
  ["llama-v3", LLAMA3_SPEC],
  ["qwen2", QWEN2_SPEC],
  ["deepseek-r1-qwen", QWEN2_SPEC],
]);

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = [...BY_GGUF_NAME.keys()];

export function findPreTokenizer(ggufName: string): PreTokenizerSpec | undefined {
  return BY_GGUF_NAME.get(ggufName);
}

/** The spec for a tokenizer.ggml.pre value; unknown names throw, listing the supported ones. */
export function getPreTokenizer(ggufName: string): PreTokenizerSpec {
  const spec = findPreTokenizer(ggufName);
  if (!spec) {
    throw new LlmError(`unknown pre-tokenizer "${ggufName}"; available: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`);
  }
  return spec;
}

/** A word splitter for one spec. Owns its RegExp (a stateful object), so make one per tokenizer. */
export class PreTokenizer {
  private readonly re: RegExp;

  constructor(readonly spec: PreTokenizerSpec) {
    this.re = new RegExp(spec.pattern, "gu");
  }

  /** The words of `text`, in order; their concatenation is `text` (unmatched gaps become words). */
  split(text: string): string[] {
    const words: string[] = [];
    let end = 0;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      if (m[0].length === 0) {
        this.re.lastIndex++;
        continue;
      }
      if (m.index > end) words.push(text.slice(end, m.index));
      words.push(m[0]);
      end = m.index + m[0].length;
    }
    if (end < text.length) words.push(text.slice(end));
    return words;
  }
}
