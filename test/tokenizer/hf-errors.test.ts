import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGenerationConfig } from "../../src/config/generation-config.ts";
import { tokenizerFromJson } from "../../src/tokenizer/hf/from-tokenizer-json.ts";
import { loadHfTokenizer } from "../../src/tokenizer/hf/load-folder.ts";
import { onigurumaToJs } from "../../src/tokenizer/hf/split-regex.ts";
import { readTokenizerConfig } from "../../src/tokenizer/hf/tokenizer-config.ts";
import { ModelFileError } from "../../src/util/errors.ts";

/** A tiny but complete byte-level BPE tokenizer.json: the 256 byte characters, one merge, two added tokens. */
function tinyByteLevel(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  const chars = [..."!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"];
  chars.forEach((c, i) => (vocab[c] = i));
  vocab["\u0120"] = chars.length; // Ġ (space)
  vocab["\u0120a"] = chars.length + 1;
  const n = chars.length + 2;
  return {
    model: { type: "BPE", vocab, merges: ["\u0120 a"], unk_token: null, byte_fallback: false, fuse_unk: false, ignore_merges: false },
    added_tokens: [{ id: n, content: "<|end|>", special: true }, { id: n + 1, content: "<tool>", special: false }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel" },
  };
}

const tmp = mkdtempSync(join(tmpdir(), "llm-hf-tok-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectModelFileError(f: () => unknown, ...parts: string[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ModelFileError);
  for (const p of parts) expect((err as Error).message).toContain(p);
}

describe("tokenizer.json: a small byte-level file", () => {
  it("tokenizes with its merges, added tokens and BOS/EOS from tokenizer_config.json", () => {
    const tok = tokenizerFromJson(tinyByteLevel(), readTokenizerConfig({ eos_token: { content: "<|end|>" }, add_bos_token: false }));
    expect(tok.kind).toBe("gpt2");
    expect(tok.eosId).toBe(96);
    expect(tok.decode(tok.encode("a a<tool>!"))).toBe("a a<tool>!");
    expect(tok.encode(" a")).toEqual([95]);
    expect(tok.encode("<|end|>", { parseSpecial: true })).toEqual([96]);
    expect(tok.encode("<tool>")).toEqual([97]);
  });
});

describe("tokenizer.json: bad files give clear errors", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["a WordPiece model", { ...tinyByteLevel(), model: { type: "WordPiece", vocab: {} } }, ["unsupported model type \"WordPiece\"", "supported: BPE"]],
    ["a negative id", { ...tinyByteLevel(), model: { type: "BPE", vocab: { a: -1 }, merges: [] } }, ["ids must be non-negative"]],
    ["a malformed merge", { ...tinyByteLevel(), model: { ...(tinyByteLevel().model as object), merges: ["nospace"] } }, ["malformed merge 0"]],
    ["an unknown normalizer", { ...tinyByteLevel(), normalizer: { type: "BertNormalizer" } }, ["unsupported normalizer type \"BertNormalizer\"", "NFC"]],
    ["an unknown pre-tokenizer", { ...tinyByteLevel(), pre_tokenizer: { type: "Whitespace" } }, ["unsupported pre_tokenizer type \"Whitespace\"", "Metaspace"]],
    ["an unknown decoder", { ...tinyByteLevel(), decoder: { type: "WordPiece" } }, ["unsupported decoder type \"WordPiece\""]],
    ["a possessive split regex", { ...tinyByteLevel(), pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: "\\p{L}++" }, behavior: "Isolated" }, { type: "ByteLevel", use_regex: false }] } }, ["possessive"]],
    ["dropout", { ...tinyByteLevel(), model: { ...(tinyByteLevel().model as object), dropout: 0.1 } }, ["dropout"]],
    ["not an object", [] as unknown as Record<string, unknown>, ["expected a JSON object"]],
  ];
  for (const [what, json, parts] of cases) {
    it(`refuses ${what}`, () => expectModelFileError(() => tokenizerFromJson(json, null, "tok.json"), "tok.json", ...parts));
  }

  it("refuses a bos_token that is not in the vocabulary", () => {
    expectModelFileError(() => tokenizerFromJson(tinyByteLevel(), readTokenizerConfig({ bos_token: "<s>" })), "'bos_token' \"<s>\" is not a token");
  });

  it("refuses a malformed tokenizer_config.json chat_template", () => {
    expect(() => readTokenizerConfig({ chat_template: 42 })).toThrow(/chat_template/);
    expect(readTokenizerConfig({ chat_template: [{ name: "default", template: "A" }, { name: "tool_use", template: "B" }] }).chatTemplate).toBe("A");
  });
});

describe("model folders", () => {
  it("loads tokenizer.json, tokenizer_config.json and a chat_template.jinja", () => {
    const dir = join(tmp, "ok");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tinyByteLevel()));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ eos_token: "<|end|>" }));
    writeFileSync(join(dir, "chat_template.jinja"), "{{ messages[0]['content'] }}");
    const hf = loadHfTokenizer(dir);
    expect(hf.chatTemplate).toBe("{{ messages[0]['content'] }}");
    expect(hf.tokenizer.eosId).toBe(96);
  });

  it("says so when tokenizer.json is missing or not JSON", () => {
    expectModelFileError(() => loadHfTokenizer(tmp), "no tokenizer.json");
    writeFileSync(join(tmp, "tokenizer.json"), "{ nope");
    expectModelFileError(() => loadHfTokenizer(tmp), "not valid JSON");
  });

  it("reads generation_config.json sampling defaults and its extra eos ids", () => {
    writeFileSync(join(tmp, "generation_config.json"), JSON.stringify({ do_sample: true, temperature: 0.6, top_p: 0.9, top_k: 20, repetition_penalty: 1.1, eos_token_id: [1, 7] }));
    expect(readGenerationConfig(tmp)).toEqual({ sampling: { temperature: 0.6, topP: 0.9, topK: 20, repetitionPenalty: 1.1 }, eosTokenIds: [1, 7] });
    writeFileSync(join(tmp, "generation_config.json"), JSON.stringify({ temperature: "hot" }));
    expectModelFileError(() => readGenerationConfig(tmp), "'temperature' should be a number");
    expect(readGenerationConfig(join(tmp, "absent"))).toEqual({ sampling: {}, eosTokenIds: [] });
  });
});

describe("Oniguruma split patterns in JavaScript", () => {
  it("rewrites (?i:...) and \\s the way the tokenizer needs", () => {
    expect("It'S 'LL 'x".match(new RegExp(onigurumaToJs("(?i:'s|'ll)"), "gu"))).toEqual(["'S", "'LL"]);
    // Oniguruma's \s is Unicode White_Space: U+0085 yes, U+FEFF no (JavaScript's \s is the other way round).
    expect("a\u0085\ufeffb".match(new RegExp(onigurumaToJs("\\s+"), "gu"))).toEqual(["\u0085"]);
    expect("a\u0085\ufeffb".match(new RegExp(onigurumaToJs("[^\\s\\p{L}]+"), "gu"))).toEqual(["\ufeff"]);
    expect(() => onigurumaToJs("\\G")).toThrow(/\\G/);
  });
});
