import { LlmError } from "../../util/errors.ts";
import { BaseTokenizer } from "../base-tokenizer.ts";
import { applyMerges, MergeQueue } from "../merge-queue.ts";
import type { Fragment } from "../special-tokens.ts";
import { SPM_SPACE } from "../spm.ts";
import { TokenType, type Vocab } from "../vocab.ts";
import type { Normalize } from "./pipeline.ts";

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

export interface ByteFallbackBpeOptions {
  /** Normalizer (and Metaspace replacement/prepend) per text fragment. */
  normalize: Normalize;
  /** Pre-tokenizer: the words merges stay within. */
  splitWords: (text: string) => string[];
  /** Use a word that is itself in the vocabulary as one token (tokenizer.json `ignore_merges`). */
  ignoreMerges: boolean;
  /** Spell symbols missing from the vocabulary as <0xXX> byte tokens (`byte_fallback`). */
  byteFallback: boolean;
  /** Fuse runs of unknown symbols into one <unk> (`fuse_unk`). */
  fuseUnk: boolean;
}

/**
 * SentencePiece-style BPE as Hugging Face tokenizers runs it from a tokenizer.json (Llama 2,
 * TinyLlama, Mistral, Gemma): the normalizer turns spaces into "▁" (and may prepend one), each
 * word is split into characters, and adjacent pairs are merged by lowest merge rank (the order of
 * `model.merges`; ties leftmost) until none applies. Characters not in the vocabulary become byte
 * tokens <0xXX> of their UTF-8 (byte fallback), else <unk>. Unlike SpmTokenizer (GGUF, merges by
 * piece score), the merge order here is the file's merge list, which is what the reference uses.
 */
export class ByteFallbackBpeTokenizer extends BaseTokenizer {
  readonly kind = "llama" as const;
  private readonly ranks = new Map<string, number>();
  private readonly queue = new MergeQueue();
  private readonly cache = new Map<string, readonly number[]>();

  constructor(vocab: Vocab, merges: readonly [string, string][], private readonly opts: ByteFallbackBpeOptions) {
    super(vocab);
    merges.forEach(([a, b], rank) => {
      const key = `${a}\u0000${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
  }

  protected encodeFragments(fragments: Fragment[], out: number[]): void {
    fragments.forEach((f, i) => {
      if (f.id !== undefined) {
        out.push(f.id);
        return;
      }
      const text = this.opts.normalize(f.text, i === 0);
      for (const word of this.opts.splitWords(text)) this.encodeWord(word, out);
    });
  }

  protected normalPieceBytes(id: number): Uint8Array {
    const text = this.vocab.tokens[id]!;
    if (this.vocab.types[id] === TokenType.Byte) {
      const m = BYTE_PIECE.exec(text);
      if (m) return Uint8Array.of(parseInt(m[1]!, 16));
    }
    return this.utf8.encode(text.replaceAll(SPM_SPACE, " "));
  }

  /** Hugging Face runs added tokens through the decoder too: "▁▁" (Gemma) decodes to two spaces. */
  protected override userDefinedPieceBytes(id: number): Uint8Array {
    return this.utf8.encode(this.vocab.tokens[id]!.replaceAll(SPM_SPACE, " "));
  }

  private encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      const whole = this.opts.ignoreMerges ? this.vocab.tokenToId.get(word) : undefined;
      ids = whole !== undefined ? [whole] : this.merge(word);
      if (this.cache.size >= 10000) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  /** Merges one word; symbols are code points tracked as [start, length) in `word`. */
  private merge(word: string): number[] {
    const start: number[] = [];
    const len: number[] = [];
    for (let i = 0; i < word.length; ) {
      const n = word.codePointAt(i)! > 0xffff ? 2 : 1;
      start.push(i);
      len.push(n);
      i += n;
    }
    const count = start.length;
    if (count === 0) return [];
    const prev = start.map((_, i) => i - 1);
    const next = start.map((_, i) => (i + 1 < count ? i + 1 : -1));
    const queue = this.queue;
    queue.reset();
    const piece = (i: number): string => word.slice(start[i], start[i]! + len[i]!);
    const tryAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const rank = this.ranks.get(`${piece(left)}\u0000${piece(right)}`);
      if (rank !== undefined) queue.push(rank, left, right, len[left]! + len[right]!);
    };
    for (let i = 1; i < count; i++) tryAdd(i - 1, i);
    applyMerges(queue, len, prev, next, tryAdd);

    const ids: number[] = [];
    let lastUnk = false;
    for (let i = 0; i !== -1; i = next[i]!) {
      const p = piece(i);
      const id = this.vocab.tokenToId.get(p);
      if (id !== undefined) {
        ids.push(id);
        lastUnk = false;
        continue;
      }
      if (this.opts.byteFallback && this.pushBytes(p, ids)) {
        lastUnk = false;
        continue;
      }
      const unk = this.vocab.unkId;
      if (unk === null) throw new LlmError(`cannot tokenize ${JSON.stringify(p)}: not in the vocabulary, and the tokenizer has no byte fallback or <unk>`);
      if (!(this.opts.fuseUnk && lastUnk)) ids.push(unk);
      lastUnk = true;
    }
    return ids;
  }

  /** Byte tokens for every UTF-8 byte of `p`, or false (nothing pushed) when one is missing. */
  private pushBytes(p: string, ids: number[]): boolean {
    const bytes = this.utf8.encode(p);
    const found: number[] = [];
    for (const b of bytes) {
      const id = this.vocab.tokenToId.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
      if (id === undefined) return false;
      found.push(id);
    }
    ids.push(...found);
    return true;
  }
}
