import { resolve } from "node:path";
import type { ChatSession } from "./chat-session.ts";
import { fmtMs, fmtPct, fmtRate } from "./format.ts";
import { paramCommands } from "./param-commands.ts";
import { applyTranscript, readTranscript, saveTranscript } from "./transcript.ts";

export interface CommandResult {
  text: string;
  /** info (default) or error. */
  kind?: "info" | "error";
  /** What the user asked to see (/help, /stats): stdout in piped mode; other feedback goes to stderr there. */
  report?: boolean;
}

export interface CommandSpec {
  name: string;
  aliases?: string[];
  args?: string;
  help: string;
  /** The current value, shown in the hint line. */
  current?: (s: ChatSession) => string;
  run(s: ChatSession, arg: string): CommandResult | Promise<CommandResult>;
}

export const KEYS_HELP = "Keys: Enter send · Ctrl+C stop the reply (twice when idle: quit) · Esc clear input · ↑/↓ earlier inputs · Tab complete a command";

function helpText(): string {
  const rows = COMMANDS.map((c) => [`/${c.name}${c.args ? " " + c.args : ""}`, c.help + (c.aliases?.length ? ` (also /${c.aliases.join(", /")})` : "")]);
  const w = Math.max(...rows.map((r) => r[0]!.length));
  return ["Commands:", ...rows.map(([a, b]) => `  ${a!.padEnd(w)}  ${b}`), KEYS_HELP].join("\n");
}

async function statsText(s: ChatSession): Promise<string> {
  await s.refreshStats(true);
  const st = s.stats;
  const m = s.last;
  const p = s.backend.effectiveParams(s.params);
  const lines = [
    `model ${s.backend.model} (${s.backend.where}), context ${s.contextUsed() ?? "n/a"} of ${s.backend.maxContext ?? "n/a"} tokens, ${s.messages.length} messages`,
    `last reply: ${m ? `${m.completionTokens} tokens, ${fmtRate(m.tokPerS)}, TTFT ${fmtMs(m.ttftMs)}, prompt ${m.promptTokens ?? "n/a"} tokens (${m.cachedTokens ?? "n/a"} cached), finish ${m.finishReason}` : "none"}`,
    `engine: running ${st?.numRunning ?? "n/a"}, waiting ${st?.numWaiting ?? "n/a"}, KV cache ${fmtPct(st?.kvCacheUsage)}, prefix cache hit rate ${fmtPct(st?.prefixCacheHitRate)}`,
    ...Object.entries(st?.extra ?? {}).map(([k, v]) => `  ${k}: ${v}`),
    `sampling: ${Object.entries(p).filter(([k]) => !["logprobs", "logitBias", "n"].includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ") || "server defaults"}`,
  ];
  return lines.join("\n");
}

const BASE_COMMANDS: CommandSpec[] = [
  { name: "help", help: "this list", run: () => ({ text: helpText(), report: true }) },
  { name: "reset", help: "forget the conversation (keeps the system prompt and parameters)", run: (s) => (s.reset(), { text: "conversation reset" }) },
  {
    name: "system", args: "[TEXT|clear]", help: "set the system prompt (no text: show it)",
    current: (s) => s.system ?? "none",
    run: (s, arg) => {
      if (arg === "") return { text: `system prompt: ${s.system ?? "none"}` };
      s.system = arg === "clear" ? null : arg;
      return { text: s.system === null ? "system prompt cleared" : `system prompt set: ${s.system}` };
    },
  },
  { name: "stats", help: "engine and reply statistics", run: async (s) => ({ text: await statsText(s), report: true }) },
  {
    name: "save", args: "FILE", help: "save the conversation as JSON",
    run: (s, arg) => {
      if (!arg) return { kind: "error", text: "/save needs a file name" };
      saveTranscript(s, arg);
      return { text: `saved ${s.messages.length} messages to ${resolve(arg)}` };
    },
  },
  {
    name: "load", args: "FILE", help: "load a conversation saved with /save",
    run: (s, arg) => {
      if (!arg) return { kind: "error", text: "/load needs a file name" };
      applyTranscript(s, readTranscript(arg));
      const shown = s.messages.map((m) => `${m.role}: ${m.content}`).join("\n");
      return { text: `loaded ${s.messages.length} messages from ${arg}${s.system ? ` (system: ${s.system})` : ""}${shown ? "\n" + shown : ""}` };
    },
  },
  { name: "exit", aliases: ["quit"], help: "leave", run: (s) => (s.requestExit(), { text: "bye" }) },
];

export const COMMANDS: readonly CommandSpec[] = [...BASE_COMMANDS.slice(0, 3), ...paramCommands(), ...BASE_COMMANDS.slice(3)];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Commands whose name (or an alias) starts with what follows the "/" (empty: all). */
export function matchCommands(input: string): CommandSpec[] {
  if (!input.startsWith("/")) return [];
  const word = input.slice(1).split(/\s/, 1)[0]!;
  if (input.slice(1).includes(" ")) return findCommand(word) ? [findCommand(word)!] : [];
  return COMMANDS.filter((c) => c.name.startsWith(word) || c.aliases?.some((a) => a.startsWith(word)));
}

/** Tab completion: the longest common prefix of the matching names ("/" + it, plus a space when unique). */
export function completeCommand(input: string): string {
  const m = matchCommands(input);
  if (m.length === 0 || input.includes(" ")) return input;
  if (m.length === 1) return `/${m[0]!.name} `;
  const names = m.map((c) => c.name);
  let p = names[0]!;
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.length + 1 > input.length ? `/${p}` : input;
}

/** Run "/name args"; errors (bad values, unreadable files) come back as error results. */
export async function executeCommand(s: ChatSession, line: string): Promise<CommandResult> {
  const m = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trim());
  const name = m?.[1] ?? "";
  const spec = findCommand(name);
  if (!spec) {
    const near = matchCommands(`/${name}`).map((c) => "/" + c.name);
    return { kind: "error", text: `unknown command /${name}; ${near.length ? `did you mean ${near.join(", ")}? ` : ""}commands: ${COMMANDS.map((c) => "/" + c.name).join(" ")}` };
  }
  try {
    return await spec.run(s, (m?.[2] ?? "").trim());
  } catch (e) {
    return { kind: "error", text: (e as Error).message };
  }
}
