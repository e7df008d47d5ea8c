import { makeSamplingParams, type SamplingParams } from "../sampling/params.ts";
import type { ChatSession } from "./chat-session.ts";
import type { CommandResult, CommandSpec } from "./commands.ts";

type ParamKey = "temperature" | "topP" | "topK" | "minP" | "maxTokens" | "seed" | "repetitionPenalty" | "presencePenalty" | "frequencyPenalty";

/** [command, aliases, parameter, integer?, help] for each sampling parameter the chat can set. */
const PARAMS: ReadonlyArray<readonly [string, string[], ParamKey, boolean, string]> = [
  ["temp", ["temperature"], "temperature", false, "sampling temperature (0 = greedy)"],
  ["top_p", [], "topP", false, "nucleus sampling mass in (0, 1]"],
  ["top_k", [], "topK", true, "keep the k most likely tokens (0 = off)"],
  ["min_p", [], "minP", false, "drop tokens below p times the top probability"],
  ["max_tokens", [], "maxTokens", true, "most tokens per reply"],
  ["seed", [], "seed", true, "random seed (same seed, same reply)"],
  ["repetition_penalty", [], "repetitionPenalty", false, "penalise tokens already seen (1 = off)"],
  ["presence_penalty", [], "presencePenalty", false, "penalise tokens already generated, once"],
  ["frequency_penalty", [], "frequencyPenalty", false, "penalise tokens by how often they were generated"],
];

function show(s: ChatSession, key: ParamKey): string {
  const v = s.backend.effectiveParams(s.params)[key];
  if (v === undefined) return "server default";
  if (v === null) return "random";
  return String(v);
}

/** The parameter's API name (temperature, top_p, ...): what the feedback says. */
function label(name: string): string {
  return name === "temp" ? "temperature" : name;
}

function setParam(s: ChatSession, name: string, key: ParamKey, integer: boolean, arg: string): CommandResult {
  const what = label(name);
  if (arg === "") return { text: `${what} = ${show(s, key)}${s.params[key] === undefined ? " (default)" : ""}` };
  if (arg === "default") {
    const next = { ...s.params };
    delete next[key];
    s.params = next;
    return { text: `${what} = ${show(s, key)} (default)` };
  }
  let value: number | null;
  if (key === "seed" && arg === "random") value = null;
  else {
    value = Number(arg);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      return { kind: "error", text: `/${name} needs ${integer ? "an integer" : "a number"}${key === "seed" ? " or \"random\"" : ""}, or "default"; got "${arg}"` };
    }
  }
  const next: Partial<SamplingParams> = { ...s.params, [key]: value };
  try {
    makeSamplingParams({ ...s.backend.effectiveParams(s.params), [key]: value });
  } catch (e) {
    return { kind: "error", text: (e as Error).message };
  }
  s.params = next;
  return { text: `${what} = ${show(s, key)}` };
}

export function paramCommands(): CommandSpec[] {
  return PARAMS.map(([name, aliases, key, integer, help]) => ({
    name, aliases, args: key === "seed" ? "[N|random|default]" : "[N|default]", help,
    current: (s: ChatSession) => show(s, key),
    run: (s: ChatSession, arg: string) => setParam(s, name, key, integer, arg),
  }));
}
