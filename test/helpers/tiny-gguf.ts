import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { f32Bytes, gv, writeGGUF, type GGUFTypedValue, type GGUFWriterTensor } from "./gguf-writer.ts";

/** A temp folder for files a test writes (malformed models and registries). */
export function tempDir(prefix = "llm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeTemp(dir: string, name: string, data: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** Metadata of a tiny llama (dim 8, 1 layer, 2 heads, vocab 4 with a 'llama' tokenizer). */
export function tinyLlamaMetadata(omit: string[] = []): [string, GGUFTypedValue][] {
  const md: [string, GGUFTypedValue][] = [
    ["general.architecture", gv.str("llama")],
    ["llama.embedding_length", gv.u32(8)],
    ["llama.feed_forward_length", gv.u32(16)],
    ["llama.block_count", gv.u32(1)],
    ["llama.attention.head_count", gv.u32(2)],
    ["llama.attention.head_count_kv", gv.u32(2)],
    ["llama.context_length", gv.u32(32)],
    ["tokenizer.ggml.model", gv.str("llama")],
    ["tokenizer.ggml.tokens", gv.arr("str", ["<unk>", "<s>", "</s>", "▁a"])],
    ["tokenizer.ggml.scores", gv.arr("f32", [0, 0, 0, -1])],
    ["tokenizer.ggml.token_type", gv.arr("i32", [2, 3, 3, 1])],
    ["tokenizer.ggml.bos_token_id", gv.u32(1)],
    ["tokenizer.ggml.eos_token_id", gv.u32(2)],
  ];
  return md.filter(([k]) => !omit.includes(k));
}

/** The tensors of that tiny llama, f32, with small deterministic values. */
export function tinyLlamaTensors(): GGUFWriterTensor[] {
  const t = (name: string, dims: number[]): GGUFWriterTensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    return { name, type: 0, dims, data: f32Bytes(Array.from({ length: n }, (_, i) => Math.sin(i + name.length) * 0.1)) };
  };
  return [
    t("token_embd.weight", [8, 4]),
    t("blk.0.attn_norm.weight", [8]),
    t("blk.0.attn_q.weight", [8, 8]),
    t("blk.0.attn_k.weight", [8, 8]),
    t("blk.0.attn_v.weight", [8, 8]),
    t("blk.0.attn_output.weight", [8, 8]),
    t("blk.0.ffn_norm.weight", [8]),
    t("blk.0.ffn_gate.weight", [8, 16]),
    t("blk.0.ffn_up.weight", [8, 16]),
    t("blk.0.ffn_down.weight", [16, 8]),
    t("output_norm.weight", [8]),
  ];
}

export function tinyLlamaGGUF(opts: { omit?: string[]; tensors?: GGUFWriterTensor[] } = {}): Uint8Array {
  return writeGGUF({ metadata: tinyLlamaMetadata(opts.omit), tensors: opts.tensors ?? tinyLlamaTensors() });
}
