import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/start-server.ts";
import { tempDir, writeTemp } from "../helpers/tiny-gguf.ts";
import { inProcessServer, readSse, streamText } from "./helpers.ts";
import { scrape } from "./prometheus-parse.ts";

const N = 64;
let server: RunningServer;
beforeAll(async () => {
  // A terse template keeps prompts short (ChatML's markers are many byte tokens in a 512-token vocabulary).
  const template = writeTemp(tempDir(), "plain.jinja", "{% for m in messages %}{{ m['content'] }}\n{% endfor %}");
  server = await inProcessServer({ chatTemplate: template });
});
afterAll(async () => {
  await server.shutdown();
});

const SUBJECTS = ["a cat", "a dog", "the sun", "a red ball", "Lily", "Tom", "a big tree", "the park"];
const VERBS = ["found", "lost", "loved", "saw", "wanted", "made", "shared", "helped"];

/** 64 different requests: varied messages and lengths. */
function request(i: number) {
  return {
    model: "stories260k",
    messages: [{ role: "user", content: `Tell me a story about ${SUBJECTS[i % 8]} that ${VERBS[(i >> 3) % 8]} a friend.` }],
    max_tokens: 8 + (i % 5) * 4,
    temperature: 0,
    stream: true,
  };
}

async function streamChat(url: string, i: number): Promise<{ text: string; done: boolean; finish: string | null }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request(i)) });
  expect(res.status).toBe(200);
  const { events, done } = await readSse(res);
  const finish = events.flatMap((e) => e.choices).map((c: any) => c.finish_reason).find((f: any) => f) ?? null;
  return { text: streamText(events).get(0) ?? "", done, finish };
}

describe("load: 64 concurrent streaming chat requests", () => {
  it("all complete, each with the text it has when run alone; none lost; KV usage back to 0", async () => {
    const alone: string[] = [];
    for (let i = 0; i < N; i++) alone.push((await streamChat(server.url, i)).text);
    const before = await scrape(server.url);
    const together = await Promise.all(Array.from({ length: N }, (_, i) => streamChat(server.url, i)));
    for (let i = 0; i < N; i++) {
      expect(together[i]!.done, `request ${i} ended without [DONE]`).toBe(true);
      expect(together[i]!.finish).toMatch(/^(stop|length)$/);
      expect(together[i]!.text, `request ${i}`).toBe(alone[i]);
    }
    const after = await scrape(server.url);
    const finished = (s: typeof after) => s.get("llm:request_success_total", { finished_reason: "length" }) + s.get("llm:request_success_total", { finished_reason: "stop" });
    expect(finished(after) - finished(before)).toBe(N);
    expect(after.get("llm:request_success_total", { finished_reason: "abort" })).toBe(0);
    expect(after.get("llm:num_requests_running")).toBe(0);
    expect(after.get("llm:num_requests_waiting")).toBe(0);
    expect(after.get("llm:kv_cache_usage_perc")).toBe(0);
    expect(server.ctx.inflight.size).toBe(0);
  });
});
