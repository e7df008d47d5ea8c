import { describe, expect, it } from "vitest";
import { llama2Tokenizer, readGolden, tok512Tokenizer } from "../helpers/tokenizer-fixtures.ts";

interface RunCTokenizerGolden {
  tokenizer_file: string;
  cases: { text: string; ids: number[] }[];
}

// run.c's encode(text, bos=1, eos=0) on 12 strings per vocabulary.
for (const [file, make] of [
  ["tokenizer_llama2_runc.json", llama2Tokenizer],
  ["tokenizer_tok512_runc.json", tok512Tokenizer],
] as const) {
  describe(`SPM tokenizer vs run.c goldens (${file})`, () => {
    const golden = readGolden<RunCTokenizerGolden>(file);
    const tok = make();

    it("has 12 cases", () => expect(golden.cases.length).toBe(12));

    for (const c of golden.cases) {
      it(`encodes ${JSON.stringify(c.text)} with BOS`, () => {
        expect(tok.encode(c.text, { addSpecial: true })).toEqual(c.ids);
      });
    }

    it("reads a literal <s> as text unless parseSpecial", () => {
      const c = golden.cases.find((x) => x.text.startsWith("<s>"))!;
      expect(tok.encode(c.text, { addSpecial: true })).toEqual(c.ids);
      const parsed = tok.encode(c.text, { addSpecial: true, parseSpecial: true });
      expect(parsed.slice(0, 2)).toEqual([1, 1]);
      expect(parsed.at(-1)).toBe(2);
    });
  });
}
