export type { DecodeOptions, EncodeOptions, LeadingSpaceRule, Tokenizer } from "./types.ts";
export { createTokenizer, SUPPORTED_TOKENIZER_MODELS } from "./from-metadata.ts";
export { IncrementalDetokenizer, type IncrementalDetokenizerOptions } from "./incremental-detokenizer.ts";
export { SpmTokenizer } from "./spm.ts";
export { BpeTokenizer } from "./bpe.ts";
export { SUPPORTED_PRE_TOKENIZERS, getPreTokenizer, PreTokenizer } from "./pre-tokenizers.ts";
export { TokenType } from "./vocab.ts";
