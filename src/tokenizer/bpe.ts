import { ModelFileError } from "../util/errors.ts";
import { BaseTokenizer } from "./base-tokenizer.ts";
import { bytesToUnicode, unicodeCharToByte } from "./byte-unicode.ts";
import { applyMerges, MergeQueue } from "./merge-queue.ts";
import { PreTokenizer, type PreTokenizerSpec } from "./pre-tokenizers.ts";
import type { Fragment } from "./special-tokens.ts";
import { TokenType, type Vocab } from "./vocab.ts";

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export interface BpeOptions {
  /** Words whose ids are remembered (default 10000); the oldest entry goes when full. */
  cacheSize?: number;
  /** File named in errors about malformed merges. */
  file?: string;
  /**
   * A tokenizer.json normalizer applied to each text fragment (text between special tokens) before
   * pre-tokenization; `atStart` tells whether the fragment begins the input. None for GGUF files.
   */
  normalize?: (text: string, atStart: boolean) => string;
}

/**
 * Byte-level BPE (GPT-2 style; tokenizer.ggml.model "gpt2"): the pre-tokenizer splits text into
 * words, each word's UTF-8 bytes are spelled with GPT-2's byte characters, and adjacent symbols are
 * merged by lowest merge rank (tokenizer.ggml.merges order; ties: leftmost) until no pair has a rank.
 */
export class BpeTokenizer extends BaseTokenizer {
  readonly kind = "gpt2" as const;
  private readonly ranks = new Map<string, number>();
  private readonly pre: PreTokenizer;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly cacheSize: number;
  private readonly normalize: ((text: string, atStart: boolean) => string) | undefined;
  /** Scratch queue, reset for every word (encode is synchronous, so one per instance is enough). */
  private readonly queue = new MergeQueue();

  constructor(vocab: Vocab, merges: readonly string[], pre: PreTokenizerSpec, opts: BpeOptions = {}) {
    super(vocab);
    this.pre = new PreTokenizer(pre);
    this.cacheSize = opts.cacheSize ?? 10000;
    this.normalize = opts.normalize;
    merges.forEach((m, rank) => {
      // As llama.cpp: split at the first space after the first character (a first part may be " ").
      const at = m.indexOf(" ", 1);
      if (at < 0 || at === m.length - 1) {
        throw new ModelFileError(opts.file ?? "tokenizer metadata", `malformed BPE merge ${rank} ${JSON.stringify(m)}`);
      }
      if (!this.ranks.has(m)) this.ranks.set(m, rank); // the first occurrence wins
    });
  }

  protected encodeFragments(fragments: Fragment[], out: number[]): void {
    fragments.forEach((f, i) => {
      if (f.id !== undefined) out.push(f.id);
      else {
        const text = this.normalize ? this.normalize(f.text, i === 0) : f.text;
        for (const word of this.pre.split(text)) this.encodeWord(word, out);
      }
    });
  }

  protected normalPieceBytes(id: number): Uint8Array {
    const text = this.vocab.tokens[id]!;
    if (this.vocab.types[id] === TokenType.Byte) {
      const m = BYTE_PIECE.exec(text);
      if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    }
    const bytes: number[] = [];
    for (const ch of text) {
      const b = unicodeCharToByte(ch);
      if (b !== undefined) bytes.push(b);
      else bytes.push(...this.utf8.encode(ch)); // not a byte-level character: keep it as text
    }
    return Uint8Array.from(bytes);
  }

  private encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      const symbols = bytesToUnicode(this.utf8.encode(word));
      const whole = this.pre.spec.ignoreMerges ? this.vocab.tokenToId.get(symbols) : undefined;
      ids = whole !== undefined ? [whole] : this.merge(symbols);
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  /** BPE over one word in byte characters (each one UTF-16 unit); symbols are [start, length). */
  private merge(text: string): number[] {
    const n = text.length;
    const len: number[] = new Array(n).fill(1);
    const prev = len.map((_, i) => i - 1);
    const next = len.map((_, i) => (i + 1 < n ? i + 1 : -1));
    // Lowest rank first, ties leftmost (llama.cpp's llm_bigram_bpe order); stale entries skipped by size.
    const queue = this.queue;
    queue.reset();
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const rank = this.ranks.get(`${text.slice(left, left + len[left]!)} ${text.slice(right, right + len[right]!)}`);
      if (rank !== undefined) queue.push(rank, left, right, len[left]! + len[right]!);
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);

    applyMerges(queue, len, prev, next, tryAdd);

    const ids: number[] = [];
    for (let i = 0; i !== -1 && n > 0; i = next[i]!) {
      const piece = text.slice(i, i + len[i]!);
      const id = this.vocab.tokenToId.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      for (const ch of piece) {
        // No token for the merged symbol: fall back to single characters (as llama.cpp), skip unknowns.
        const single = this.vocab.tokenToId.get(ch);
        if (single !== undefined) ids.push(single);
      }
    }
    return ids;
  }
}
