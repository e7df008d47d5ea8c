import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChatSession, type SessionEvent } from "../../src/tui/chat-session.ts";
import { readTranscript } from "../../src/tui/transcript.ts";
import { ScriptedBackend, localBackend, SLOW } from "./helpers.ts";

describe("ChatSession on the real engine", () => {
  it("drops the oldest turns when the conversation outgrows the context, and refuses a message that cannot fit", async () => {
    const backend = await localBackend();
    const session = new ChatSession(backend, { params: { temperature: 0, maxTokens: 200, ignoreEos: true, stopTokenIds: [] } });
    const deltas: string[] = [];
    session.subscribe((e: SessionEvent) => void (e.type === "delta" && deltas.push(e.text)));
    await session.send("Once upon a time");
    expect(deltas.join("")).toBe(session.messages[1]!.content);
    await session.send("What happened next?");
    expect(session.messages).toHaveLength(4);
    const m = await session.send("And then?");
    expect(m).not.toBeNull();
    // 3 turns of ~220 tokens cannot share 512: the first exchange went.
    expect(session.messages.map((x) => x.content)[0]).toBe("What happened next?");
    expect(session.messages).toHaveLength(4);
    expect(session.entries.some((e) => e.kind === "info" && e.text === "(dropped the 2 earliest messages to fit the 512-token context)")).toBe(true);
    expect(session.contextUsed()).toBeLessThanOrEqual(512);
    session.reset();
    expect(await session.send("word ".repeat(600))).toBeNull();
    expect(session.entries.at(-1)).toMatchObject({ kind: "error" });
    expect(session.entries.at(-1)!.text).toMatch(/^the conversation has \d+ tokens, which leaves 0 of the 512-token context/);
    expect(session.messages).toEqual([]);
    expect(backend.engine.hasUnfinishedRequests()).toBe(false);
    await backend.close();
  }, SLOW);

  it("measures TTFT and the decode rate with its clock", async () => {
    let t = 1000;
    const backend = new ScriptedBackend(["a", "b", "c", "d", "e"], 0);
    backend.onPiece = (i) => void (t = 1010 + 10 * i);
    const session = new ChatSession(backend, { now: () => t });
    const m = await session.send("hi");
    // sent at 1000, deltas at 1010..1050: TTFT 10 ms, 4 tokens in 40 ms.
    expect(m).toMatchObject({ ttftMs: 10, tokPerS: 100, completionTokens: 5, promptTokens: 10, finishReason: "stop" });
    expect(session.entries.at(-1)).toMatchObject({ kind: "assistant", text: "abcde", meta: "5 tokens · 100 tok/s · TTFT 10 ms · stop" });
  }, SLOW);

  it("a reset while a reply streams stops it and leaves the new conversation empty", async () => {
    const backend = new ScriptedBackend(Array.from({ length: 100 }, () => "x"), 2);
    const session = new ChatSession(backend);
    const done = session.send("hi");
    await new Promise<void>((resolve) => {
      const off = session.subscribe((e) => {
        if (e.type !== "delta") return;
        off();
        resolve();
      });
    });
    session.reset();
    expect(await done).toMatchObject({ finishReason: "abort" });
    expect(session.messages).toEqual([]);
    await session.send("again");
    expect(backend.sent.at(-1)).toEqual([{ role: "user", content: "again" }]);
  });
});

describe("transcripts", () => {
  it("refuses files that are not chat transcripts, naming the problem", () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-chat-t-"));
    const file = (name: string, body: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, typeof body === "string" ? body : JSON.stringify(body));
      return p;
    };
    const base = { format: "llm-chat-transcript", version: 1, messages: [] };
    expect(() => readTranscript(file("a", "{oops"))).toThrow(/^cannot load .*: Unexpected token|^cannot load .*JSON/);
    expect(() => readTranscript(file("b", { messages: [] }))).toThrow(/not a chat transcript \("format" must be "llm-chat-transcript"\)/);
    expect(() => readTranscript(file("c", { ...base, messages: [{ role: "robot", content: "x" }] }))).toThrow(/messages\[0\] must be \{role: system\|user\|assistant/);
    expect(() => readTranscript(file("d", { ...base, params: { temp: 1 } }))).toThrow(/unknown params temp; accepted: temperature/);
    expect(() => readTranscript(file("e", { ...base, params: { topP: 3 } }))).toThrow(/invalid top_p 3/);
    const t = readTranscript(file("f", { ...base, messages: [{ role: "system", content: "S" }, { role: "user", content: "u" }] }));
    expect([t.system, t.messages]).toEqual(["S", [{ role: "user", content: "u" }]]);
  });
});
