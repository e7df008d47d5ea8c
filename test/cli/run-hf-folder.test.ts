import { writeFileSync } from "node:fs";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyArchHfFolder } from "../../src/model/random-arch-model.ts";
import { CHATML_TEMPLATE, ChatTemplate, encodeChatPrompt } from "../../src/server/chat-template.ts";
import { bytesToUnicode } from "../../src/tokenizer/byte-unicode.ts";
import { loadHfTokenizer } from "../../src/tokenizer/hf/load-folder.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";

// A Hugging Face folder end to end through `llm run`: random tiny qwen2 weights (the HF loader's test
// model), with our tokenizer.json, tokenizer_config.json (chat template, eos) and generation_config.json.
const root = tempDir("llm-hf-run-");
const dir = join(root, "tiny-qwen2");
const TEMPLATE = CHATML_TEMPLATE.replace("{% for message", "{{ '[tpl]' }}{% for message");

beforeAll(async () => {
  await writeTinyArchHfFolder(dir, "qwen2", 7);
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[bytesToUnicode(Uint8Array.of(b))] = b;
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({
    model: { type: "BPE", vocab, merges: [], unk_token: null },
    added_tokens: [
      { id: 256, content: "<|endoftext|>", special: true },
      { id: 257, content: "<|im_start|>", special: true },
      { id: 258, content: "<|im_end|>", special: true },
    ],
    normalizer: { type: "NFC" },
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel" },
  }));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ eos_token: "<|im_end|>", bos_token: null, chat_template: TEMPLATE }));
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ max_new_tokens: 3, temperature: 0, eos_token_id: [258, 256] }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("llm run on a Hugging Face folder", () => {
  it("tokenizes with tokenizer.json, chats with tokenizer_config.json's template, samples with generation_config.json", async () => {
    const r = await runCli(["run", dir, "Hi there", "--chat", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { prompt_token_ids: number[]; generated_token_ids: number[]; finish_reason: string };
    const tok = loadHfTokenizer(dir).tokenizer;
    const text = new ChatTemplate(TEMPLATE, "model", "", "<|im_end|>").render([{ role: "user", content: "Hi there" }], true);
    expect(text.startsWith("[tpl]<|im_start|>user")).toBe(true);
    expect(out.prompt_token_ids).toEqual(encodeChatPrompt(tok, text));
    // max_new_tokens 3 from generation_config.json (unless stopped early by an eos id from it).
    if (out.finish_reason === "length") expect(out.generated_token_ids).toHaveLength(3);
    else expect([256, 258]).toContain(out.generated_token_ids.at(-1));
    // temperature 0 from generation_config.json: two runs agree.
    const again = await runCli(["run", dir, "Hi there", "--chat", "--json"]);
    expect(JSON.parse(again.stdout.trim().split("\n").at(-1)!).generated_token_ids).toEqual(out.generated_token_ids);
  });

  it("lets the command line override generation_config.json", async () => {
    const r = await runCli(["run", dir, "Hi", "--json", "-n", "5", "--ignore-eos"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!).generated_token_ids).toHaveLength(5);
  });

  it("says so in one line when the folder has no tokenizer.json", async () => {
    const bare = join(root, "no-tokenizer");
    await writeTinyArchHfFolder(bare, "qwen2", 7);
    const r = await runCli(["run", bare, "Hi"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^llm: error: .*no-tokenizer: no tokenizer\.json in this folder/);
  });
});
