import { render } from "ink-testing-library";
import { createElement } from "react";
import { resolveChatTemplate } from "../../src/server/chat-template.ts";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import type { SamplingParams } from "../../src/sampling/params.ts";
import type { BackendStats, ChatBackend, ChatMessage, ReplyEvent, ReplyStream } from "../../src/tui/backend.ts";
import { ChatApp } from "../../src/tui/chat-app.tsx";
import { ChatSession } from "../../src/tui/chat-session.ts";
import { LocalChatBackend } from "../../src/tui/local-backend.ts";
import { loadTestModel } from "../helpers/engine.ts";

/** stories260k's models.yaml sampling defaults. */
export const STORIES_DEFAULTS: Partial<SamplingParams> = { temperature: 0.8, topP: 0.95, maxTokens: 256, stopTokenIds: [1] };

/** The real engine on stories260k behind the chat backend, as `llm chat stories260k` builds it. */
export async function localBackend(): Promise<LocalChatBackend> {
  const loaded = await loadTestModel("stories260k");
  const template = resolveChatTemplate(loaded.checkpoint.metadata, loaded.tokenizer);
  return new LocalChatBackend(new LLMEngine(loaded), template, "stories260k", STORIES_DEFAULTS);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `fn` returns true (or throw with `what` after timeoutMs). */
export async function waitFor(fn: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const KEYS = { enter: "\r", ctrlC: "\u0003", esc: "\u001B", up: "\u001B[A", down: "\u001B[B", tab: "\t", backspace: "\u007F" };

/** The ChatApp in ink-testing-library, counting React commits. */
export function mountChat(session: ChatSession, opts: { fps?: number; banner?: string } = {}) {
  const counter = { commits: 0, exited: 0 };
  const app = render(createElement(ChatApp, {
    session, fps: opts.fps ?? 30, banner: opts.banner ?? "llm chat test", onCommit: () => counter.commits++, onExit: () => counter.exited++,
  }));
  const frame = () => app.lastFrame() ?? "";
  return {
    app, counter, frame,
    /** Write keys, then give ink a moment to handle them. */
    async press(...keys: string[]) {
      for (const k of keys) {
        app.stdin.write(k);
        await sleep(30);
      }
    },
    async type(text: string) {
      app.stdin.write(text);
      await sleep(30);
    },
    /** The text after the last "> " prompt (the input line), without trailing spaces (the cursor is one). */
    inputLine(): string {
      const lines = frame().split("\n");
      const i = lines.map((l) => l.startsWith("> ")).lastIndexOf(true);
      return i < 0 ? "" : lines[i]!.slice(2).trimEnd();
    },
  };
}

/**
 * A scripted backend for tests of the UI itself: replies with the given pieces, one every
 * `intervalMs`, honours abort, records what it was sent. (The same tests also run on the engine.)
 */
export class ScriptedBackend implements ChatBackend {
  readonly model = "scripted";
  readonly where = "local";
  readonly maxContext = 1000;
  readonly sent: ChatMessage[][] = [];
  statsResult: BackendStats = { kvCacheUsage: 0.25, prefixCacheHitRate: 0.5, numRunning: 0, numWaiting: 0, extra: {} };

  /** Called before each piece is yielded (tests move their clock here). */
  onPiece: (i: number) => void = () => {};

  constructor(public pieces: string[], public intervalMs = 1) {}

  effectiveParams(o: Partial<SamplingParams>): Partial<SamplingParams> {
    return { temperature: 1, ...o };
  }

  reply(messages: readonly ChatMessage[], _params: Partial<SamplingParams>): ReplyStream {
    this.sent.push(messages.map((m) => ({ ...m })));
    let aborted = false;
    const { pieces, intervalMs } = this;
    const onPiece = (i: number) => this.onPiece(i);
    async function* events(): AsyncGenerator<ReplyEvent> {
      let n = 0;
      for (const p of pieces) {
        if (aborted) break;
        await sleep(intervalMs);
        if (aborted) break;
        onPiece(n);
        n++;
        yield { type: "delta", text: p, tokens: 1 };
      }
      yield { type: "end", finishReason: aborted ? "abort" : "stop", promptTokens: 10, completionTokens: n, cachedTokens: null };
    }
    const it = events();
    return { promptTokens: 10, abort: () => void (aborted = true), [Symbol.asyncIterator]: () => it };
  }

  async stats(): Promise<BackendStats> {
    return this.statsResult;
  }

  async close(): Promise<void> {}
}

/** Per-test timeout for tests that run the engine or spawn processes (bun's default is 5 s). */
export const SLOW = 120_000;
