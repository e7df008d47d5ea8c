import { describe, expect, it } from "vitest";
import { IncrementalDetokenizer } from "../../src/tokenizer/incremental-detokenizer.ts";
import { isWellFormed, readGolden, tok512Tokenizer } from "../helpers/tokenizer-fixtures.ts";

interface GenerationGolden {
  prompt: string;
  prompt_ids: number[];
  generated_ids: number[];
  generated_pieces: string[];
  run_c_stdout: string;
}

const NAMES = [
  "bos_only",
  "once_upon_a_time",
  "lily_and_tom",
  "the_cat",
  "one_day_tim",
  "she_was_happy",
  "the_sun",
  "long_200",
];

// run.c prints every piece after BOS, stripping the leading space of the piece that follows BOS
// (leadingSpace "after-bos"), and stops before printing a sampled BOS.
describe("decode vs run.c output (stories260K goldens)", () => {
  const tok = tok512Tokenizer();

  for (const name of NAMES) {
    const g = readGolden<GenerationGolden>(`stories260K_${name}.json`);
    const ids = [...g.prompt_ids, ...g.generated_ids];

    it(`${name}: prompt encodes to prompt_ids`, () => {
      expect(tok.encode(g.prompt, { addSpecial: true })).toEqual(g.prompt_ids);
    });

    it(`${name}: decode(prompt + generated, after-bos) == run_c_stdout`, () => {
      expect(tok.decode(ids, { leadingSpace: "after-bos" })).toBe(g.run_c_stdout);
    });

    it(`${name}: tokenBytes of each generated id is run.c's printed piece`, () => {
      // generated_pieces are run.c's raw vocabulary strings: "<0x0A>" prints as that byte, BOS as nothing.
      const printed = (p: string): string => {
        const byte = /^<0x([0-9A-F]{2})>$/.exec(p);
        return byte ? String.fromCharCode(parseInt(byte[1]!, 16)) : p === "\n<s>\n" ? "" : p;
      };
      const pieces = g.generated_ids.map((id) => new TextDecoder().decode(tok.tokenBytes(id)));
      expect(pieces).toEqual(g.generated_pieces.map(printed));
    });

    it(`${name}: the incremental detokenizer gives the same text one id at a time`, () => {
      const detok = new IncrementalDetokenizer(tok, { leadingSpace: "after-bos" });
      const chunks = ids.map((id) => detok.push(id));
      chunks.push(detok.flush());
      for (const c of chunks) expect(isWellFormed(c)).toBe(true);
      expect(chunks.join("")).toBe(g.run_c_stdout);
    });

    it(`${name}: primed with the prompt, the detokenizer streams just the continuation`, () => {
      const detok = new IncrementalDetokenizer(tok, { leadingSpace: "after-bos", prefixIds: g.prompt_ids });
      const text = detok.pushAll(g.generated_ids) + detok.flush();
      const promptText = tok.decode(g.prompt_ids, { leadingSpace: "after-bos" });
      expect(promptText + text).toBe(g.run_c_stdout);
    });
  }

  it("llama.cpp's rule keeps the space after a leading BOS, strips it without BOS", () => {
    const g = readGolden<GenerationGolden>("stories260K_once_upon_a_time.json");
    expect(tok.decode(g.prompt_ids)).toBe(" Once upon a time");
    expect(tok.decode(g.prompt_ids.slice(1))).toBe("Once upon a time");
    expect(tok.decode(g.prompt_ids, { leadingSpace: "keep" })).toBe(" Once upon a time");
    expect(tok.decode(g.prompt_ids.slice(1), { leadingSpace: "keep" })).toBe(" Once upon a time");
    expect(tok.decode(g.prompt_ids, { renderSpecial: true })).toBe("<s> Once upon a time");
  });
});
