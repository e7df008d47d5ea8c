import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/start-server.ts";
import { goldenNames, readGolden } from "../helpers/golden.ts";
import { inProcessServer, postJson, readSse, streamText } from "./helpers.ts";

let server: RunningServer;
/** Also checked streamed (the rest only non-streamed, to keep the suite short). */
const STREAMED = ["stories260K_bos_only", "stories260K_once_upon_a_time", "stories260K_she_was_happy"];
beforeAll(async () => {
  server = await inProcessServer();
});
afterAll(async () => {
  await server.shutdown();
});

describe("greedy /v1/completions equals the run.c goldens", () => {
  for (const name of goldenNames()) {
    const g = readGolden(name);
    const expected = g.run_c_stdout.slice(g.prompt.length);
    it(`${name}: text = run_c_stdout minus the prompt`, async () => {
      const body = { model: "stories260k", prompt: g.prompt, max_tokens: g.new_tokens_requested, temperature: 0 };
      const r = await postJson(`${server.url}/v1/completions`, body);
      expect(r.status).toBe(200);
      expect(r.body.choices[0].text).toBe(expected);
      expect(r.body.choices[0].finish_reason).toBe(g.stopped_on_bos ? "stop" : "length");
      expect(r.body.usage.prompt_tokens).toBe(g.prompt_ids.length);
      expect(r.body.usage.completion_tokens).toBe(g.generated_ids.length);
      if (!STREAMED.includes(name)) return;
      const res = await fetch(`${server.url}/v1/completions`, { method: "POST", body: JSON.stringify({ ...body, stream: true }) });
      const { events, done } = await readSse(res);
      expect(done).toBe(true);
      expect(streamText(events).get(0)).toBe(expected);
    });
  }

  it("a prompt given as token ids gives the same text as the prompt string", async () => {
    const g = readGolden("stories260K_the_cat");
    const r = await postJson(`${server.url}/v1/completions`, { prompt: g.prompt_ids, max_tokens: g.new_tokens_requested, temperature: 0 });
    expect(r.body.choices[0].text).toBe(g.run_c_stdout.slice(g.prompt.length));
  });

  it("a batch of prompts: choices indexed prompt * n + sample", async () => {
    const a = readGolden("stories260K_the_cat");
    const b = readGolden("stories260K_the_sun");
    const r = await postJson(`${server.url}/v1/completions`, { prompt: [a.prompt, b.prompt], max_tokens: 16, temperature: 0, n: 2 });
    expect(r.status).toBe(200);
    expect(r.body.choices.map((c: any) => c.index)).toEqual([0, 1, 2, 3]);
    const ca = a.run_c_stdout.slice(a.prompt.length);
    const cb = b.run_c_stdout.slice(b.prompt.length);
    expect(ca.startsWith(r.body.choices[0].text) && ca.startsWith(r.body.choices[1].text)).toBe(true);
    expect(cb.startsWith(r.body.choices[2].text) && cb.startsWith(r.body.choices[3].text)).toBe(true);
    expect(r.body.usage.prompt_tokens).toBe(a.prompt_ids.length + b.prompt_ids.length);
  });

  it("sampling parameters reach the sampler: top_k 1 and min_p 1 are greedy; penalties and bias change greedy text", async () => {
    const g = readGolden("stories260K_once_upon_a_time");
    const greedy = g.run_c_stdout.slice(g.prompt.length);
    const text = async (extra: Record<string, unknown>) => {
      const r = await postJson(`${server.url}/v1/completions`, { prompt: g.prompt, max_tokens: 48, seed: 5, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.choices[0].text as string;
    };
    const base = await text({ temperature: 0 });
    expect(greedy.startsWith(base)).toBe(true);
    expect(await text({ temperature: 1.5, top_k: 1 })).toBe(base);
    expect(await text({ temperature: 1.5, min_p: 1 })).toBe(base);
    for (const extra of [{ frequency_penalty: 2 }, { presence_penalty: 2 }, { repetition_penalty: 2 }]) {
      expect(await text({ temperature: 0, ...extra }), JSON.stringify(extra)).not.toBe(base);
    }
    const biased = await postJson(`${server.url}/v1/completions`, { prompt: g.prompt, max_tokens: 4, temperature: 0, logprobs: 0, logit_bias: { "300": 50 } });
    const tokens: string[] = biased.body.choices[0].logprobs.tokens;
    expect(tokens.length).toBe(4);
    expect(new Set(tokens).size).toBe(1); // token 300 four times
  });
});
