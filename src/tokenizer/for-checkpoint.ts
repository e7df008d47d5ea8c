import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ModelCheckpoint } from "../loader/types.ts";
import { createTokenizer } from "./from-metadata.ts";
import { loadHfTokenizer } from "./hf/load-folder.ts";
import type { Tokenizer } from "./types.ts";

/**
 * The tokenizer of a loaded checkpoint: for a Hugging Face folder (format "hf") its tokenizer.json
 * and tokenizer_config.json, whose chat template is also put into the metadata as GGUF's
 * `tokenizer.chat_template` (unless already there) so every consumer finds it in one place;
 * otherwise the tokenizer.ggml.* metadata (GGUF, llama2.c).
 */
export function tokenizerForCheckpoint(checkpoint: ModelCheckpoint, file: string): Tokenizer {
  const hasJson = checkpoint.format === "hf" && existsSync(join(checkpoint.file, "tokenizer.json"));
  // A folder without tokenizer.json still works when its loader supplied tokenizer.ggml.* metadata.
  if (!hasJson && (checkpoint.format !== "hf" || checkpoint.metadata.has("tokenizer.ggml.model"))) {
    return createTokenizer(checkpoint.metadata, file);
  }
  // Pad to the embedding's rows (Qwen: 151936 rows for 151669 tokens) so every id the model can
  // sample decodes (padding ids to nothing), as llama.cpp's converter pads the vocabulary.
  const rows = checkpoint.tensors.get("token_embd.weight")?.dims[1];
  const hf = loadHfTokenizer(checkpoint.file, rows !== undefined ? { padTo: rows } : {});
  if (hf.chatTemplate !== undefined && !checkpoint.metadata.has("tokenizer.chat_template")) {
    checkpoint.metadata.set("tokenizer.chat_template", hf.chatTemplate);
  }
  return hf.tokenizer;
}
