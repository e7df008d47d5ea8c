import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MetadataValue } from "../../src/loader/types.ts";
import { CHATML_TEMPLATE, encodeChatPrompt, resolveChatTemplate } from "../../src/server/chat-template.ts";
import type { RunningServer } from "../../src/server/start-server.ts";
import { loadTestModel } from "../helpers/engine.ts";
import { readGolden } from "../helpers/golden.ts";
import { tempDir, writeTemp } from "../helpers/tiny-gguf.ts";
import { inProcessServer, postJson } from "./helpers.ts";

let server: RunningServer;
let plain: RunningServer;
beforeAll(async () => {
  server = await inProcessServer();
  // A template that renders only the contents: chat then sees exactly the completions prompt.
  const file = writeTemp(tempDir(), "content-only.jinja", "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
  plain = await inProcessServer({ chatTemplate: file });
});
afterAll(async () => {
  await Promise.all([server.shutdown(), plain.shutdown()]);
});

describe("/tokenize and /detokenize", () => {
  it("tokenize a prompt (BOS by default, not with add_special_tokens false), with token strings; detokenize back", async () => {
    const g = readGolden("stories260K_once_upon_a_time");
    const r = await postJson(`${server.url}/tokenize`, { model: "stories260k", prompt: g.prompt, return_token_strs: true });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ count: g.prompt_ids.length, max_model_len: 512, tokens: g.prompt_ids, token_strs: expect.any(Array) });
    expect(r.body.token_strs[0]).toBe("<s>");
    const bare = await postJson(`${server.url}/tokenize`, { prompt: g.prompt, add_special_tokens: false });
    expect(bare.body.tokens).toEqual(g.prompt_ids.slice(1));
    expect(bare.body.token_strs).toBeNull();
    const d = await postJson(`${server.url}/detokenize`, { tokens: g.prompt_ids });
    expect(d.body).toEqual({ prompt: g.prompt });
  });

  it("tokenize chat messages: the same count the chat endpoint reports as prompt_tokens", async () => {
    const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi there" }];
    const t = await postJson(`${server.url}/tokenize`, { messages });
    const c = await postJson(`${server.url}/v1/chat/completions`, { messages, max_tokens: 1 });
    expect(t.body.count).toBe(c.body.usage.prompt_tokens);
  });

  it("errors: missing fields, bad ids, unknown model", async () => {
    expect((await postJson(`${server.url}/tokenize`, {})).status).toBe(400);
    expect((await postJson(`${server.url}/detokenize`, { tokens: [1, 99999] })).body.error.param).toBe("tokens");
    expect((await postJson(`${server.url}/detokenize`, { tokens: "abc" })).status).toBe(400);
    expect((await postJson(`${server.url}/tokenize`, { model: "x", prompt: "a" })).status).toBe(404);
  });
});

describe("chat templates", () => {
  it("the model's own template (GGUF tokenizer.chat_template) wins, with bos/eos tokens and add_generation_prompt", async () => {
    const loaded = await loadTestModel();
    const md = new Map<string, MetadataValue>([["tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"]]);
    const t = resolveChatTemplate(md, loaded.tokenizer);
    expect(t.origin).toBe("model");
    expect(t.render([{ role: "user", content: "hi" }], true)).toBe("<s>[user]hi</s>[assistant]");
    expect(t.render([{ role: "user", content: "hi" }], false)).toBe("<s>[user]hi</s>");
    // Special-token text maps to the token, and BOS is not doubled.
    const ids = encodeChatPrompt(loaded.tokenizer, "<s>[user]hi</s>");
    expect(ids[0]).toBe(1);
    expect(ids[1]).not.toBe(1);
    expect(ids.at(-1)).toBe(2);
  });

  it("no template in the model: ChatML; --chat-template chatml or a file overrides; unreadable files are usage errors", async () => {
    const loaded = await loadTestModel();
    const fallback = resolveChatTemplate(loaded.checkpoint.metadata, loaded.tokenizer);
    expect(fallback.origin).toBe("fallback");
    expect(fallback.source).toBe(CHATML_TEMPLATE);
    expect(fallback.render([{ role: "user", content: "hi" }], true)).toBe("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    expect(resolveChatTemplate(new Map(), loaded.tokenizer, "chatml").origin).toBe("named");
    expect(() => resolveChatTemplate(new Map(), loaded.tokenizer, "/nonexistent/t.jinja")).toThrow(/--chat-template .*chatml/);
    expect(() => resolveChatTemplate(new Map([["tokenizer.chat_template", "{% for %}"]]), loaded.tokenizer)).toThrow(/does not parse/);
  });

  it("a template's raise_exception is a 400", async () => {
    const file = writeTemp(tempDir(), "strict.jinja", "{% if messages[0]['role'] != 'system' %}{{ raise_exception('first message must be system') }}{% endif %}x");
    const s = await inProcessServer({ chatTemplate: file });
    try {
      const r = await postJson(`${s.url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }] });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/first message must be system/);
    } finally {
      await s.shutdown();
    }
  });

  it("a --chat-template file is used: a content-only template makes chat greedy equal the run.c golden", async () => {
    const g = readGolden("stories260K_lily_and_tom");
    const r = await postJson(`${plain.url}/v1/chat/completions`, { messages: [{ role: "user", content: g.prompt }], max_tokens: g.new_tokens_requested, temperature: 0 });
    expect(r.status).toBe(200);
    expect(r.body.usage.prompt_tokens).toBe(g.prompt_ids.length);
    expect(r.body.choices[0].message.content).toBe(g.run_c_stdout.slice(g.prompt.length));
  });
});
