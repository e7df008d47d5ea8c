import { MetadataReader } from "./metadata.ts";

/** GGUF token types (llama.cpp's llama_token_type). */
export const TokenType = {
  Normal: 1,
  Unknown: 2,
  Control: 3,
  UserDefined: 4,
  Unused: 5,
  Byte: 6,
} as const;

/** A vocabulary as read from tokenizer.ggml.* metadata, shared by both tokenizer kinds. */
export interface Vocab {
  readonly tokens: readonly string[];
  /** Token type per id (TokenType); Normal when the file has no token_type array. */
  readonly types: Uint8Array;
  /** SentencePiece scores per id (0 when absent). */
  readonly scores: Float64Array;
  /** Text → id. On duplicate texts the highest id wins (as llama.cpp's token_to_id map). */
  readonly tokenToId: ReadonlyMap<string, number>;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly unkId: number | null;
  readonly padId: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
}

/** Per-model-kind defaults for keys a file may omit (llama.cpp's defaults). */
export interface VocabDefaults {
  bosId: number | null;
  eosId: number | null;
  unkId: number | null;
  addBos: boolean;
  addSpacePrefix: boolean;
}

export function readVocab(md: MetadataReader, defaults: VocabDefaults): Vocab {
  const tokens = md.strings("tokenizer.ggml.tokens", true);
  if (tokens.length === 0) throw md.fail("tokenizer metadata key 'tokenizer.ggml.tokens' is empty");
  const n = tokens.length;
  const types = new Uint8Array(n).fill(TokenType.Normal);
  const rawTypes = md.numbers("tokenizer.ggml.token_type", n);
  if (rawTypes) {
    rawTypes.forEach((t, i) => {
      if (!Number.isInteger(t) || t < 0 || t > 6) {
        throw md.fail(`token ${i} has token type ${t} (expected 0..6 in 'tokenizer.ggml.token_type')`);
      }
      types[i] = t;
    });
  }
  const scores = new Float64Array(n);
  const rawScores = md.numbers("tokenizer.ggml.scores", n);
  if (rawScores) scores.set(rawScores);
  const tokenToId = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (t.length > 0) tokenToId.set(t, i);
  });
  const id = (key: string, dflt: number | null): number | null => {
    if (md.has(key)) return md.tokenId(key, n) ?? null;
    return dflt !== null && dflt < n ? dflt : null;
  };
  return {
    tokens,
    types,
    scores,
    tokenToId,
    bosId: id("tokenizer.ggml.bos_token_id", defaults.bosId),
    eosId: id("tokenizer.ggml.eos_token_id", defaults.eosId),
    unkId: id("tokenizer.ggml.unknown_token_id", defaults.unkId),
    padId: id("tokenizer.ggml.padding_token_id", null),
    addBos: md.bool("tokenizer.ggml.add_bos_token") ?? defaults.addBos,
    addEos: md.bool("tokenizer.ggml.add_eos_token") ?? false,
    addSpacePrefix: md.bool("tokenizer.ggml.add_space_prefix") ?? defaults.addSpacePrefix,
  };
}
