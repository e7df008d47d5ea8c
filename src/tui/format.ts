import type { BackendStats } from "./backend.ts";
import type { ReplyMetrics } from "./chat-session.ts";

export function fmtMs(ms: number | null | undefined): string {
  if (ms == null) return "n/a";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtRate(r: number | null | undefined): string {
  return r == null ? "n/a" : `${r < 100 ? r.toFixed(1) : Math.round(r)} tok/s`;
}

export function fmtPct(f: number | null | undefined): string {
  return f == null ? "n/a" : `${(f * 100).toFixed(1)}%`;
}

const FINISH: Readonly<Record<string, string>> = { stop: "stop", length: "max tokens", abort: "stopped" };

/** The dim footer under a finished reply. */
export function formatReplyMeta(m: ReplyMetrics): string {
  const parts = [`${m.completionTokens} tokens`, fmtRate(m.tokPerS), `TTFT ${fmtMs(m.ttftMs)}`];
  if (m.cachedTokens) parts.push(`${m.cachedTokens} prompt tokens cached`);
  parts.push(FINISH[m.finishReason] ?? m.finishReason);
  return parts.join(" · ");
}

export interface StatusFigures {
  tokPerS: number | null;
  ttftMs: number | null;
  contextUsed: number | null;
  maxContext: number | null;
  stats: BackendStats | null;
}

/** The status bar's fields, label → value text ("n/a" where unknown). */
export function statusFields(f: StatusFigures): Array<[string, string]> {
  const ctx = f.contextUsed === null ? "n/a" : f.maxContext === null ? `${f.contextUsed}` : `${f.contextUsed}/${f.maxContext}`;
  return [
    ["tok/s", f.tokPerS == null ? "n/a" : f.tokPerS < 100 ? f.tokPerS.toFixed(1) : String(Math.round(f.tokPerS))],
    ["TTFT", fmtMs(f.ttftMs)],
    ["ctx", ctx],
    ["KV", fmtPct(f.stats?.kvCacheUsage)],
    ["prefix hit", fmtPct(f.stats?.prefixCacheHitRate)],
  ];
}
