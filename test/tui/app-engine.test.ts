import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ChatSession } from "../../src/tui/chat-session.ts";
import { KEYS, localBackend, mountChat, waitFor, SLOW } from "./helpers.ts";

/** The chat UI in ink-testing-library driving the real engine on stories260k in-process. */
describe("ChatApp on the real engine (stories260k)", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function open(params: ConstructorParameters<typeof ChatSession>[1] = {}) {
    const backend = await localBackend();
    const session = new ChatSession(backend, params);
    const ui = mountChat(session);
    cleanups.push(() => ui.app.unmount(), () => backend.close());
    await waitFor(() => ui.frame().includes("KV 0.0%"), "the first stats");
    return { backend, session, ui };
  }
  const send = async (ui: Awaited<ReturnType<typeof open>>["ui"], session: ChatSession, text: string) => {
    const n = session.entries.filter((e) => e.kind === "assistant").length;
    await ui.type(text);
    await ui.press(KEYS.enter);
    await waitFor(() => session.entries.filter((e) => e.kind === "assistant").length > n && !session.busy, `the reply to ${text}`, 60_000);
  };

  it("types a message, streams the reply token by token, and shows the engine's figures", async () => {
    const { session, ui } = await open({ params: { temperature: 0, maxTokens: 120, ignoreEos: true, stopTokenIds: [] } });
    await ui.type("hello");
    expect(ui.inputLine()).toContain("hello");
    const partial: string[] = [];
    await ui.press(KEYS.enter);
    await waitFor(() => {
      if (session.live && session.live.tokens > 0) partial.push(ui.frame());
      return session.messages.length === 2 && !session.busy;
    }, "the reply", 60_000);
    // Frames were drawn while the reply was in flight: status "generating", the cursor after the text.
    expect(partial.some((f) => f.includes("generating") && f.includes("▍"))).toBe(true);
    await waitFor(() => ui.frame().includes("120 tokens"), "the reply footer");
    const f = ui.frame();
    expect(f).toContain("you › hello");
    expect(f).toContain("stories260k › ");
    expect(f).toMatch(/120 tokens · [\d.]+ tok\/s · TTFT \d+ ms · max tokens/);
    expect(f).toMatch(/idle │ tok\/s [\d.]+ │ TTFT \d+ ms │ ctx \d+\/512 │ KV [\d.]+% │ prefix hit [\d.]+%/);
    // The reply on screen is the text the engine produced.
    const reply = session.messages[1]!.content;
    expect(reply.length).toBeGreaterThan(50);
    expect(f.replace(/\s+/g, " ")).toContain(reply.replace(/\s+/g, " ").trim().slice(-40));
  }, SLOW);

  it("keeps a multi-turn conversation in the chat template and reuses the prefix cache", async () => {
    const { backend, session, ui } = await open({ system: "You tell stories.", params: { temperature: 0, maxTokens: 40 } });
    await send(ui, session, "Tell me about a cat.");
    await send(ui, session, "And a dog?");
    expect(session.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    const prompt = backend.template.render(session.conversation(), true);
    expect(prompt).toContain("<|im_start|>system\nYou tell stories.<|im_end|>");
    expect(prompt).toContain(`<|im_start|>assistant\n${session.messages[1]!.content}<|im_end|>`);
    // The second prompt starts with the first one: its blocks come from the prefix cache.
    expect(session.last!.cachedTokens).toBeGreaterThan(0);
    await waitFor(() => /\d+ prompt tokens cached/.test(ui.frame()) && /idle .* prefix hit [1-9][\d.]*%/.test(ui.frame()), "the cache figures");
  }, SLOW);

  it("runs every slash command from the input line", async () => {
    const { backend, session, ui } = await open({ params: { maxTokens: 24 } });
    const run = async (line: string, expectText: string | RegExp) => {
      await ui.type(line);
      await ui.press(KEYS.enter);
      await waitFor(() => (typeof expectText === "string" ? ui.frame().includes(expectText) : expectText.test(ui.frame())), `${line} → ${expectText}`);
    };
    await run("/help", "Commands:");
    for (const name of ["/reset", "/system", "/temp", "/top_p", "/top_k", "/min_p", "/max_tokens", "/seed", "/repetition_penalty", "/save", "/load", "/stats", "/exit"]) {
      expect(ui.frame()).toContain(name);
    }
    await run("/temp", "temperature = 0.8 (default)");
    await run("/temp 0", "temperature = 0");
    await run("/top_p 0.9", "top_p = 0.9");
    await run("/top_k 20", "top_k = 20");
    await run("/min_p 0.05", "min_p = 0.05");
    await run("/repetition_penalty 1.1", "repetition_penalty = 1.1");
    await run("/presence_penalty 0.5", "presence_penalty = 0.5");
    await run("/frequency_penalty 0.25", "frequency_penalty = 0.25");
    await run("/seed 7", "seed = 7");
    await run("/max_tokens 5", "max_tokens = 5");
    expect(backend.effectiveParams(session.params)).toMatchObject({
      temperature: 0, topP: 0.9, topK: 20, minP: 0.05, repetitionPenalty: 1.1, presencePenalty: 0.5, frequencyPenalty: 0.25, seed: 7, maxTokens: 5,
    });
    await run("/top_p 2", "error: invalid top_p 2; accepted: a number in (0, 1]");
    await run("/top_k 1.5", 'error: /top_k needs an integer, or "default"; got "1.5"');
    await run("/frobnicate", "error: unknown command /frobnicate");
    // /max_tokens reaches the engine: the reply stops at 5 tokens.
    await send(ui, session, "Once upon a time");
    expect(session.last).toMatchObject({ completionTokens: 5, finishReason: "length" });
    await waitFor(() => ui.frame().includes("5 tokens ·"), "the 5-token footer");
    const first = session.messages[1]!.content;
    // /system, then /reset: the next reply starts a fresh conversation with the system prompt.
    await run("/system You are a storyteller.", "system prompt set: You are a storyteller.");
    await run("/system", "system prompt: You are a storyteller.");
    await run("/reset", "conversation reset");
    expect(session.messages).toEqual([]);
    await run("/system clear", "system prompt cleared");
    // Greedy and seeded: the same conversation gives the same reply.
    await send(ui, session, "Once upon a time");
    expect(session.messages[1]!.content).toBe(first);
    await run("/stats", /engine: running 0, waiting 0, KV cache [\d.]+%, prefix cache hit rate [\d.]+%/);
    expect(ui.frame()).toMatch(/last reply: 5 tokens, [\d.]+ tok\/s, TTFT \d+ ms, prompt \d+ tokens \(\d+ cached\), finish length/);
    expect(ui.frame()).toContain("KV blocks:");
    // /save and /load round-trip the conversation, system prompt and parameters.
    const file = join(mkdtempSync(join(tmpdir(), "llm-chat-")), "t.json");
    await run(`/save ${file}`, "saved 2 messages to");
    expect(existsSync(file)).toBe(true);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved).toMatchObject({ format: "llm-chat-transcript", model: "stories260k", params: { temperature: 0, maxTokens: 5 } });
    expect(saved.messages).toEqual(session.messages);
    await run("/reset", "conversation reset");
    await run("/temp 1", "temperature = 1");
    await run(`/load ${file}`, "loaded 2 messages from");
    expect(session.messages).toEqual(saved.messages);
    expect(session.params.temperature).toBe(0);
    await run("/load /nonexistent/x.json", "error: cannot load /nonexistent/x.json: ENOENT");
    expect(ui.counter.exited).toBe(0);
    await ui.type("/exit");
    await ui.press(KEYS.enter);
    await waitFor(() => ui.counter.exited === 1, "the exit");
    expect(session.exitRequested).toBe(true);
  }, SLOW);

  it("Ctrl+C stops the reply mid-way and keeps the text; Ctrl+C twice when idle quits", async () => {
    const { backend, session, ui } = await open({ params: { temperature: 0, maxTokens: 400, ignoreEos: true, stopTokenIds: [] } });
    await ui.type("Tell me a long story");
    await ui.press(KEYS.enter);
    await waitFor(() => (session.live?.tokens ?? 0) >= 10, "some tokens");
    await ui.press(KEYS.ctrlC);
    await waitFor(() => !session.busy, "the stop");
    expect(session.last!.finishReason).toBe("abort");
    expect(session.last!.completionTokens).toBeLessThan(400);
    expect(session.messages).toHaveLength(2);
    expect(session.messages[1]!.content.length).toBeGreaterThan(0);
    // The engine dropped the request and freed its blocks.
    expect(backend.engine.hasUnfinishedRequests()).toBe(false);
    expect(backend.engine.stats().kvCacheUsage).toBe(0);
    await waitFor(() => ui.frame().includes("· stopped"), "the stopped footer");
    expect(ui.frame()).toContain("stopped the reply (Ctrl+C twice to quit)");
    expect(ui.counter.exited).toBe(0);
    // The conversation goes on after a stop.
    session.params.maxTokens = 8;
    await send(ui, session, "What next?");
    expect(session.messages).toHaveLength(4);
    await ui.press(KEYS.ctrlC);
    await waitFor(() => ui.frame().includes("Press Ctrl+C again to quit"), "the quit hint");
    expect(ui.counter.exited).toBe(0);
    await ui.press(KEYS.ctrlC);
    await waitFor(() => ui.counter.exited === 1, "the exit");
  }, SLOW);

  it("recalls earlier inputs with up/down, clears with Esc, hints and completes commands", async () => {
    const { session, ui } = await open({ params: { temperature: 0, maxTokens: 4 } });
    await send(ui, session, "first message");
    await ui.type("/temp 0.5");
    await ui.press(KEYS.enter);
    await waitFor(() => ui.frame().includes("temperature = 0.5"), "the /temp feedback");
    await ui.type("draft");
    await ui.press(KEYS.up);
    expect(ui.inputLine()).toBe("/temp 0.5");
    await ui.press(KEYS.up);
    expect(ui.inputLine()).toBe("first message");
    await ui.press(KEYS.up);
    expect(ui.inputLine()).toBe("first message");
    await ui.press(KEYS.down, KEYS.down);
    expect(ui.inputLine()).toBe("draft");
    await ui.press(KEYS.esc);
    expect(ui.inputLine()).not.toContain("draft");
    // "/" lists the commands with their current values; more letters narrow the list; Tab completes.
    await ui.type("/");
    expect(ui.frame()).toContain("/help  this list");
    expect(ui.frame()).toContain("/temp [N|default]  sampling temperature (0 = greedy) (now 0.5)");
    await ui.type("to");
    expect(ui.frame()).toContain("/top_p");
    expect(ui.frame()).not.toContain("/temp [N");
    await ui.press(KEYS.tab);
    expect(ui.inputLine()).toBe("/top_");
    await ui.type("k");
    await ui.press(KEYS.tab);
    expect(ui.inputLine()).toBe("/top_k");
    await ui.type("3");
    await ui.press(KEYS.enter);
    await waitFor(() => ui.frame().includes("top_k = 3"), "the /top_k feedback");
    await ui.type("/nope");
    expect(ui.frame()).toContain("no such command; /help lists them");
    await ui.press(KEYS.esc);
    // Editing keys: left, backspace, typing in the middle.
    await ui.type("helo");
    await ui.press("\u001B[D");
    await ui.type("l");
    expect(ui.inputLine()).toBe("hello");
    await ui.press(KEYS.backspace, KEYS.backspace);
    expect(ui.inputLine()).toBe("heo");
  }, SLOW);
});
