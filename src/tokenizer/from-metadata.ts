import type { MetadataValue } from "../loader/types.ts";
import { BpeTokenizer } from "./bpe.ts";
import { MetadataReader } from "./metadata.ts";
import { findPreTokenizer, SUPPORTED_PRE_TOKENIZERS } from "./pre-tokenizers.ts";
import { SpmTokenizer } from "./spm.ts";
import type { Tokenizer } from "./types.ts";
import { readVocab } from "./vocab.ts";

export const SUPPORTED_TOKENIZER_MODELS: readonly string[] = ["llama", "gpt2"];

/**
 * Builds the tokenizer that GGUF-style metadata (tokenizer.ggml.*) describes: "llama" →
 * SentencePiece-style BPE, "gpt2" → byte-level BPE with the pre-tokenizer named by
 * tokenizer.ggml.pre (missing: "default", GPT-2's pattern). Keys a file may omit get llama.cpp's
 * defaults: for "llama" BOS 1, EOS 2, <unk> 0, add_bos true, add_space_prefix true; for "gpt2" no
 * special ids, add_bos true only for the Llama 3 pre-tokenizer. Problems throw ModelFileError(file).
 */
export function createTokenizer(
  metadata: ReadonlyMap<string, MetadataValue>,
  file = "tokenizer metadata",
): Tokenizer {
  const md = new MetadataReader(metadata, file);
  const model = md.string("tokenizer.ggml.model", true);
  switch (model) {
    case "llama": {
      const vocab = readVocab(md, { bosId: 1, eosId: 2, unkId: 0, addBos: true, addSpacePrefix: true });
      return new SpmTokenizer(vocab);
    }
    case "gpt2": {
      const preName = md.string("tokenizer.ggml.pre") ?? "default";
      const pre = findPreTokenizer(preName);
      if (!pre) {
        throw md.fail(
          `unknown pre-tokenizer "${preName}" (tokenizer.ggml.pre); available: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`,
        );
      }
      const vocab = readVocab(md, {
        bosId: null,
        eosId: null,
        unkId: null,
        addBos: pre.addBosDefault,
        addSpacePrefix: false,
      });
      const merges = md.strings("tokenizer.ggml.merges", true);
      return new BpeTokenizer(vocab, merges, pre, { file });
    }
    default:
      throw md.fail(
        `unsupported tokenizer model "${model}" (tokenizer.ggml.model); supported: ${SUPPORTED_TOKENIZER_MODELS.join(", ")}`,
      );
  }
}
