import { TokenizerLoader } from "@lenml/tokenizers";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tokenizerFromJson } from "../../src/tokenizer/hf/from-tokenizer-json.ts";
import { readTokenizerConfig } from "../../src/tokenizer/hf/tokenizer-config.ts";
import { HF_TOKENIZER_PACKAGES, type ReferenceTokenizer } from "../helpers/hf-tokenizer-packages.ts";
import { TOKENIZER_CORPUS } from "../helpers/tokenizer-corpus.ts";

// SentencePiece-style BPE as other families write it in tokenizer.json, on Gemma 3's real vocabulary
// and merges: Llama 2 / TinyLlama (Prepend "▁" + Replace normalizer, Strip decoder) and newer
// Mistral (Metaspace pre-tokenizer, prepend_scheme "first"; add_prefix_space too, which the reference
// still reads). Reference: @lenml/tokenizers on the same JSON.
const gemma = HF_TOKENIZER_PACKAGES.find((p) => p.name === "gemma3")!;
const base = JSON.parse(readFileSync(join(gemma.dir, "tokenizer.json"), "utf8")) as Record<string, unknown>;
const config = { bos_token: "<bos>", eos_token: "<eos>", unk_token: "<unk>", add_bos_token: true, add_eos_token: false, tokenizer_class: "PreTrainedTokenizerFast", clean_up_tokenization_spaces: false };
const replaceSpace = { type: "Replace", pattern: { String: " " }, content: "\u2581" };
const byteFallbackDecoders = [{ type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }];

const VARIANTS = [
  {
    name: "Llama 2 style (Prepend + Replace, Strip decoder)",
    json: {
      ...base,
      normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "\u2581" }, replaceSpace] },
      pre_tokenizer: null,
      decoder: { type: "Sequence", decoders: [...byteFallbackDecoders, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    },
    addSpacePrefix: true,
  },
  {
    name: "Mistral style (Metaspace, prepend_scheme first)",
    json: {
      ...base,
      normalizer: null,
      pre_tokenizer: { type: "Metaspace", replacement: "\u2581", add_prefix_space: true, prepend_scheme: "first", split: false },
      decoder: { type: "Sequence", decoders: [...byteFallbackDecoders, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    },
    addSpacePrefix: true,
  },
];

for (const v of VARIANTS) {
  describe(`tokenizer.json, ${v.name}`, () => {
    const tok = tokenizerFromJson(v.json, readTokenizerConfig(config));
    const reference = TokenizerLoader.fromPreTrained({ tokenizerJSON: v.json, tokenizerConfig: config } as never) as unknown as ReferenceTokenizer;

    it("is a SentencePiece-kind tokenizer with a dummy prefix", () => {
      expect(tok.kind).toBe("llama");
      expect(tok.addSpacePrefix).toBe(v.addSpacePrefix);
    });

    // Not a round trip: an added token ("\t" is one in Gemma's vocabulary) starts a new fragment that gets
    // its own "▁" (Prepend runs per fragment, as in HF), and the decoders drop the first leading space.
    it("gives the reference's ids on the corpus and decodes them as the reference's decoder does", () => {
      const mismatches = TOKENIZER_CORPUS.filter((s) => tok.encode(s).join(",") !== reference.encode(s, { add_special_tokens: false }).join(","));
      expect(mismatches).toEqual([]);
      const badDecodes = TOKENIZER_CORPUS.filter((s) => s !== "" && tok.decode(tok.encode(s)) !== reference.decode(tok.encode(s)));
      expect(badDecodes).toEqual([]);
      expect(tok.encode("Hello world", { addSpecial: true })).toEqual(reference.encode("Hello world", { add_special_tokens: true }));
    });
  });
}
