import type { SamplingParams } from "../sampling/params.ts";
import { LlmError } from "../util/errors.ts";

/** One chat message as the backends send it (roles of the OpenAI chat API). */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** What a reply stream yields: deltas while it runs, then one end event. */
export type ReplyEvent =
  | { type: "delta"; text: string; tokens: number }
  | {
      type: "end";
      /** stop, length, abort (Ctrl+C), or another reason the server gave. */
      finishReason: string;
      promptTokens: number | null;
      completionTokens: number;
      /** Prompt tokens served from the prefix cache (local engine only). */
      cachedTokens: number | null;
    };

/** A reply being generated: iterate it once; abort() ends it early with finishReason "abort". */
export interface ReplyStream extends AsyncIterable<ReplyEvent> {
  /** Prompt tokens, when known before generation (the local engine tokenizes first). */
  readonly promptTokens: number | null;
  abort(): void;
}

/** Engine state for the status bar; null where the backend cannot tell (shown as "n/a"). */
export interface BackendStats {
  kvCacheUsage: number | null;
  prefixCacheHitRate: number | null;
  numRunning: number | null;
  numWaiting: number | null;
  /** Other facts for /stats, as label → value. */
  extra: Readonly<Record<string, string | number>>;
}

/**
 * What the chat UI talks to: the in-process engine (LocalChatBackend) or an OpenAI-compatible
 * server (RemoteChatBackend). Tests may script one.
 */
export interface ChatBackend {
  /** Model name shown in the UI. */
  readonly model: string;
  /** "local" or the server's base URL. */
  readonly where: string;
  /** Context window in tokens, when known. */
  readonly maxContext: number | null;
  /** Effective sampling parameters for a request with these overrides (the server's defaults count as unknown). */
  effectiveParams(overrides: Partial<SamplingParams>): Partial<SamplingParams>;
  /** Start a reply; throws (or its iteration throws) ContextOverflowError when the messages do not fit. */
  reply(messages: readonly ChatMessage[], params: Partial<SamplingParams>): ReplyStream;
  /** Current figures; `fresh` asks a backend that caches them (a server's /metrics) to look again. */
  stats(fresh?: boolean): Promise<BackendStats>;
  close(): Promise<void>;
}

/** The conversation does not fit the context window: the session drops its oldest turn and retries. */
export class ContextOverflowError extends LlmError {
  constructor(message: string) {
    super(message, 1);
    this.name = "ContextOverflowError";
  }
}
