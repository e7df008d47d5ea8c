import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatSession } from "../../src/tui/chat-session.ts";
import { RemoteChatBackend } from "../../src/tui/remote-backend.ts";
import { runCli } from "../helpers/cli.ts";
import { spawnServer, stopServer, type CliServer } from "../server/helpers.ts";
import { KEYS, localBackend, mountChat, waitFor, SLOW } from "./helpers.ts";

/** The chat against a real `llm serve stories260k` on loopback (spawned once for the file). */
describe("llm chat --url (a real llm serve)", () => {
  let server: CliServer;
  let keyed: CliServer;
  beforeAll(async () => {
    [server, keyed] = await Promise.all([spawnServer(["stories260k", "--disable-log-requests"]), spawnServer(["stories260k", "--api-key", "sekret", "--disable-log-requests"])]);
  }, SLOW);
  afterAll(async () => {
    await Promise.all([server && stopServer(server), keyed && stopServer(keyed)]);
  });

  it("streams the same greedy replies as the engine in-process, over two turns", async () => {
    const remote = await RemoteChatBackend.connect(`${server.url}/v1`);
    expect([remote.model, remote.maxContext, remote.where]).toEqual(["stories260k", 512, `${server.url}/v1`]);
    const session = new ChatSession(remote, { system: "You tell stories.", params: { temperature: 0, maxTokens: 24 } });
    const local = new ChatSession(await localBackend(), { system: "You tell stories.", params: { temperature: 0, maxTokens: 24 } });
    const deltas: string[] = [];
    session.subscribe((e) => void (e.type === "delta" && deltas.push(e.text)));
    for (const text of ["Once upon a time", "The dog"]) {
      const m = await session.send(text);
      await local.send(text);
      expect(m).toMatchObject({ completionTokens: local.last!.completionTokens, promptTokens: local.last!.promptTokens, finishReason: local.last!.finishReason });
      expect(m!.ttftMs).toBeGreaterThan(0);
    }
    expect(session.messages).toEqual(local.messages);
    expect(deltas.length).toBeGreaterThan(10);
    // KV and prefix-cache figures come from the server's /metrics.
    // (Not toMatchObject with expect.any: bun's writes the matchers into the object it checks.)
    expect(typeof session.stats!.kvCacheUsage).toBe("number");
    expect(session.stats!.prefixCacheHitRate).toBeGreaterThan(0);
    await local.backend.close();
  }, SLOW);

  it("Ctrl+C in the UI aborts the server's request; the status bar shows the server's figures", async () => {
    const remote = await RemoteChatBackend.connect(server.url);
    const session = new ChatSession(remote, { params: { temperature: 0, maxTokens: 400, ignoreEos: true } });
    const ui = mountChat(session);
    try {
      await waitFor(() => /KV [\d.]+%/.test(ui.frame()), "the first scrape of /metrics");
      expect(ui.frame()).toContain(" idle │ tok/s n/a │ TTFT n/a │ ctx n/a │ KV ");
      await ui.type("Tell me a long story");
      await ui.press(KEYS.enter);
      await waitFor(() => (session.live?.tokens ?? 0) >= 5, "some tokens");
      await ui.press(KEYS.ctrlC);
      await waitFor(() => !session.busy, "the stop");
      expect(session.last!.finishReason).toBe("abort");
      expect(session.last!.completionTokens).toBeLessThan(400);
      await waitFor(() => ui.frame().includes("· stopped"), "the stopped footer");
      await waitFor(() => /idle │ tok\/s [\d.]+ │ TTFT \d+ ms │ ctx n\/a │ KV [\d.]+% │ prefix hit [\d.]+%/.test(ui.frame()), "the status bar");
      // The server let go of the request (its running gauge drops to 0).
      let lastRunning = -1;
      for (let i = 0; i < 100 && lastRunning !== 0; i++) {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        lastRunning = Number(/llm:num_requests_running\{[^}]*\} (\S+)/.exec(text)?.[1]);
        if (lastRunning !== 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(lastRunning).toBe(0);
    } finally {
      ui.app.unmount();
    }
  }, SLOW);

  it("sends the API key; without it the connection fails with the server's message", async () => {
    await expect(RemoteChatBackend.connect(keyed.url)).rejects.toThrow(/answered 401/);
    const remote = await RemoteChatBackend.connect(keyed.url, { apiKey: "sekret" });
    const session = new ChatSession(remote, { params: { maxTokens: 4 } });
    expect(await session.send("hi")).toMatchObject({ completionTokens: 4, finishReason: "length" });
  }, SLOW);

  it("the real `llm chat --url` in piped mode prints the server's replies", async () => {
    const r = await runCli(["chat", "--url", `${keyed.url}/v1`, "--api-key", "sekret", "--temperature", "0", "-n", "12"], { stdin: "Once upon a time\n/stats\n" });
    expect(r.code).toBe(0);
    const local = new ChatSession(await localBackend(), { params: { temperature: 0, maxTokens: 12 } });
    await local.send("Once upon a time");
    await local.backend.close();
    expect(r.stdout.startsWith(local.messages[1]!.content + "\n")).toBe(true);
    expect(r.stdout).toContain(`model stories260k (${keyed.url}/v1)`);
    expect(r.stdout).toMatch(/KV cache [\d.]+%/);
  }, SLOW);
});

describe("llm chat --url against a server without /metrics", () => {
  let fake: Server;
  let url = "";
  beforeAll(async () => {
    fake = createServer((req, res) => {
      if (req.url === "/v1/models") return void res.end(JSON.stringify({ data: [{ id: "fake" }] }));
      if (req.url === "/v1/chat/completions" && req.method === "POST") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        const events = [..."Hello there!".split(/(?= )/).map((w) => ({ choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })),
          { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }];
        const timer = setInterval(() => {
          const e = events.shift();
          if (e) res.write(`data: ${JSON.stringify(e)}\n\n`);
          else {
            clearInterval(timer);
            res.end("data: [DONE]\n\n");
          }
        }, 20);
        return;
      }
      res.writeHead(404).end("not found");
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(fake.address() as { port: number }).port}/v1`;
  }, SLOW);
  afterAll(() => new Promise<void>((r) => fake.close(() => r())));

  it("shows what it can (tok/s, TTFT) and n/a for the KV figures", async () => {
    const session = new ChatSession(await RemoteChatBackend.connect(url));
    const ui = mountChat(session);
    try {
      await ui.type("hi");
      await ui.press(KEYS.enter);
      await waitFor(() => ui.frame().includes("fake › Hello there!"), "the reply");
      await waitFor(() => /idle │ tok\/s [\d.]+ │ TTFT \d+ ms │ ctx n\/a │ KV n\/a │ prefix hit n\/a/.test(ui.frame()), "the status bar");
      expect(session.last).toMatchObject({ completionTokens: 2, finishReason: "stop", promptTokens: null });
      await ui.type("/stats");
      await ui.press(KEYS.enter);
      await waitFor(() => ui.frame().includes("/metrics unreachable (status 404)"), "/stats");
    } finally {
      ui.app.unmount();
    }
  }, SLOW);
});
