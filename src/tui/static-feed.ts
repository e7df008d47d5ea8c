import type { ChatSession, Entry } from "./chat-session.ts";
import { wrapLines } from "./wrap.ts";

/** What <Static> prints, once each: whole entries, and a streaming reply's finished lines. */
export type FeedItem =
  | { key: string; type: "entry"; entry: Entry }
  | { key: string; type: "line"; text: string; prefix: string }
  | { key: string; type: "meta"; text: string };

/**
 * Turns the session into an append-only list for ink's <Static>. While a reply streams, every
 * wrapped line except the last is final (wrapLines is stable under appending), so it is printed
 * into the scrollback at once and the live area holds one line: frames stay small however long
 * the reply. When the reply's entry arrives only its remaining lines and footer are added.
 */
export class StaticFeed {
  items: FeedItem[] = [];
  private entriesSeen = 0;
  private linesPrinted = 0;
  private width: number | null = null;
  private nextKey = 0;

  constructor(private readonly prefix: string, banner?: string) {
    if (banner) this.items.push({ key: "banner", type: "entry", entry: { id: -1, kind: "info", text: banner } });
  }

  /** Bring the list up to date; returns a new array when something was added (Static needs that), else the same one. */
  update(session: ChatSession, width: number): FeedItem[] {
    const add: FeedItem[] = [];
    for (const e of session.entries.slice(this.entriesSeen)) {
      if (e.kind === "assistant" && this.width !== null) {
        add.push(...this.lines(wrapLines(this.prefix + e.text, this.width), Infinity));
        if (e.meta) add.push({ key: `m${this.nextKey++}`, type: "meta", text: e.meta });
        this.width = null;
        this.linesPrinted = 0;
      } else {
        add.push({ key: `e${e.id}`, type: "entry", entry: e });
      }
    }
    this.entriesSeen = session.entries.length;
    if (session.live) {
      this.width ??= Math.max(10, width - 1);
      const wrapped = wrapLines(this.prefix + session.live.text, this.width);
      add.push(...this.lines(wrapped, wrapped.length - 1));
    }
    if (add.length > 0) this.items = [...this.items, ...add];
    return this.items;
  }

  /** The current line of the streaming reply (what the live area shows), with the prefix when it is the first. */
  liveLine(session: ChatSession): { text: string; withPrefix: boolean } {
    if (!session.live || this.width === null) return { text: session.live?.text ?? "", withPrefix: true };
    const wrapped = wrapLines(this.prefix + session.live.text, this.width);
    const last = wrapped[wrapped.length - 1] ?? "";
    return wrapped.length === 1 ? { text: last.slice(this.prefix.length), withPrefix: true } : { text: last, withPrefix: false };
  }

  private lines(wrapped: string[], upTo: number): FeedItem[] {
    const out: FeedItem[] = [];
    for (; this.linesPrinted < Math.min(upTo, wrapped.length); this.linesPrinted++) {
      const i = this.linesPrinted;
      const text = wrapped[i]!;
      out.push({ key: `l${this.nextKey++}`, type: "line", text: i === 0 ? text.slice(this.prefix.length) : text, prefix: i === 0 ? this.prefix : "" });
    }
    return out;
  }
}
