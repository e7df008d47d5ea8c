import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { LlmError } from "../../src/util/errors.ts";
import { llama2Tokenizer } from "../helpers/tokenizer-fixtures.ts";
import { spmBasePieces, spmMetadata } from "../helpers/tokenizer-synthetic.ts";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("SPM tokenizer (synthetic vocabularies)", () => {
  // ids: 259 ▁, 260 a, 261 b, 262 c, 263 ab, 264 bc, 265 ▁a, 266 <x> (user-defined)
  const base = spmBasePieces();
  const pieces = (scores: Record<string, number>): [string, number, number?][] => [
    ...base,
    ["▁", -1],
    ["a", -1],
    ["b", -1],
    ["c", -1],
    ["ab", scores.ab ?? -10],
    ["bc", scores.bc ?? -10],
    ["▁a", scores["▁a"] ?? -100],
    ["<x>", 0, 4],
  ];

  it("merges the highest-scoring pair first", () => {
    const tok = createTokenizer(spmMetadata(pieces({ ab: -5, bc: -3 })));
    expect(tok.encode("abc", {})).toEqual([265, 264]); // ▁a bc ("bc" first, then "▁a")
    const tok2 = createTokenizer(spmMetadata(pieces({ ab: -3, bc: -5 })));
    expect(tok2.encode("abc")).toEqual([259, 263, 262]); // ▁ ab c
  });

  it("breaks score ties leftmost", () => {
    const tok = createTokenizer(spmMetadata(pieces({ ab: -4, bc: -4 })));
    expect(tok.encode("abc")).toEqual([259, 263, 262]);
    expect(tok.encode("bcab")).toEqual([259, 264, 263]);
  });

  it("falls back to byte tokens for characters outside the vocabulary", () => {
    const tok = createTokenizer(spmMetadata(pieces({})));
    expect(tok.encode("é")).toEqual([259, 3 + 0xc3, 3 + 0xa9]);
    expect(tok.decode(tok.encode("aé😀b"))).toBe("aé😀b");
  });

  it("uses <unk> when the vocabulary has no byte tokens", () => {
    const tok = createTokenizer(spmMetadata([["<unk>", 0, 2], ["<s>", 0, 3], ["</s>", 0, 3], ["▁", -1], ["a", -1]]));
    expect(tok.encode("aé")).toEqual([3, 4, 0, 0]);
    expect(tok.decode([3, 4, 0, 0])).toBe("a");
    expect(tok.decode([3, 4, 0], { renderSpecial: true })).toBe("a<unk>");
  });

  it("fails clearly when a byte has neither a byte token nor <unk>", () => {
    const md = spmMetadata([["▁", -1], ["a", -1]], [["tokenizer.ggml.unknown_token_id", 99]]);
    expect(() => createTokenizer(md).encode("é")).toThrow(LlmError);
  });

  it("matches user-defined tokens always, control tokens only with parseSpecial", () => {
    const tok = createTokenizer(spmMetadata(pieces({})));
    expect(tok.encode("a<x>a")).toEqual([265, 266, 265]); // text after a special gets "▁" again
    expect(tok.encode("<s>a", { parseSpecial: true })).toEqual([1, 265]);
    expect(tok.encode("<s>", { parseSpecial: true })).toEqual([1]);
    expect(tok.encode("")).toEqual([]);
    expect(tok.encode("", { addSpecial: true })).toEqual([1]);
  });

  it("renders tokens like llama.cpp's token_to_piece", () => {
    const tok = createTokenizer(spmMetadata(pieces({})));
    expect(text(tok.tokenBytes(265))).toBe(" a");
    expect(tok.tokenBytes(3 + 0x41)).toEqual(Uint8Array.of(0x41));
    expect(tok.tokenBytes(1)).toEqual(new Uint8Array(0));
    expect(text(tok.tokenBytes(1, { renderSpecial: true }))).toBe("<s>");
    expect(text(tok.tokenBytes(266))).toBe("<x>");
    expect(tok.idToPiece(265)).toBe("▁a");
    expect(tok.isControl(1)).toBe(true);
    expect(tok.isControl(0)).toBe(false);
    expect(tok.isControl(265)).toBe(false);
    expect(() => tok.idToPiece(9999)).toThrow(/out of range/);
    expect(() => tok.decode([-1])).toThrow(LlmError);
  });

  it("tokenBytes returns a copy", () => {
    const tok = createTokenizer(spmMetadata(pieces({})));
    tok.tokenBytes(265)[0] = 0x41;
    expect(text(tok.tokenBytes(265))).toBe(" a");
  });
});

describe("SPM tokenizer (Llama 2 vocab)", () => {
  const tok = llama2Tokenizer();

  it("strips one dummy space per decode, per rule", () => {
    const ids = tok.encode("  two spaces", { addSpecial: true });
    expect(tok.decode(ids.slice(1))).toBe("  two spaces");
    expect(tok.decode(ids)).toBe("   two spaces");
    expect(tok.decode(ids, { leadingSpace: "after-bos" })).toBe("  two spaces");
  });

  it("keeps the space prefix after each parsed special token (llama.cpp's is_prev_special)", () => {
    const ids = tok.encode("<s>Hi</s>Hi", { parseSpecial: true });
    expect(ids).toEqual([1, ...tok.encode("Hi"), 2, ...tok.encode("Hi")]);
  });

  it("encodes a long text quickly (priority queue, not rescans)", () => {
    const long = "The quick brown fox jumps over the lazy dog. ".repeat(2000);
    const t0 = performance.now();
    const ids = tok.encode(long);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(tok.decode(ids)).toBe(long);
  });
});
