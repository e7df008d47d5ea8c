import { describe, expect, it } from "vitest";
import { getPreTokenizer, PreTokenizer, SUPPORTED_PRE_TOKENIZERS } from "../../src/tokenizer/pre-tokenizers.ts";
import { LlmError } from "../../src/util/errors.ts";

const split = (name: string, text: string): string[] => new PreTokenizer(getPreTokenizer(name)).split(text);

describe("pre-tokenizers", () => {
  it("GPT-2: contractions lower-case only, a space joins the next word, digits in runs", () => {
    expect(split("gpt-2", "I'm DON'T 12345 hi!!  x")).toEqual(["I", "'m", " DON", "'", "T", " 12345", " hi", "!!", " ", " x"]);
    expect(split("default", "a  b")).toEqual(["a", " ", " b"]);
  });

  it("Llama 3: case-insensitive contractions, digits in threes, newlines kept with whitespace", () => {
    expect(split("llama-bpe", "DON'T they'LL 1234567")).toEqual(["DON", "'T", " they", "'LL", " ", "123", "456", "7"]);
    expect(split("llama3", "a \n\n b\t")).toEqual(["a", " \n\n", " b", "\t"]);
    expect(split("llama-bpe", "x = (y);\n")).toEqual(["x", " =", " (", "y", ");\n"]);
  });

  it("Qwen 2: like Llama 3 but one digit per word", () => {
    expect(split("qwen2", "DON'T 1234")).toEqual(["DON", "'T", " ", "1", "2", "3", "4"]);
  });

  it("words always concatenate back to the text", () => {
    const text = "Hello, wörld! 日本語 😀\t\n  x'S  123456 ;; ";
    for (const name of SUPPORTED_PRE_TOKENIZERS) expect(split(name, text).join("")).toBe(text);
  });

  it("uses Unicode White_Space, not JavaScript's \\s (U+0085 is a space, U+FEFF is not)", () => {
    expect(split("llama-bpe", "a\u0085\u0085b")).toEqual(["a", "\u0085", "\u0085b"]);
    expect(split("llama-bpe", "a \ufeffb")).toEqual(["a", " \ufeff", "b"]);
    expect(split("gpt-2", "a\u3000\u3000b")).toEqual(["a", "\u3000", "\u3000", "b"]); // only U+0020 joins a word
  });

  it("lists the supported names for an unknown one", () => {
    expect(() => getPreTokenizer("tekken")).toThrow(LlmError);
    expect(() => getPreTokenizer("tekken")).toThrow(/unknown pre-tokenizer "tekken"; available: default, gpt-2, llama-bpe/);
  });
});
