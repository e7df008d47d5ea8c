import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server/start-server.ts";
import { inProcessServer, postJson } from "./helpers.ts";

let server: RunningServer;
let keyed: RunningServer;
beforeAll(async () => {
  server = await inProcessServer({ maxBodyBytes: 16 * 1024 });
  keyed = await inProcessServer({ apiKey: "s3cret" });
});
afterAll(async () => {
  await Promise.all([server.shutdown(), keyed.shutdown()]);
});

/** Every error is OpenAI's error object: {error: {message, type, param, code}}. */
function expectError(r: { status: number; body: any }, status: number, fields: { param?: string | null; code?: string | null; type?: string; message?: RegExp } = {}) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body)).toEqual(["error"]);
  const e = r.body.error;
  expect(Object.keys(e).sort()).toEqual(["code", "message", "param", "type"]);
  expect(typeof e.message).toBe("string");
  expect(e.message.length).toBeGreaterThan(0);
  if (fields.param !== undefined) expect(e.param).toBe(fields.param);
  if (fields.code !== undefined) expect(e.code).toBe(fields.code);
  expect(e.type).toBe(fields.type ?? "invalid_request_error");
  if (fields.message) expect(e.message).toMatch(fields.message);
}

const comp = (body: unknown, headers?: Record<string, string>) => postJson(`${server.url}/v1/completions`, body, headers);
const chat = (body: unknown) => postJson(`${server.url}/v1/chat/completions`, body);
const msgs = [{ role: "user", content: "hi" }];

