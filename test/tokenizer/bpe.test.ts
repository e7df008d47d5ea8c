import { describe, expect, it } from "vitest";
import { BpeTokenizer } from "../../src/tokenizer/bpe.ts";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { MetadataReader } from "../../src/tokenizer/metadata.ts";
import { getPreTokenizer } from "../../src/tokenizer/pre-tokenizers.ts";
import { readVocab } from "../../src/tokenizer/vocab.ts";
import { bpeMetadata } from "../helpers/tokenizer-synthetic.ts";

// Byte-level symbols: "Ġ" is the space byte, "Ċ" the newline byte.
const TOKENS = ["a", "b", "c", "Ġ", "ab", "bc", "Ġa", "abc", "Ċ", "<|end|>", "<u>", "Ã", "©", "Ã©"];
const id = (t: string): number => TOKENS.indexOf(t);

function make(merges: string[], pre = "gpt-2", types?: number[], cacheSize?: number): BpeTokenizer {
  const extra: [string, number[]][] = types ? [["tokenizer.ggml.token_type", types]] : [];
  const md = new MetadataReader(bpeMetadata(TOKENS, merges, extra), "test");
  const vocab = readVocab(md, { bosId: null, eosId: null, unkId: null, addBos: false, addSpacePrefix: false });
  return new BpeTokenizer(vocab, merges, getPreTokenizer(pre), { cacheSize });
}

describe("byte-level BPE (synthetic vocabularies)", () => {
  it("merges by lowest rank first", () => {
    expect(make(["a b", "b c", "ab c"]).encode("abc")).toEqual([id("abc")]);
    expect(make(["b c", "a b", "ab c"]).encode("abc")).toEqual([id("a"), id("bc")]);
  });

  it("merges identical ranks leftmost first", () => {
    expect(make(["a b", "b c"]).encode("abab")).toEqual([id("ab"), id("ab")]);
  });

  it("does not merge across pre-tokenizer words", () => {
    const tok = make(["Ġ a", "a b"]);
    expect(tok.encode("ab a")).toEqual([id("ab"), id("Ġa")]);
    expect(tok.encode("a\n")).toEqual([id("a"), id("Ċ")]);
  });

  it("spells non-ASCII text as byte symbols and decodes it back", () => {
    const tok = make(["Ã ©"]);
    expect(tok.encode("é")).toEqual([id("Ã©")]);
    expect(tok.decode([id("Ã©")])).toBe("é");
    expect(tok.decode([id("Ã")])).toBe("\ufffd"); // half a character
  });

  it("ignore_merges (Llama 3) takes whole-word vocabulary entries directly", () => {
    expect(make(["b c"], "gpt-2").encode("abc")).toEqual([id("a"), id("bc")]);
    expect(make(["b c"], "llama-bpe").encode("abc")).toEqual([id("abc")]);
  });

  it("splits control tokens only with parseSpecial, user-defined ones always", () => {
    const types = TOKENS.map((t) => (t === "<|end|>" ? 3 : t === "<u>" ? 4 : 1));
    const tok = make(["a b"], "gpt-2", types);
    expect(tok.encode("ab<|end|>", { parseSpecial: true })).toEqual([id("ab"), id("<|end|>")]);
    expect(tok.encode("ab<u>c")).toEqual([id("ab"), id("<u>"), id("c")]);
    expect(tok.decode([id("<|end|>")])).toBe("");
    expect(tok.decode([id("<|end|>")], { renderSpecial: true })).toBe("<|end|>");
    expect(tok.decode([id("<u>")])).toBe("<u>");
    expect(tok.isControl(id("<|end|>"))).toBe(true);
  });

  it("gives the same ids with a tiny evicting word cache", () => {
    const big = make(["a b", "b c", "ab c", "Ġ a"]);
    const tiny = make(["a b", "b c", "ab c", "Ġ a"], "gpt-2", undefined, 1);
    const text = "abc a abc ab a b c abc cab";
    expect(tiny.encode(text)).toEqual(big.encode(text));
    expect(tiny.encode(text)).toEqual(big.encode(text));
  });

  it("never strips leading spaces (no dummy prefix)", () => {
    const tok = createTokenizer(bpeMetadata(TOKENS, ["Ġ a"]));
    expect(tok.decode(tok.encode(" a"))).toBe(" a");
  });
});
