import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGolden } from "../helpers/golden.ts";
import { spawnServer, stopServer, type CliServer } from "./helpers.ts";

let server: CliServer;
let client: OpenAI;
const g = readGolden("stories260K_once_upon_a_time");
const continuation = g.run_c_stdout.slice(g.prompt.length);
const hi = [{ role: "user" as const, content: "Tell me a story about a cat." }];

beforeAll(async () => {
  server = await spawnServer(["stories260k"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
});
afterAll(async () => {
  expect(await stopServer(server)).toBe(0);
});

describe("llm serve with the official openai client", () => {
  it("lists the model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["stories260k"]);
  });

  it("completions, non-streaming, greedy: the run.c continuation", async () => {
    const r = await client.completions.create({ model: "stories260k", prompt: g.prompt, max_tokens: 20, temperature: 0 });
    expect(r.object).toBe("text_completion");
    expect(continuation.startsWith(r.choices[0]!.text)).toBe(true);
    expect(r.choices[0]!.text.length).toBeGreaterThan(20);
    expect(r.choices[0]!.finish_reason).toBe("length");
    expect(r.usage).toEqual({ prompt_tokens: g.prompt_ids.length, completion_tokens: 20, total_tokens: g.prompt_ids.length + 20 });
  });

  it("completions, streaming with usage: the same text as non-streaming", async () => {
    const whole = await client.completions.create({ model: "stories260k", prompt: g.prompt, max_tokens: 24, temperature: 0 });
    const stream = await client.completions.create({ model: "stories260k", prompt: g.prompt, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        text += c.text;
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]!.text);
    expect(finish).toBe("length");
    expect(usage).toEqual(whole.usage);
  });

  it("chat, non-streaming and streaming agree; usage arrives in the stream's last chunk", async () => {
    const whole = await client.chat.completions.create({ model: "stories260k", messages: hi, max_tokens: 24, temperature: 0 });
    const msg = whole.choices[0]!.message;
    expect(msg.role).toBe("assistant");
    expect(msg.content!.length).toBeGreaterThan(0);
    expect(whole.usage!.completion_tokens).toBe(24);
    const stream = await client.chat.completions.create({ model: "stories260k", messages: hi, max_completion_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let role: string | undefined;
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      for (const c of chunk.choices) {
        role ??= c.delta.role;
        text += c.delta.content ?? "";
      }
    }
    expect(role).toBe("assistant");
    expect(text).toBe(msg.content);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual(whole.usage);
    expect(chunks.filter((c) => c.usage).length).toBe(1);
  });

  it("stop strings end the text before the stop string (string or list)", async () => {
    const one = await client.completions.create({ model: "stories260k", prompt: g.prompt, max_tokens: 64, temperature: 0, stop: "Lily" });
    expect(one.choices[0]!.text).toBe(continuation.slice(0, continuation.indexOf("Lily")));
    expect(one.choices[0]!.finish_reason).toBe("stop");
    const list = await client.chat.completions.create({ model: "stories260k", messages: hi, max_tokens: 64, temperature: 0, stop: ["zzz", "."] });
    expect(list.choices[0]!.message.content).not.toContain(".");
    expect(list.choices[0]!.finish_reason).toBe("stop");
  });

  it("the same seed gives the same text; another seed another", async () => {
    const ask = (seed: number) => client.completions.create({ model: "stories260k", prompt: "The dog", max_tokens: 32, temperature: 1, seed });
    const [a, b, c] = await Promise.all([ask(42), ask(42), ask(43)]);
    expect(a.choices[0]!.text).toBe(b.choices[0]!.text);
    expect(c.choices[0]!.text).not.toBe(a.choices[0]!.text);
  });

  it("n = 2 gives two choices (chat and completions, streaming too)", async () => {
    const chat = await client.chat.completions.create({ model: "stories260k", messages: hi, max_tokens: 16, temperature: 1, seed: 7, n: 2 });
    expect(chat.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(chat.choices[0]!.message.content).not.toBe(chat.choices[1]!.message.content);
    expect(chat.usage!.completion_tokens).toBe(32);
    const stream = await client.completions.create({ model: "stories260k", prompt: "The dog", max_tokens: 8, temperature: 1, seed: 7, n: 2, stream: true });
    const seen = new Set<number>();
    for await (const chunk of stream) for (const c of chunk.choices) seen.add(c.index);
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it("completions logprobs: the sampled token and the top ones, greedy picks the most likely", async () => {
    const r = await client.completions.create({ model: "stories260k", prompt: g.prompt, max_tokens: 8, temperature: 0, logprobs: 3 });
    const lp = r.choices[0]!.logprobs!;
    expect(lp.tokens!.length).toBe(8);
    expect(lp.tokens!.join("")).toBe(r.choices[0]!.text);
    lp.token_logprobs!.forEach((x, i) => {
      const top = lp.top_logprobs![i]!;
      expect(Object.keys(top).length).toBeGreaterThanOrEqual(3);
      expect(Object.keys(top).length).toBeLessThanOrEqual(4);
      expect(x).toBeLessThanOrEqual(0);
      expect(x).toBeCloseTo(Math.max(...Object.values(top)), 12);
    });
    expect(lp.text_offset![0]).toBe(0);
  });

  it("chat logprobs with top_logprobs; raw logprobs do not depend on temperature", async () => {
    const ask = (temperature: number) => client.chat.completions.create({
      model: "stories260k", messages: hi, max_tokens: 6, temperature, seed: 1, logprobs: true, top_logprobs: 2,
      logit_bias: { "100": 100 }, // forces token 100 whatever the temperature
    });
    const [a, b] = await Promise.all([ask(0.5), ask(1.5)]);
    const ca = a.choices[0]!.logprobs!.content!;
    expect(ca.length).toBe(6);
    for (const t of ca) {
      expect(t.top_logprobs.length).toBe(2);
      expect(t.top_logprobs[0]!.logprob).toBeGreaterThanOrEqual(t.top_logprobs[1]!.logprob);
      expect(t.bytes!.length).toBeGreaterThan(0);
    }
    expect(b.choices[0]!.logprobs!.content!.map((t) => t.logprob)).toEqual(ca.map((t) => t.logprob));
  });
});