describe("error responses: status and OpenAI error object", () => {
  it("malformed JSON, a body that is not an object, an empty body → 400", async () => {
    expectError(await comp("{not json"), 400, { code: "invalid_json", message: /parse the JSON/ });
    expectError(await comp("[1, 2]"), 400, { code: "invalid_type" });
    expectError(await comp(""), 400, { code: "invalid_json" });
  });

  it("wrong types → 400 naming the parameter", async () => {
    expectError(await comp({ prompt: "x", temperature: "hot" }), 400, { param: "temperature", code: "invalid_type" });
    expectError(await comp({ prompt: "x", max_tokens: 1.5 }), 400, { param: "max_tokens", code: "invalid_type" });
    expectError(await comp({ prompt: "x", stream: "yes" }), 400, { param: "stream", code: "invalid_type" });
    expectError(await comp({ prompt: "x", stop: [1] }), 400, { param: "stop", code: "invalid_type" });
    expectError(await comp({ prompt: { text: "x" } }), 400, { param: "prompt", code: "invalid_type" });
    expectError(await comp({}), 400, { param: "prompt", code: "missing_required_parameter" });
    expectError(await chat({ messages: "hi" }), 400, { param: "messages", code: "invalid_type" });
    expectError(await chat({ messages: [] }), 400, { param: "messages" });
    expectError(await chat({ messages: [{ role: "wizard", content: "x" }] }), 400, { param: "messages[0].role" });
    expectError(await chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: "x" }] }] }), 400, { param: "messages[0].content" });
    expectError(await chat({ messages: msgs, logit_bias: { "5": "a lot" } }), 400, { param: "logit_bias", code: "invalid_type" });
  });

  it("out-of-range values → 400", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ temperature: 3 }, "temperature"], [{ temperature: -1 }, "temperature"], [{ top_p: 0 }, "top_p"], [{ top_p: 1.5 }, "top_p"],
      [{ top_k: -2 }, "top_k"], [{ min_p: 2 }, "min_p"], [{ presence_penalty: 5 }, "presence_penalty"], [{ frequency_penalty: -3 }, "frequency_penalty"],
      [{ repetition_penalty: 0 }, "repetition_penalty"], [{ n: 0 }, "n"], [{ n: 129 }, "n"], [{ max_tokens: 0 }, "max_tokens"],
      [{ logprobs: 21 }, "logprobs"], [{ logit_bias: { "512": 1 } }, "logit_bias"], [{ logit_bias: { "5": 101 } }, "logit_bias"],
      [{ stop_token_ids: [9999] }, "stop_token_ids"], [{ seed: 0.5 }, "seed"],
    ];
    for (const [extra, param] of cases) {
      const r = await comp({ prompt: "x", ...extra });
      expect(r.status, `${JSON.stringify(extra)} → ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.param).toBe(param);
    }
    expectError(await chat({ messages: msgs, top_logprobs: 3 }), 400, { param: "top_logprobs" });
    expectError(await chat({ messages: msgs, logprobs: true, top_logprobs: 21 }), 400, { param: "top_logprobs" });
    expectError(await chat({ messages: msgs, max_completion_tokens: 0 }), 400, { param: "max_completion_tokens" });
    expectError(await comp({ prompt: [1, 2, 600] }), 400, { param: "prompt", code: "invalid_value" });
    expectError(await comp({ prompt: "x", stream_options: { include_usage: true } }), 400, { param: "stream_options" });
  });

  it("response_format: text is accepted, others are 400", async () => {
    const ok = await chat({ messages: msgs, max_tokens: 2, response_format: { type: "text" } });
    expect(ok.status).toBe(200);
    expectError(await chat({ messages: msgs, response_format: { type: "json_object" } }), 400, { param: "response_format", code: "unsupported_value" });
    expectError(await chat({ messages: msgs, response_format: { type: "json_schema", json_schema: {} } }), 400, { param: "response_format" });
  });

  it("an unknown model → 404 model_not_found", async () => {
    expectError(await comp({ model: "gpt-4", prompt: "x" }), 404, { param: "model", code: "model_not_found", message: /gpt-4/ });
    expectError(await chat({ model: "nope", messages: msgs }), 404, { code: "model_not_found" });
  });

  it("a prompt longer than the context → 400 with the numbers, never truncated", async () => {
    const long = Array.from({ length: 600 }, () => 300);
    expectError(await comp({ prompt: long, max_tokens: 1 }), 400, { param: "prompt", code: "context_length_exceeded", message: /maximum context length is 512 tokens.*600 tokens/ });
    const longText = "the cat sat on the mat. ".repeat(200);
    expectError(await chat({ messages: [{ role: "user", content: longText }] }), 400, { param: "messages", code: "context_length_exceeded", message: /512 tokens/ });
  });

  it("max_tokens beyond the context → 400 with the numbers", async () => {
    expectError(await comp({ prompt: [1, 300, 301], max_tokens: 510 }), 400, {
      param: "max_tokens", code: "context_length_exceeded", message: /maximum context length is 512 tokens\. However, you requested 513 tokens \(3 in the prompt, 510 in the completion\)/,
    });
    expectError(await chat({ messages: msgs, max_tokens: 100_000 }), 400, { param: "max_tokens", code: "context_length_exceeded" });
    const fits = await comp({ prompt: [1, 300, 301], max_tokens: 509, stop: "." });
    expect(fits.status).toBe(200);
  });

  it("unknown paths → 404; known paths with another method → 405 with Allow", async () => {
    const r404 = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expectError({ status: r404.status, body: await r404.json() }, 404, { code: "unknown_url" });
    const r405 = await fetch(`${server.url}/v1/chat/completions`);
    expect(r405.headers.get("allow")).toBe("POST");
    expectError({ status: r405.status, body: await r405.json() }, 405, { code: "method_not_allowed" });
    const m405 = await fetch(`${server.url}/metrics`, { method: "DELETE" });
    expect(m405.status).toBe(405);
    expect(m405.headers.get("allow")).toBe("GET");
  });

  it("a body over the limit → 413", async () => {
    const big = JSON.stringify({ prompt: "x".repeat(20 * 1024) });
    expectError(await comp(big), 413, { code: "request_too_large", message: /16384 bytes/ });
    // Without a content-length (a streamed body), the limit holds too.
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
        c.close();
      },
    });
    const res = await fetch(`${server.url}/v1/completions`, { method: "POST", body: chunks, duplex: "half" } as RequestInit);
    expectError({ status: res.status, body: await res.json() }, 413);
  });

  it("--api-key: 401 when the bearer token is missing or wrong, 200 when right; /health and /metrics stay open", async () => {
    const url = `${keyed.url}/v1/completions`;
    const body = { prompt: "x", max_tokens: 1 };
    const none = await postJson(url, body);
    expectError(none, 401, { code: "invalid_api_key" });
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expectError(await postJson(url, body, { authorization: "Bearer wrong" }), 401, { code: "invalid_api_key" });
    expectError(await postJson(url, body, { authorization: "s3cret" }), 401, { code: "invalid_api_key" });
    expect((await postJson(url, body, { authorization: "Bearer s3cret" })).status).toBe(200);
    expect((await fetch(`${keyed.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${keyed.url}/health`)).status).toBe(200);
    expect((await fetch(`${keyed.url}/metrics`)).status).toBe(200);
  });
});

describe("backpressure: --max-waiting", () => {
  it("429 with Retry-After once the waiting queue is full; accepted again after", async () => {
    const s = await inProcessServer({ maxWaiting: 1, engine: { maxNumSeqs: 1 } });
    try {
      const long = (signal: AbortSignal) => fetch(`${s.url}/v1/completions`, { method: "POST", body: JSON.stringify({ prompt: "Hi", max_tokens: 400, ignore_eos: true, stream: true }), signal });
      const ac = new AbortController();
      const a = await long(ac.signal); // runs (max_num_seqs 1)
      await a.body!.getReader().read();
      const b = long(ac.signal).catch(() => null); // waits
      for (let i = 0; i < 100 && s.ctx.engine.stats().numWaiting < 1; i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.ctx.engine.stats().numWaiting).toBe(1);
      const c = await postJson(`${s.url}/v1/completions`, { prompt: "Hi", max_tokens: 4 });
      expectError(c, 429, { type: "rate_limit_error", code: "server_overloaded", message: /--max-waiting 1/ });
      expect(c.headers.get("retry-after")).toBe("1");
      const n2 = await postJson(`${s.url}/v1/chat/completions`, { messages: msgs, max_tokens: 4, n: 2 });
      expect(n2.status).toBe(429);
      ac.abort();
      await b;
      for (let i = 0; i < 100 && s.ctx.engine.hasUnfinishedRequests(); i++) await new Promise((r) => setTimeout(r, 10));
      expect((await postJson(`${s.url}/v1/completions`, { prompt: "Hi", max_tokens: 4 })).status).toBe(200);
    } finally {
      await s.shutdown();
    }
  });
});
