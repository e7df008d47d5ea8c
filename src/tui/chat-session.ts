import type { SamplingParams } from "../sampling/params.ts";
import { ContextOverflowError, type BackendStats, type ChatBackend, type ChatMessage, type ReplyStream } from "./backend.ts";
import { formatReplyMeta } from "./format.ts";

export type EntryKind = "user" | "assistant" | "info" | "error";

/** One finished line of the transcript on screen (ink's <Static> prints each once). */
export interface Entry {
  id: number;
  kind: EntryKind;
  text: string;
  /** Dim footer, e.g. "42 tokens · 130 tok/s · TTFT 12 ms". */
  meta?: string;
}

/** The reply being generated. */
export interface LiveReply {
  text: string;
  tokens: number;
  startMs: number;
  firstTokenMs: number | null;
  lastTokenMs: number | null;
  promptTokens: number | null;
}

/** Figures of a finished reply. */
export interface ReplyMetrics {
  ttftMs: number | null;
  /** Decode rate: (tokens - 1) over the time from the first token to the last. */
  tokPerS: number | null;
  promptTokens: number | null;
  completionTokens: number;
  cachedTokens: number | null;
  finishReason: string;
}

export type SessionEvent = { type: "change" } | { type: "delta"; text: string } | { type: "exit" };

export interface SessionOptions {
  system?: string | null;
  params?: Partial<SamplingParams>;
  /** Clock in ms (performance.now by default; tests may pass their own). */
  now?: () => number;
}

/**
 * A conversation with a ChatBackend, independent of any UI: the messages sent to the model, the
 * transcript shown, the reply in flight and its timings, and the backend's stats. The ink app and
 * the piped mode both drive it; they learn of changes through subscribe().
 */
export class ChatSession {
  entries: readonly Entry[] = [];
  messages: ChatMessage[] = [];
  system: string | null;
  params: Partial<SamplingParams>;
  live: LiveReply | null = null;
  last: ReplyMetrics | null = null;
  stats: BackendStats | null = null;
  exitRequested = false;
  private current: ReplyStream | null = null;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  private nextId = 0;
  private statsAt = -Infinity;
  /** Bumped by reset(): a reply that ends after a reset leaves the new conversation alone. */
  private epoch = 0;
  private readonly now: () => number;

  constructor(readonly backend: ChatBackend, opts: SessionOptions = {}) {
    this.system = opts.system ?? null;
    this.params = { ...(opts.params ?? {}) };
    this.now = opts.now ?? (() => performance.now());
  }

  subscribe(fn: (e: SessionEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: SessionEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  get busy(): boolean {
    return this.live !== null;
  }

  /** Add a transcript entry (a new array, so <Static> sees it). */
  log(kind: EntryKind, text: string, meta?: string): Entry {
    const e: Entry = { id: this.nextId++, kind, text, ...(meta !== undefined ? { meta } : {}) };
    this.entries = [...this.entries, e];
    this.emit({ type: "change" });
    return e;
  }

  /** The messages as sent: the system prompt first, when there is one. */
  conversation(): ChatMessage[] {
    return this.system ? [{ role: "system", content: this.system }, ...this.messages] : [...this.messages];
  }

  /** Tokens of the context in use: the last prompt plus what was generated after it. */
  contextUsed(): number | null {
    if (this.live) return this.live.promptTokens === null ? null : this.live.promptTokens + this.live.tokens;
    return this.last?.promptTokens != null ? this.last.promptTokens + this.last.completionTokens : null;
  }

  /** Send a user message and stream the reply; resolves when it ends (also on Ctrl+C / stop()). */
  async send(text: string): Promise<ReplyMetrics | null> {
    if (this.busy) throw new Error("a reply is in progress");
    this.messages.push({ role: "user", content: text });
    this.log("user", text);
    const live: LiveReply = { text: "", tokens: 0, startMs: this.now(), firstTokenMs: null, lastTokenMs: null, promptTokens: null };
    this.live = live;
    this.emit({ type: "change" });
    let dropped = 0;
    const epoch = this.epoch;
    try {
      for (;;) {
        try {
          return await this.stream(live, dropped, epoch);
        } catch (e) {
          if (!(e instanceof ContextOverflowError) || live.tokens > 0 || this.messages.length < 3) throw e;
          this.messages.splice(0, 2);
          dropped += 2;
        }
      }
    } catch (e) {
      if (epoch === this.epoch) this.messages.pop();
      this.log("error", (e as Error).message);
      return null;
    } finally {
      this.live = null;
      this.current = null;
      await this.refreshStats(true);
    }
  }

  private async stream(live: LiveReply, dropped: number, epoch: number): Promise<ReplyMetrics> {
    const stream = this.backend.reply(this.conversation(), this.params);
    this.current = stream;
    live.promptTokens = stream.promptTokens;
    let noticed = dropped === 0;
    if (this.exitRequested) stream.abort();
    for await (const ev of stream) {
      if (!noticed) {
        noticed = true;
        this.log("info", `(dropped the ${dropped} earliest messages to fit the ${this.backend.maxContext ?? "server's"}-token context)`);
      }
      if (ev.type === "delta") {
        const t = this.now();
        live.firstTokenMs ??= t;
        live.lastTokenMs = t;
        live.text += ev.text;
        live.tokens += ev.tokens;
        this.emit({ type: "delta", text: ev.text });
        this.emit({ type: "change" });
        void this.refreshStats(false);
        continue;
      }
      const n = ev.completionTokens;
      const span = live.firstTokenMs !== null && live.lastTokenMs !== null ? live.lastTokenMs - live.firstTokenMs : 0;
      const m: ReplyMetrics = {
        ttftMs: live.firstTokenMs === null ? null : live.firstTokenMs - live.startMs,
        tokPerS: n > 1 && span > 0 ? ((n - 1) / span) * 1000 : null,
        promptTokens: ev.promptTokens ?? live.promptTokens, completionTokens: n, cachedTokens: ev.cachedTokens, finishReason: ev.finishReason,
      };
      this.last = m;
      if (epoch !== this.epoch) {
        // reset (or /load) while it ran: the reply belongs to the old conversation.
      } else if (live.text === "" && ev.finishReason === "abort") this.messages.pop();
      else this.messages.push({ role: "assistant", content: live.text });
      this.log("assistant", live.text, formatReplyMeta(m));
      return m;
    }
    throw new Error("the reply stream ended without an end event");
  }

  /** Stop the reply in flight (it keeps the text so far). False when idle. */
  stop(): boolean {
    if (!this.current) return false;
    this.current.abort();
    return true;
  }

  /** Forget the conversation (the system prompt and parameters stay). */
  reset(): void {
    this.stop();
    this.epoch++;
    this.messages = [];
    this.last = null;
    this.emit({ type: "change" });
  }

  requestExit(): void {
    this.exitRequested = true;
    this.stop();
    this.emit({ type: "exit" });
  }

  /** Ask the backend for fresh stats (at most 4 times a second unless forced). */
  async refreshStats(force: boolean): Promise<void> {
    const t = this.now();
    if (!force && t - this.statsAt < 250) return;
    this.statsAt = t;
    try {
      this.stats = await this.backend.stats(force);
    } catch {
      this.stats = null;
    }
    this.emit({ type: "change" });
  }
}
