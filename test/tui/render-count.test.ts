import { render } from "ink";
import { PassThrough } from "node:stream";
import { createElement } from "react";
import { describe, expect, it } from "vitest";
import { ChatApp } from "../../src/tui/chat-app.tsx";
import { ChatSession } from "../../src/tui/chat-session.ts";
import { KEYS, ScriptedBackend, localBackend, mountChat, waitFor, SLOW } from "./helpers.ts";

const REPLY = { temperature: 0, maxTokens: 200, ignoreEos: true, stopTokenIds: [] };

/** Renders a reply causes: token deltas are batched to at most `fps` renders a second. */
describe("render batching", () => {
  it("a 200-token reply from the engine takes far fewer than 200 renders", async () => {
    const backend = await localBackend();
    const session = new ChatSession(backend, { params: REPLY });
    const ui = mountChat(session, { fps: 30 });
    await waitFor(() => ui.frame().includes("KV 0.0%"), "the first stats");
    const commits0 = ui.counter.commits;
    const frames0 = ui.app.frames.length;
    const t0 = performance.now();
    await ui.type("Tell me a story");
    await ui.press(KEYS.enter);
    await waitFor(() => !session.busy && session.last !== null, "the reply", 60_000);
    const seconds = (performance.now() - t0) / 1000;
    const commits = ui.counter.commits - commits0;
    const frames = ui.app.frames.length - frames0;
    console.log(`render-count: engine 200-token reply in ${seconds.toFixed(2)} s: ${commits} React commits, ${frames} frames (fps cap 30)`);
    expect(session.last!.completionTokens).toBe(200);
    expect(commits).toBeLessThan(100);
    // At most fps renders a second, plus a few for the keys, the reply's end and <Static>'s own update.
    expect(commits).toBeLessThanOrEqual(Math.ceil(seconds * 30) + 12);
    ui.app.unmount();
    await backend.close();
  }, SLOW);

  it("a scripted 200-token burst renders at most ~30 times a second", async () => {
    const backend = new ScriptedBackend(Array.from({ length: 200 }, (_, i) => `w${i} `), 0);
    const session = new ChatSession(backend);
    const ui = mountChat(session, { fps: 30 });
    await waitFor(() => ui.frame().includes("KV 25.0%"), "the first stats");
    const commits0 = ui.counter.commits;
    const t0 = performance.now();
    await ui.type("go");
    await ui.press(KEYS.enter);
    await waitFor(() => !session.busy && session.last !== null, "the reply");
    const seconds = (performance.now() - t0) / 1000;
    const commits = ui.counter.commits - commits0;
    console.log(`render-count: scripted 200-token burst in ${seconds.toFixed(2)} s: ${commits} React commits`);
    expect(commits).toBeLessThan(100);
    expect(commits).toBeLessThanOrEqual(Math.ceil(seconds * 30) + 12);
    await waitFor(() => ui.frame().includes("w199"), "the whole reply");
    ui.app.unmount();
  }, SLOW);

  it("on a terminal, frames stay small: no clear-screen, a few lines erased per frame, the reply scrolls into the scrollback", async () => {
    const backend = await localBackend();
    const session = new ChatSession(backend, { params: { ...REPLY, maxTokens: 300 } });
    const writes: string[] = [];
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 60, rows: 12 });
    stdout.on("data", (d: Buffer) => writes.push(d.toString()));
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {}, ref: () => {}, unref: () => {} });
    const app = render(createElement(ChatApp, { session, fps: 30 }), {
      stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, exitOnCtrlC: false, patchConsole: false, maxFps: 30,
    });
    const t0 = performance.now();
    await session.send("Tell me a long story");
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
    app.unmount();
    await backend.close();
    const all = writes.join("");
    const erased = writes.map((w) => (w.match(/\x1b\[2K/g) ?? []).length);
    // ink brackets each frame in synchronized-output markers (no tearing).
    const frames = writes.filter((w) => w.includes("\x1b[?2026h")).length;
    console.log(`render-count: terminal 60x12, 300-token reply in ${seconds.toFixed(2)} s: ${frames} frames, at most ${Math.max(...erased)} lines erased in one`);
    expect(all).not.toContain("\x1b[2J"); // never a full-screen clear
    expect(all).not.toContain("\x1b[3J");
    expect(Math.max(...erased)).toBeLessThanOrEqual(8);
    expect(frames).toBeLessThan(300);
    expect(frames).toBeLessThanOrEqual(Math.ceil(seconds * 30) + 12);
    // The whole reply reached the terminal, wrapped to its width.
    const plain = all.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    for (const word of session.messages[1]!.content.split(/\s+/).slice(-5)) expect(plain).toContain(word);
  }, SLOW);
});
