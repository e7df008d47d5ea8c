import { describe, expect, it } from "vitest";
import { ChatSession } from "../../src/tui/chat-session.ts";
import { runCli } from "../helpers/cli.ts";
import { localBackend, SLOW } from "./helpers.ts";

/** The greedy replies the engine gives in-process to these messages, one conversation. */
async function expectedReplies(messages: Array<string | "/reset">, maxTokens: number): Promise<string[]> {
  const backend = await localBackend();
  const session = new ChatSession(backend, { params: { temperature: 0, maxTokens } });
  const out: string[] = [];
  for (const m of messages) {
    if (m === "/reset") session.reset();
    else {
      await session.send(m);
      out.push(session.messages.at(-1)!.content);
    }
  }
  await backend.close();
  return out;
}

describe("llm chat with stdin not a terminal", () => {
  it("answers each line in plain text; slash commands still work", async () => {
    const r = await runCli(["chat", "stories260k"], { stdin: "hello\n/temp 0\nOnce upon a time\n" });
    expect(r.stderr).toContain("temperature = 0");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\x1b");
    expect(r.stdout.trim().length).toBeGreaterThan(20);
  }, SLOW);

  it("gives the engine's replies, one per input line, through a multi-turn conversation and /reset", async () => {
    const script = "/temp 0\n/max_tokens 12\nOnce upon a time\n\nThe cat\n/reset\nOnce upon a time\n/stats\n";
    const r = await runCli(["chat", "stories260k"], { stdin: script });
    expect(r.code).toBe(0);
    const [a, b, c] = await expectedReplies(["Once upon a time", "The cat", "/reset", "Once upon a time"], 12);
    expect(c).toBe(a);
    const statsAt = r.stdout.indexOf("model stories260k (local)");
    expect(statsAt).toBeGreaterThan(0);
    expect(r.stdout.slice(0, statsAt)).toBe(`${a}\n${b}\n${c}\n`);
    expect(r.stdout.slice(statsAt)).toMatch(/last reply: 12 tokens/);
    expect(r.stderr).toContain("max_tokens = 12");
    expect(r.stderr).toContain("conversation reset");
  }, SLOW);

  it("takes --system and sampling flags, stops at /exit, and reports bad commands with exit code 1", async () => {
    const ok = await runCli(["chat", "stories260k", "--system", "Be brief.", "--temperature", "0", "-n", "4"], { stdin: "/system\n/temp\nhi\n/exit\nnot read\n" });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("system prompt: Be brief.");
    expect(ok.stderr).toContain("temperature = 0\n");
    expect(ok.stderr).toContain("bye");
    expect(ok.stdout.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const bad = await runCli(["chat", "stories260k"], { stdin: "/nope\n/top_p 7\n" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: unknown command /nope");
    expect(bad.stderr).toContain("error: invalid top_p 7; accepted: a number in (0, 1]");
    expect(bad.stdout).toBe("");
  }, SLOW);
});
