import { describe, expect, it } from "vitest";
import { loadHfTokenizer } from "../../src/tokenizer/hf/load-folder.ts";
import { IncrementalDetokenizer } from "../../src/tokenizer/incremental-detokenizer.ts";
import { HF_TOKENIZER_PACKAGES } from "../helpers/hf-tokenizer-packages.ts";
import { TOKENIZER_CORPUS } from "../helpers/tokenizer-corpus.ts";

// tokenizer.json + tokenizer_config.json loaded by our pipeline vs @lenml/tokenizers (transformers.js)
// on the same files: ids must be identical, decode must give the text back.
const CHAT: Record<string, string> = {
  llama3: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
  qwen3: "<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello",
  gemma3: "<bos><start_of_turn>user\nHi  there!<end_of_turn>\n<start_of_turn>model\n",
};

for (const pkg of HF_TOKENIZER_PACKAGES) {
  describe(`tokenizer.json (${pkg.name}) vs the reference`, () => {
    const { tokenizer: tok } = loadHfTokenizer(pkg.dir);
    const reference = pkg.reference();

    it(`gives the reference's ids on all ${TOKENIZER_CORPUS.length} corpus strings and decodes them back`, () => {
      expect(TOKENIZER_CORPUS.length).toBeGreaterThanOrEqual(40);
      const mismatches = TOKENIZER_CORPUS.filter((s) => tok.encode(s).join(",") !== reference.encode(s, { add_special_tokens: false }).join(","));
      expect(mismatches).toEqual([]);
      const badRoundTrips = TOKENIZER_CORPUS.filter((s) => tok.decode(tok.encode(s)) !== s);
      expect(badRoundTrips).toEqual([]);
    });

    it("matches on the whole corpus as one text, and adds BOS as the reference does", () => {
      const text = TOKENIZER_CORPUS.join("\n");
      expect(tok.encode(text)).toEqual(reference.encode(text, { add_special_tokens: false }));
      expect(tok.encode("Hello world", { addSpecial: true })).toEqual(reference.encode("Hello world", { add_special_tokens: true }));
    });

    it("splits special tokens out with parseSpecial, as the reference always does", () => {
      const chat = CHAT[pkg.name]!;
      const ids = tok.encode(chat, { parseSpecial: true });
      expect(ids).toEqual(reference.encode(chat, { add_special_tokens: false }));
      expect(tok.decode(ids, { renderSpecial: true })).toBe(chat);
    });

    it("streams the same text through the incremental detokenizer", () => {
      const text = TOKENIZER_CORPUS.slice(0, 30).join(" ");
      const detok = new IncrementalDetokenizer(tok);
      let streamed = "";
      for (const id of tok.encode(text)) streamed += detok.push(id);
      streamed += detok.flush();
      expect(streamed).toBe(text);
    });
  });
}
