import { describe, expect, it } from "vitest";
import { llama2Tokenizer, llamaCppVocabCases } from "../helpers/tokenizer-fixtures.ts";

// llama.cpp's own tokenizer test vectors for the Llama 2 SentencePiece vocabulary
// (models/ggml-vocab-llama-spm.gguf.inp/.out): encode without BOS, parse_special off.
describe("SPM tokenizer vs llama.cpp test vectors (Llama 2 vocab)", () => {
  const tok = llama2Tokenizer();
  const cases = llamaCppVocabCases("ggml-vocab-llama-spm.gguf");

  it("has all 46 cases", () => {
    expect(cases.length).toBe(46);
    expect(cases.filter((c) => c.text.includes("\n")).length).toBeGreaterThan(0);
  });

  cases.forEach((c, k) => {
    it(`case ${k}: ${JSON.stringify(c.text).slice(0, 60)}`, () => {
      expect(tok.encode(c.text)).toEqual(c.ids);
    });
  });

  it("decodes every case back to its text (no normalisation, dummy space stripped)", () => {
    for (const c of cases) expect(tok.decode(c.ids)).toBe(c.text);
  });
});
