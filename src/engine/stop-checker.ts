/**
 * Stop strings over streamed text (vLLM semantics): the text is searched as it grows; while
 * streaming, the last max(len(stop)) - 1 characters are held back, since they could be the start
 * of a stop string. The stop string itself is not part of the output.
 */
export class StopChecker {
  private text = "";
  private emitted = 0;
  private readonly holdBack: number;
  stoppedBy: string | null = null;

  constructor(private readonly stops: readonly string[]) {
    this.holdBack = stops.reduce((m, s) => Math.max(m, s.length - 1), 0);
  }

  /** The whole output text so far (after truncation at a stop string). */
  get fullText(): string {
    return this.text;
  }

  /**
   * Add newly detokenized text; returns the text that is now safe to emit.
   * After a stop string is found, `stoppedBy` is set and later calls return "".
   */
  push(delta: string): string {
    if (this.stoppedBy !== null) return "";
    const searchFrom = Math.max(0, this.text.length - this.holdBack);
    this.text += delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.text.indexOf(s, searchFrom);
      if (i >= 0 && (cut < 0 || i < cut)) { cut = i; this.stoppedBy = s; }
    }
    if (cut >= 0) {
      this.text = this.text.slice(0, cut);
      return this.take(this.text.length);
    }
    return this.take(Math.max(this.emitted, this.text.length - this.holdBack));
  }

  /** Emit whatever was held back (the request ended for another reason). */
  flush(): string {
    return this.take(this.text.length);
  }

  private take(upTo: number): string {
    // Never split a UTF-16 surrogate pair.
    if (upTo < this.text.length && upTo > 0) {
      const c = this.text.charCodeAt(upTo - 1);
      if (c >= 0xd800 && c <= 0xdbff) upTo--;
    }
    if (upTo <= this.emitted) return "";
    const out = this.text.slice(this.emitted, upTo);
    this.emitted = upTo;
    return out;
  }
}
