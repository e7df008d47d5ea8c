import { Box, Text } from "ink";
import type { ChatSession } from "./chat-session.ts";
import { statusFields } from "./format.ts";

/**
 * One line of live engine state: generating or idle, tok/s, TTFT of the last reply, context used
 * of the maximum, KV cache usage, prefix-cache hit rate (the model and server are in the banner).
 */
export function StatusBar({ session }: { session: ChatSession }) {
  const live = session.live;
  let tokPerS = session.last?.tokPerS ?? null;
  let ttftMs = session.last?.ttftMs ?? null;
  if (live?.firstTokenMs != null && live.lastTokenMs != null) {
    const span = live.lastTokenMs - live.firstTokenMs;
    tokPerS = live.tokens > 1 && span > 0 ? ((live.tokens - 1) / span) * 1000 : tokPerS;
    ttftMs = live.firstTokenMs - live.startMs;
  }
  const fields = statusFields({ tokPerS, ttftMs, contextUsed: session.contextUsed(), maxContext: session.backend.maxContext, stats: session.stats });
  const state = live ? (live.firstTokenMs === null ? "prefill" : "generating") : "idle";
  return (
    <Box>
      <Text inverse wrap="truncate-end">
        {` ${state} │ `}
        {fields.map(([k, v]) => `${k} ${v}`).join(" │ ")}
        {" "}
      </Text>
    </Box>
  );
}
