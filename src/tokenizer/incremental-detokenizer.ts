import { applyLeadingSpace, stripsLeadingSpace } from "./leading-space.ts";
import type { LeadingSpaceRule, Tokenizer } from "./types.ts";

export interface IncrementalDetokenizerOptions {
  /** Render control/unknown tokens as their text (default false: they add nothing). */
  renderSpecial?: boolean;
  /** As in Tokenizer.decode (default "first", llama.cpp). Use "after-bos" for run.c's output. */
  leadingSpace?: LeadingSpaceRule;
  /**
   * Ids that come before the pushed ones and have already been shown (e.g. the prompt): they set
   * the leading-space state and any unfinished UTF-8 sequence, but produce no text.
   */
  prefixIds?: readonly number[];
}

/**
 * Turns ids arriving one at a time (streaming generation) into text. push() returns only the newly
 * completed text: a multi-byte character split across byte tokens is held back until its last byte
 * arrives, so every returned chunk is well-formed (valid UTF-8 once encoded). Invalid byte sequences
 * come out as U+FFFD exactly as decode() would. The chunks joined, plus flush(), equal
 * tokenizer.decode(allIds, same options) (with prefixIds: decode(prefix + ids) minus decode(prefix)).
 * One instance per sequence; not shareable.
 */
export class IncrementalDetokenizer {
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  private readonly renderSpecial: boolean;
  private readonly rule: LeadingSpaceRule;
  private prevId: number | null = null;
  private seen = 0;

  constructor(
    private readonly tokenizer: Tokenizer,
    opts: IncrementalDetokenizerOptions = {},
  ) {
    this.renderSpecial = opts.renderSpecial ?? false;
    this.rule = opts.leadingSpace ?? "first";
    for (const id of opts.prefixIds ?? []) this.next(id);
  }

  /** Feeds one id; returns the text it completes ("" when nothing is complete yet). */
  push(id: number): string {
    return this.next(id);
  }

  /** Feeds several ids; returns the text they complete. */
  pushAll(ids: readonly number[]): string {
    let text = "";
    for (const id of ids) text += this.next(id);
    return text;
  }

  /** Ends the sequence: an unfinished trailing UTF-8 sequence comes out as U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }

  private next(id: number): string {
    const strip = stripsLeadingSpace(this.rule, this.tokenizer.addSpacePrefix, this.tokenizer.bosId, {
      isFirst: this.seen === 0,
      prevId: this.prevId,
    });
    const bytes = applyLeadingSpace(this.tokenizer.tokenBytes(id, { renderSpecial: this.renderSpecial }), strip);
    this.seen++;
    this.prevId = id;
    return this.decoder.decode(bytes, { stream: true });
  }
}
