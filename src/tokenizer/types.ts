/**
 * How decode() treats the space that SentencePiece's dummy prefix puts before the first word.
 * Only tokenizers with `addSpacePrefix` (SentencePiece "llama" vocabularies) ever strip; at most
 * one space (U+0020) is removed from one piece.
 * - "first" (default; llama.cpp's `llama_detokenize`): strip the leading space of the piece of the
 *   FIRST id in the list. A leading BOS takes that turn and renders as nothing, so
 *   [BOS, ▁Hello] → " Hello" while [▁Hello] → "Hello".
 * - "after-bos" (llama2.c run.c): strip the leading space of any piece that directly follows BOS,
 *   so [BOS, ▁Hello] → "Hello" (run.c prints the prompt this way).
 * - "keep": never strip. Use it for continuations (text appended to text already shown), or use an
 *   IncrementalDetokenizer primed with the preceding ids.
 */
export type LeadingSpaceRule = "first" | "after-bos" | "keep";

export interface EncodeOptions {
  /**
   * Add the model's special tokens: BOS first when `addBos`, EOS last when the vocabulary asks for
   * it (tokenizer.ggml.add_eos_token). Default false: nothing is added unless asked.
   */
  addSpecial?: boolean;
  /**
   * Let literal control-token text such as "<s>" or "<|im_start|>" map to that token (default false,
   * as in llama.cpp's tokenizer tests; it is then tokenized as plain text). User-defined tokens
   * (token type 4) are always matched, as in llama.cpp and Hugging Face tokenizers.
   */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control/unknown tokens (BOS, EOS, <unk>, ...) as their text instead of nothing. */
  renderSpecial?: boolean;
  /** See LeadingSpaceRule; default "first" (llama.cpp). */
  leadingSpace?: LeadingSpaceRule;
}

/** A tokenizer built from a checkpoint's vocabulary. Ids are vocabulary indices. */
export interface Tokenizer {
  /** "llama" (SentencePiece-style BPE with byte fallback) or "gpt2" (byte-level BPE). */
  readonly kind: "llama" | "gpt2";
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Whether encode() with addSpecial prepends BOS (tokenizer.ggml.add_bos_token). */
  readonly addBos: boolean;
  /**
   * Whether encode() puts a dummy "▁" before the text (SentencePiece add_dummy_prefix;
   * tokenizer.ggml.add_space_prefix, default true for "llama", false for "gpt2"). Decoding strips
   * that space again per LeadingSpaceRule.
   */
  readonly addSpacePrefix: boolean;
  /**
   * Text to ids. `addSpecial` prepends BOS when addBos is set. `parseSpecial` lets literal control-token
   * text such as "<s>" map to the control token (off by default, as in llama.cpp's tokenizer tests).
   */
  encode(text: string, opts?: EncodeOptions): number[];
  /**
   * The raw bytes of one token as decode() would print it on its own (byte-fallback <0xXX> → that
   * byte, "▁" → " ", byte-level BPE symbols → their bytes), without any leading-space stripping.
   * Control and unknown tokens give no bytes unless `renderSpecial` (then their text); unused
   * tokens (type 5) give none. A piece may be an incomplete UTF-8 sequence.
   */
  tokenBytes(id: number, opts?: { renderSpecial?: boolean }): Uint8Array;
  /**
   * Ids to text: the tokens' bytes joined, then decoded as UTF-8 once (so characters split across
   * byte tokens come out whole; invalid bytes become U+FFFD). Control tokens (BOS/EOS...) render as
   * nothing unless `renderSpecial`. The dummy-prefix space is stripped per `leadingSpace`.
   */
  decode(ids: number[], opts?: DecodeOptions): string;
  /** The vocabulary string of an id, as stored. */
  idToPiece(id: number): string;
  /** Whether id is a control token (BOS, EOS, ...), per token types. */
  isControl(id: number): boolean;
}
