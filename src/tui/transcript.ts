import { readFileSync, writeFileSync } from "node:fs";
import { makeSamplingParams, type SamplingParams } from "../sampling/params.ts";
import { UsageError } from "../util/errors.ts";
import type { ChatMessage } from "./backend.ts";
import type { ChatSession } from "./chat-session.ts";

export const TRANSCRIPT_FORMAT = "llm-chat-transcript";

/** A saved conversation (`/save FILE`, `/load FILE`). */
export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  version: 1;
  model: string;
  where: string;
  savedAt: string;
  system: string | null;
  /** The sampling parameters the user set (not the model's defaults). */
  params: Partial<SamplingParams>;
  messages: ChatMessage[];
}

export function toTranscript(s: ChatSession): Transcript {
  return {
    format: TRANSCRIPT_FORMAT, version: 1, model: s.backend.model, where: s.backend.where, savedAt: new Date().toISOString(),
    system: s.system, params: { ...s.params }, messages: s.messages.map((m) => ({ ...m })),
  };
}

export function saveTranscript(s: ChatSession, file: string): void {
  try {
    writeFileSync(file, JSON.stringify(toTranscript(s), null, 2) + "\n");
  } catch (e) {
    throw new UsageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const PARAM_KEYS: ReadonlySet<string> = new Set(["temperature", "topP", "topK", "minP", "repetitionPenalty", "presencePenalty",
  "frequencyPenalty", "seed", "maxTokens", "stop", "stopTokenIds", "ignoreEos"]);

/** Read and check a transcript; errors name the file and what is wrong. */
export function readTranscript(file: string): Transcript {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`cannot load ${file}: ${err.code ?? err.message}`);
  }
  const bad = (what: string) => new UsageError(`${file}: not a chat transcript (${what})`);
  if (typeof raw !== "object" || raw === null) throw bad("expected a JSON object");
  const t = raw as Record<string, unknown>;
  if (t["format"] !== TRANSCRIPT_FORMAT) throw bad(`"format" must be "${TRANSCRIPT_FORMAT}"`);
  if (!Array.isArray(t["messages"])) throw bad(`"messages" must be a list`);
  const messages = (t["messages"] as unknown[]).map((m, i) => {
    const r = m as Record<string, unknown> | null;
    if (!r || !["system", "user", "assistant"].includes(r["role"] as string) || typeof r["content"] !== "string") {
      throw bad(`messages[${i}] must be {role: system|user|assistant, content: string}`);
    }
    return { role: r["role"] as ChatMessage["role"], content: r["content"] as string };
  });
  let system = t["system"] === undefined || t["system"] === null ? null : t["system"];
  if (system !== null && typeof system !== "string") throw bad(`"system" must be a string or null`);
  if (messages[0]?.role === "system") system = messages.shift()!.content;
  const params = (t["params"] ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(params).filter((k) => !PARAM_KEYS.has(k));
  if (unknown.length) throw bad(`unknown params ${unknown.join(", ")}; accepted: ${[...PARAM_KEYS].join(", ")}`);
  makeSamplingParams(params as Partial<SamplingParams>);
  return {
    format: TRANSCRIPT_FORMAT, version: 1, model: String(t["model"] ?? ""), where: String(t["where"] ?? ""),
    savedAt: String(t["savedAt"] ?? ""), system: system as string | null, params: params as Partial<SamplingParams>, messages,
  };
}

/** Replace the session's conversation, system prompt and parameters with the transcript's. */
export function applyTranscript(s: ChatSession, t: Transcript): void {
  s.reset();
  s.system = t.system;
  s.params = { ...t.params };
  s.messages = t.messages.map((m) => ({ ...m }));
}
