import { ModelFileError } from "../../util/errors.ts";
import { BpeTokenizer } from "../bpe.ts";
import type { Tokenizer } from "../types.ts";
import { TokenType, type Vocab } from "../vocab.ts";
import { ByteFallbackBpeTokenizer } from "./byte-fallback-bpe.ts";
import { buildPipeline } from "./pipeline.ts";
import type { TokenizerConfig } from "./tokenizer-config.ts";
import { mergePair, readTokenizerJson, TokenizerJsonError, type Component, type TokenizerJson } from "./tokenizer-json.ts";

const BYTE_PIECE = /^<0x[0-9A-Fa-f]{2}>$/;

/**
 * Builds a Tokenizer from a parsed tokenizer.json (and optionally tokenizer_config.json):
 * byte-level BPE (ByteLevel pre-tokenizer/decoder: Llama 3, Qwen 2/3, SmolLM2, GPT-2) becomes a
 * BpeTokenizer with the file's Split regex and normalizer; SentencePiece-style BPE (byte_fallback,
 * "▁" spaces: Llama 2, TinyLlama, Mistral, Gemma) a ByteFallbackBpeTokenizer. Added tokens become
 * control tokens when `special`, else user-defined ones (always matched, as in HF). BOS/EOS come
 * from tokenizer_config.json (bos_token/eos_token, add_bos_token/add_eos_token), else from a
 * TemplateProcessing post-processor. `padTo` pads the vocabulary with unused ids (models whose
 * embedding has more rows than the tokenizer has tokens). Problems throw ModelFileError(file).
 */
export function tokenizerFromJson(rawJson: unknown, config: TokenizerConfig | null, file = "tokenizer.json", opts: { padTo?: number } = {}): Tokenizer {
  try {
    const json = readTokenizerJson(rawJson);
    const pipeline = buildPipeline(json);
    const vocab = buildVocab(json, config, pipeline.kind === "spm" && pipeline.addSpacePrefix, opts.padTo ?? 0);
    const merges = json.model.merges.map((m, i) => mergePair(m, i));
    if (pipeline.kind === "byte-level") {
      return new BpeTokenizer(vocab, merges.map(([a, b]) => `${a} ${b}`), pipeline.pre, { file, normalize: pipeline.normalize });
    }
    return new ByteFallbackBpeTokenizer(vocab, merges, {
      normalize: pipeline.normalize,
      splitWords: pipeline.splitWords,
      ignoreMerges: json.model.ignore_merges,
      byteFallback: json.model.byte_fallback,
      fuseUnk: json.model.fuse_unk,
    });
  } catch (e) {
    if (e instanceof TokenizerJsonError) throw new ModelFileError(file, e.message);
    throw e;
  }
}

/** `padTo`: at least this many ids (the embedding's rows); ids past the file's are unused tokens that decode to nothing. */
function buildVocab(json: TokenizerJson, config: TokenizerConfig | null, addSpacePrefix: boolean, padTo: number): Vocab {
  const { vocabTexts, vocabIds } = json.model;
  let size = 0;
  for (const id of vocabIds) size = Math.max(size, id + 1);
  for (const t of json.added_tokens) size = Math.max(size, t.id + 1);
  if (size === 0) throw new TokenizerJsonError("'model.vocab' is empty");
  size = Math.max(size, padTo);
  const tokens: string[] = new Array(size).fill("");
  const types = new Uint8Array(size).fill(TokenType.Unused);
  const byteFallback = json.model.byte_fallback;
  for (let i = 0; i < vocabTexts.length; i++) {
    const text = vocabTexts[i]!;
    const id = vocabIds[i]!;
    tokens[id] = text;
    types[id] = byteFallback && text.length === 6 && BYTE_PIECE.test(text) ? TokenType.Byte : TokenType.Normal;
  }
  for (const t of json.added_tokens) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TokenType.Control : TokenType.UserDefined;
  }
  const tokenToId = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (t.length > 0) tokenToId.set(t, i);
  });
  const idOf = (text: string | undefined, key: string): number | null => {
    if (text === undefined) return null;
    const id = tokenToId.get(text);
    if (id === undefined) throw new TokenizerJsonError(`tokenizer_config.json '${key}' ${JSON.stringify(text)} is not a token of tokenizer.json`);
    return id;
  };
  const unkId = idOf(json.model.unk_token ?? undefined, "model.unk_token");
  if (unkId !== null && types[unkId] !== TokenType.Control) types[unkId] = TokenType.Unknown;
  const post = templateSpecials(json.post_processor);
  const bosId = idOf(config?.bosToken, "bos_token") ?? (post.first !== undefined ? idOf(post.first, "post_processor") : null);
  const eosId = idOf(config?.eosToken, "eos_token") ?? (post.last !== undefined ? idOf(post.last, "post_processor") : null);
  const addBos = config?.addBosToken ?? (post.first !== undefined && post.first === tokens[bosId ?? -1]);
  const addEos = config?.addEosToken ?? (post.last !== undefined && post.last === tokens[eosId ?? -1]);
  return {
    tokens, types, scores: new Float64Array(size), tokenToId, bosId, eosId, unkId, padId: null,
    addBos, addEos, addSpacePrefix,
  };
}

/** The special tokens a TemplateProcessing post-processor puts before and after a single sequence. */
function templateSpecials(post: Component | null): { first?: string; last?: string } {
  const procs = post === null ? [] : post.type === "Sequence" && Array.isArray(post.processors) ? (post.processors as Component[]) : [post];
  const tp = procs.find((p) => p?.type === "TemplateProcessing");
  if (!tp || !Array.isArray(tp.single)) return {};
  const single = tp.single as Record<string, { id?: unknown }>[];
  const special = (item: Record<string, { id?: unknown }> | undefined): string | undefined => {
    const id = item?.SpecialToken?.id;
    return typeof id === "string" ? id : undefined;
  };
  const out: { first?: string; last?: string } = {};
  const first = special(single[0]);
  const last = single.length > 1 ? special(single[single.length - 1]) : undefined;
  if (first !== undefined) out.first = first;
  if (last !== undefined) out.last = last;
  return out;
}

