import { describe, expect, it } from "vitest";
import type { MetadataValue } from "../../src/loader/types.ts";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { LlmError, ModelFileError } from "../../src/util/errors.ts";
import { bpeMetadata, spmBasePieces, spmMetadata } from "../helpers/tokenizer-synthetic.ts";

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}

describe("createTokenizer", () => {
  const spm = (): Map<string, MetadataValue> => spmMetadata([...spmBasePieces(), ["▁", -1], ["a", -2]]);

  it("builds a llama (SPM) tokenizer with llama.cpp's defaults", () => {
    const md = spm();
    const tok = createTokenizer(md, "x.gguf");
    expect(tok.kind).toBe("llama");
    expect(tok.vocabSize).toBe(261);
    expect([tok.bosId, tok.eosId, tok.addBos, tok.addSpacePrefix]).toEqual([1, 2, true, true]);
    expect(tok.encode("a", { addSpecial: true })).toEqual([1, 259, 260]);
    expect(tok.encode("a")).toEqual([259, 260]);
  });

  it("honours add_bos_token, add_eos_token, add_space_prefix and special ids", () => {
    const md = spm();
    md.set("tokenizer.ggml.add_bos_token", false);
    md.set("tokenizer.ggml.add_eos_token", true);
    md.set("tokenizer.ggml.add_space_prefix", false);
    md.set("tokenizer.ggml.eos_token_id", 1n);
    const tok = createTokenizer(md);
    expect(tok.addSpacePrefix).toBe(false);
    expect(tok.eosId).toBe(1);
    expect(tok.encode("a", { addSpecial: true })).toEqual([260, 1]);
  });

  it("ignores special ids outside the vocabulary, as llama.cpp does", () => {
    const md = spm();
    md.set("tokenizer.ggml.bos_token_id", 99999);
    expect(createTokenizer(md).bosId).toBeNull();
  });

  it("names the missing key and the file", () => {
    const md = spm();
    md.delete("tokenizer.ggml.tokens");
    const e = errorOf(() => createTokenizer(md, "m.gguf"));
    expect(e).toBeInstanceOf(ModelFileError);
    expect((e as ModelFileError).file).toBe("m.gguf");
    expect(e.message).toBe("m.gguf: missing tokenizer metadata key 'tokenizer.ggml.tokens'");
    const md2 = spm();
    md2.delete("tokenizer.ggml.model");
    expect(errorOf(() => createTokenizer(md2, "m.gguf")).message).toContain("'tokenizer.ggml.model'");
  });

  it("lists the supported models for an unsupported one", () => {
    const md = spm();
    md.set("tokenizer.ggml.model", "bert");
    const e = errorOf(() => createTokenizer(md, "m.gguf"));
    expect(e).toBeInstanceOf(LlmError);
    expect(e.message).toContain('"bert"');
    expect(e.message).toContain("llama, gpt2");
  });

  it("rejects malformed arrays", () => {
    const md = spm();
    md.set("tokenizer.ggml.scores", [1, 2]);
    expect(errorOf(() => createTokenizer(md)).message).toContain("'tokenizer.ggml.scores' has 2 entries for 261 tokens");
    const md2 = spm();
    md2.set("tokenizer.ggml.tokens", [1, 2]);
    expect(errorOf(() => createTokenizer(md2)).message).toContain("should be an array of strings");
    const md3 = spm();
    md3.set("tokenizer.ggml.token_type", new Array(261).fill(9));
    expect(errorOf(() => createTokenizer(md3)).message).toContain("token type 9");
  });

  it("builds a gpt2 tokenizer; merges are required, the pre-tokenizer must be known", () => {
    const md = bpeMetadata(["a", "b", "ab"], ["a b"]);
    const tok = createTokenizer(md);
    expect(tok.kind).toBe("gpt2");
    expect([tok.bosId, tok.eosId, tok.addBos, tok.addSpacePrefix]).toEqual([null, null, false, false]);
    expect(tok.encode("ab")).toEqual([2]);

    md.delete("tokenizer.ggml.merges");
    expect(errorOf(() => createTokenizer(md, "q.gguf")).message).toBe(
      "q.gguf: missing tokenizer metadata key 'tokenizer.ggml.merges'",
    );

    const md2 = bpeMetadata(["a"], [], [["tokenizer.ggml.pre", "falcon"]]);
    const e = errorOf(() => createTokenizer(md2, "q.gguf"));
    expect(e).toBeInstanceOf(ModelFileError);
    expect(e.message).toContain('unknown pre-tokenizer "falcon"');
    expect(e.message).toContain("gpt-2, llama-bpe");
    expect(e.message).toContain("qwen2");
  });

  it("defaults a missing tokenizer.ggml.pre to GPT-2's pattern and llama-bpe to add_bos", () => {
    const md = bpeMetadata(["a"], []);
    md.delete("tokenizer.ggml.pre");
    expect(createTokenizer(md).encode("a")).toEqual([0]);
    const md2 = bpeMetadata(["a"], [], [["tokenizer.ggml.pre", "llama-bpe"]]);
    expect(createTokenizer(md2).addBos).toBe(true);
  });

  it("rejects malformed merges", () => {
    expect(errorOf(() => createTokenizer(bpeMetadata(["a"], ["ab"]), "q.gguf")).message).toContain(
      'q.gguf: malformed BPE merge 0 "ab"',
    );
  });
});
