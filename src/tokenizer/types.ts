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
   * Text to ids. `addSpecial` prepends BOS when addBos is set. `parseSpecial` lets literal control-token
   * text such as "<s>" map to the control token (off by default, as in llama.cpp's tokenizer tests).
   */
  encode(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  /** The raw bytes of one token as it would be printed (byte-fallback <0xXX> → that byte, "▁" → " "). */
  tokenBytes(id: number): Uint8Array;
  /** Ids to text. Control tokens (BOS/EOS...) render as nothing unless `renderSpecial`. */
  decode(ids: number[], opts?: { renderSpecial?: boolean }): string;
  /** The vocabulary string of an id, as stored. */
  idToPiece(id: number): string;
  /** Whether id is a control token (BOS, EOS, ...), per token types. */
  isControl(id: number): boolean;
}
