import { LlmError } from "../util/errors.ts";
import { BaseTokenizer } from "./base-tokenizer.ts";
import { applyMerges, MergeQueue } from "./merge-queue.ts";
import type { Fragment } from "./special-tokens.ts";
import { TokenType, type Vocab } from "./vocab.ts";

/** U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible space. */
export const SPM_SPACE = "\u2581";

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm does it (tokenizer.ggml.model "llama"):
 * spaces become "▁", a dummy "▁" goes before text that starts the input or follows a special token
 * (add_space_prefix), the text is split into characters, and the adjacent pair whose concatenation is
 * a vocabulary entry with the highest score is merged until none is left (ties: leftmost). Symbols
 * that are not vocabulary entries come out as byte tokens <0xXX> of their UTF-8 (byte fallback).
 * No Unicode normalisation is applied (llama.cpp applies none either).
 */
export class SpmTokenizer extends BaseTokenizer {
  readonly kind = "llama" as const;
  /** Token id for each byte value (byte fallback), -1 when the vocabulary cannot spell it. */
  private readonly byteIds: Int32Array;
  /** Scratch queue, reset for every text (encode is synchronous, so one per instance is enough). */
  private readonly queue = new MergeQueue();

  constructor(vocab: Vocab) {
    super(vocab);
    this.byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const hex = b.toString(16).toUpperCase().padStart(2, "0");
      const id =
        vocab.tokenToId.get(`<0x${hex}>`) ?? (b < 0x80 ? vocab.tokenToId.get(String.fromCharCode(b)) : undefined);
      this.byteIds[b] = id ?? vocab.unkId ?? -1;
    }
  }

  protected encodeFragments(fragments: Fragment[], out: number[]): void {
    let prevSpecial = true; // the input start counts as "after a special token"
    for (const f of fragments) {
      if (f.id !== undefined) {
        out.push(f.id);
        prevSpecial = true;
        continue;
      }
      const text = (this.addSpacePrefix && prevSpecial ? " " : "") + f.text;
      this.encodeEscaped(text.replaceAll(" ", SPM_SPACE), out);
      prevSpecial = false;
    }
  }

  protected normalPieceBytes(id: number): Uint8Array {
    const text = this.vocab.tokens[id]!;
    if (this.vocab.types[id] === TokenType.Byte) {
      const m = BYTE_PIECE.exec(text);
      if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    }
    return this.utf8.encode(text.replaceAll(SPM_SPACE, " "));
  }

  /** Merges one space-escaped text; symbols are code points, tracked as [start, length) in `text`. */
  private encodeEscaped(text: string, out: number[]): void {
    const start: number[] = [];
    const len: number[] = [];
    for (let i = 0; i < text.length; ) {
      const n = text.codePointAt(i)! > 0xffff ? 2 : 1;
      start.push(i);
      len.push(n);
      i += n;
    }
    const count = start.length;
    if (count === 0) return;
    const prev = start.map((_, i) => i - 1);
    const next = start.map((_, i) => (i + 1 < count ? i + 1 : -1));
    // Highest score first (key = -score), ties leftmost: llama.cpp's llm_bigram_spm order. `size`
    // is the UTF-16 length of the merged text, so a stale entry (a side merged since) is skipped.
    const queue = this.queue;
    queue.reset();
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const size = len[left]! + len[right]!;
      const id = this.vocab.tokenToId.get(text.slice(start[left], start[left]! + size));
      if (id !== undefined) queue.push(-this.vocab.scores[id]!, left, right, size);
    };
    for (let i = 1; i < count; i++) tryAdd(i - 1, i);

    applyMerges(queue, len, prev, next, tryAdd);

    for (let i = 0; i !== -1; i = next[i]!) {
      const piece = text.slice(start[i], start[i]! + len[i]!);
      const id = this.vocab.tokenToId.get(piece);
      if (id !== undefined) out.push(id);
      else this.byteFallback(piece, out);
    }
  }

  private byteFallback(piece: string, out: number[]): void {
    for (const byte of this.utf8.encode(piece)) {
      const id = this.byteIds[byte]!;
      if (id < 0) {
        const hex = byte.toString(16).toUpperCase().padStart(2, "0");
        throw new LlmError(`cannot tokenize byte 0x${hex}: the vocabulary has no <0x${hex}> token and no <unk>`);
      }
      out.push(id);
    }
  }
}
