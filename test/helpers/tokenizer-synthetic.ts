import type { MetadataValue } from "../../src/loader/types.ts";

/** Test-only: GGUF-form metadata for a tiny SentencePiece vocabulary ([piece, score, type?]). */
export function spmMetadata(
  pieces: [string, number, number?][],
  extra: [string, MetadataValue][] = [],
): Map<string, MetadataValue> {
  return new Map<string, MetadataValue>([
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", pieces.map((p) => p[0])],
    ["tokenizer.ggml.scores", pieces.map((p) => p[1])],
    ["tokenizer.ggml.token_type", pieces.map((p) => p[2] ?? 1)],
    ...extra,
  ]);
}

/** <unk>, <s>, </s> and the 256 byte tokens, as in Llama 2's first 259 ids. */
export function spmBasePieces(): [string, number, number][] {
  const pieces: [string, number, number][] = [
    ["<unk>", 0, 2],
    ["<s>", 0, 3],
    ["</s>", 0, 3],
  ];
  for (let b = 0; b < 256; b++) pieces.push([`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0, 6]);
  return pieces;
}

/** Test-only: GGUF-form metadata for a tiny byte-level BPE vocabulary. */
export function bpeMetadata(
  tokens: string[],
  merges: string[],
  extra: [string, MetadataValue][] = [],
): Map<string, MetadataValue> {
  return new Map<string, MetadataValue>([
    ["tokenizer.ggml.model", "gpt2"],
    ["tokenizer.ggml.pre", "gpt-2"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.merges", merges],
    ...extra,
  ]);
}
