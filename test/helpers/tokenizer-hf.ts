import type { MetadataValue } from "../../src/loader/types.ts";

/** The parts of a Hugging Face tokenizer.json this conversion reads. */
export interface HfTokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

export interface HfToGgufOptions {
  /** tokenizer.ggml.pre value ("llama-bpe", "qwen2", ...). */
  pre: string;
  /** Contents of the BOS/EOS added tokens, when the model has them. */
  bos?: string;
  eos?: string;
  addBos?: boolean;
}

/**
 * Test-only: a Hugging Face byte-level BPE tokenizer.json as GGUF tokenizer.ggml.* metadata, the
 * way llama.cpp's converter lays it out: tokens ordered by id (holes become unused "[PADn]"),
 * merges as "a b" strings, added tokens as control (type 3) when special, else user-defined (4).
 */
export function hfTokenizerToGguf(json: HfTokenizerJson, opts: HfToGgufOptions): Map<string, MetadataValue> {
  const added = new Map(json.added_tokens.map((t) => [t.id, t]));
  let size = 0;
  for (const id of Object.values(json.model.vocab)) size = Math.max(size, id + 1);
  for (const id of added.keys()) size = Math.max(size, id + 1);
  const tokens: string[] = Array.from({ length: size }, (_, i) => `[PAD${i}]`);
  const types: number[] = new Array(size).fill(5);
  for (const [text, id] of Object.entries(json.model.vocab)) {
    tokens[id] = text;
    types[id] = 1;
  }
  for (const [id, t] of added) {
    tokens[id] = t.content;
    types[id] = t.special ? 3 : 4;
  }
  const merges = json.model.merges.map((m) => (typeof m === "string" ? m : `${m[0]} ${m[1]}`));
  const md = new Map<string, MetadataValue>([
    ["tokenizer.ggml.model", "gpt2"],
    ["tokenizer.ggml.pre", opts.pre],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.merges", merges],
    ["tokenizer.ggml.add_bos_token", opts.addBos ?? false],
  ]);
  const idOf = (content: string): number => {
    const t = json.added_tokens.find((a) => a.content === content);
    if (!t) throw new Error(`no added token ${content}`);
    return t.id;
  };
  if (opts.bos) md.set("tokenizer.ggml.bos_token_id", idOf(opts.bos));
  if (opts.eos) md.set("tokenizer.ggml.eos_token_id", idOf(opts.eos));
  return md;
}
