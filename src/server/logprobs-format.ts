import type { PositionLogprobs } from "../engine/request-output.ts";
import type { Tokenizer } from "../tokenizer/types.ts";

/** JSON has no -Infinity: clamp as vLLM does. */
const clamp = (x: number) => Math.max(x, -9999);

/** A token as text for logprobs (special tokens by their text, invalid UTF-8 pieces as U+FFFD). */
export function tokenText(tokenizer: Tokenizer, id: number): string {
  return new TextDecoder().decode(tokenizer.tokenBytes(id, { renderSpecial: true }));
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

/** The legacy completions shape; `offset` is where this piece of text starts in the choice's text. */
export function completionLogprobs(tokenizer: Tokenizer, positions: readonly PositionLogprobs[], offset: number): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let at = offset;
  for (const p of positions) {
    const text = tokenText(tokenizer, p.tokenId);
    out.tokens.push(text);
    out.token_logprobs.push(clamp(p.logprob));
    const top: Record<string, number> = {};
    for (const t of p.top) top[tokenText(tokenizer, t.tokenId)] = clamp(t.logprob);
    top[text] = clamp(p.logprob); // the sampled token is always listed (vLLM: up to logprobs + 1 entries)
    out.top_logprobs.push(top);
    out.text_offset.push(at);
    at += text.length;
  }
  return out;
}

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** The chat shape: {content: [{token, logprob, bytes, top_logprobs}]}, top_logprobs of length numTop. */
export function chatLogprobs(tokenizer: Tokenizer, positions: readonly PositionLogprobs[], numTop: number): { content: ChatTokenLogprob[] } {
  const entry = (id: number, logprob: number) => ({
    token: tokenText(tokenizer, id), logprob: clamp(logprob), bytes: [...tokenizer.tokenBytes(id, { renderSpecial: true })],
  });
  return {
    content: positions.map((p) => ({ ...entry(p.tokenId, p.logprob), top_logprobs: p.top.slice(0, numTop).map((t) => entry(t.tokenId, t.logprob)) })),
  };
}
