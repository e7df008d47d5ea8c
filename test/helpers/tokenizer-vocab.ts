import { readFileSync } from "node:fs";
import type { MetadataValue } from "../../src/loader/types.ts";

/**
 * Test-only reader for llama2.c tokenizer files (tokenizer.bin, tok512.bin): u32 max_token_length,
 * then per token f32 score, u32 byte length, bytes. llama2.c writes "▁" as " " and BOS/EOS as
 * "\n<s>\n" / "\n</s>\n"; this returns the GGUF tokenizer.ggml.* form of the same vocabulary
 * (the form in stories260K's GGUF files): "▁" restored, "<s>"/"</s>", token types (0 unknown,
 * 1-2 control, <0xXX> byte, others normal), BOS 1, EOS 2, UNK 0, add_bos true.
 */
export function readLlama2cTokenizer(path: string): Map<string, MetadataValue> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  let at = 4; // skip max_token_length
  while (at < buf.byteLength) {
    const score = view.getFloat32(at, true);
    const len = view.getUint32(at + 4, true);
    if (at + 8 + len > buf.byteLength) throw new Error(`${path}: token ${tokens.length} runs past the end`);
    const raw = utf8.decode(buf.subarray(at + 8, at + 8 + len));
    at += 8 + len;
    const id = tokens.length;
    const piece = raw === "\n<s>\n" ? "<s>" : raw === "\n</s>\n" ? "</s>" : raw.replaceAll(" ", "\u2581");
    tokens.push(piece);
    scores.push(score);
    types.push(id === 0 ? 2 : id === 1 || id === 2 ? 3 : /^<0x[0-9A-F]{2}>$/.test(piece) ? 6 : 1);
  }
  return new Map<string, MetadataValue>([
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.bos_token_id", 1],
    ["tokenizer.ggml.eos_token_id", 2],
    ["tokenizer.ggml.unknown_token_id", 0],
    ["tokenizer.ggml.add_bos_token", true],
  ]);
}
