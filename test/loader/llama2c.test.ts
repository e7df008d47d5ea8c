import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { dequantize } from "../../src/loader/gguf/dequantize.ts";
import { loadLlama2cTokenizer, looksLikeLlama2c, parseLlama2c } from "../../src/loader/llama2c.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { makeLlama2c, TINY } from "./llama2c-fixture.ts";

const read = (...p: string[]) => new Uint8Array(readFileSync(modelPath(...p)));

describe("llama2.c checkpoint", () => {
  const binFile = modelPath("stories260K", "stories260K.bin");
  const bin = read("stories260K", "stories260K.bin");
  const ckpt = parseLlama2c(binFile, bin);
  const ref = parseGGUF("f32.gguf", read("stories260K", "stories260K-f32.gguf"));

  it("loads stories260K.bin as 47 GGUF-named F32 tensors (tied classifier)", () => {
    expect(ckpt.format).toBe("llama2c");
    expect(ckpt.file).toBe(binFile);
    expect(looksLikeLlama2c(bin)).toBe(true);
    expect(ckpt.tensors.size).toBe(2 + 5 * 9);
    expect(ckpt.tensors.has("output.weight")).toBe(false);
    for (const t of ckpt.tensors.values()) {
      expect(t.type).toBe(GGMLType.F32);
      expect(t.data.buffer).toBe(bin.buffer);
    }
  });

  it("its tensors equal the F32 GGUF's exactly (names, dims, bytes)", () => {
    for (const t of ckpt.tensors.values()) {
      const g = ref.tensors.get(t.name);
      expect(g, t.name).toBeDefined();
      expect(t.dims, t.name).toEqual(g!.dims);
      expect(t.numel).toBe(g!.numel);
      expect(Buffer.from(t.data).equals(Buffer.from(g!.data)), t.name).toBe(true);
    }
    // tied: the GGUF's classifier is a copy of the embedding
    expect(dequantize(ref.tensors.get("output.weight")!)).toEqual(dequantize(ckpt.tensors.get("token_embd.weight")!));
  });

  it("synthesises the same hyperparameter metadata as the GGUF", () => {
    const keys = [
      "general.architecture", "llama.embedding_length", "llama.feed_forward_length", "llama.block_count",
      "llama.attention.head_count", "llama.attention.head_count_kv", "llama.context_length",
      "llama.rope.dimension_count", "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon",
    ];
    for (const k of keys) expect(ckpt.metadata.get(k), k).toEqual(ref.metadata.get(k));
    expect(ckpt.metadata.get("llama.vocab_size")).toBe(512);
  });

  it("lays out a synthetic untied checkpoint in run.c's order", () => {
    const bytes = makeLlama2c({ ...TINY, vocabSize: -10 });
    const c = parseLlama2c("tiny.bin", bytes);
    const { dim, hiddenDim: hid, nLayers: L, seqLen } = TINY;
    const kv = 4;
    const first = (name: string) => dequantize(c.tensors.get(name)!)[0];
    let k = 0;
    expect(first("token_embd.weight")).toBe(k);
    k += 10 * dim;
    const layered: [string, number[]][] = [
      ["attn_norm", [dim]], ["attn_q", [dim, dim]], ["attn_k", [dim, kv]], ["attn_v", [dim, kv]],
      ["attn_output", [dim, dim]], ["ffn_norm", [dim]], ["ffn_gate", [dim, hid]], ["ffn_down", [hid, dim]],
      ["ffn_up", [dim, hid]],
    ];
    for (const [name, dims] of layered) {
      for (let l = 0; l < L; l++) {
        const t = c.tensors.get(`blk.${l}.${name}.weight`)!;
        expect(t.dims).toEqual(dims);
        expect(first(t.name)).toBe(k);
        k += t.numel;
      }
    }
    expect(first("output_norm.weight")).toBe(k);
    k += dim + seqLen * (dim / TINY.nHeads);
    expect(c.tensors.get("output.weight")!.dims).toEqual([dim, 10]);
    expect(first("output.weight")).toBe(k);
    expect(c.metadata.get("llama.vocab_size")).toBe(10);
    expect(c.metadata.get("llama.rope.dimension_count")).toBe(2);
  });
});

describe("llama2.c tokenizer", () => {
  it("tok512.bin gives the ggml-org GGUF's tokens, scores and token types", () => {
    const tok = loadLlama2cTokenizer("tok512.bin", read("stories260K", "tok512.bin"), 512);
    const gguf = parseGGUF("org.gguf", read("stories260K", "stories260K.ggml-org.gguf")).metadata;
    expect(tok.get("tokenizer.ggml.tokens")).toEqual(gguf.get("tokenizer.ggml.tokens"));
    expect(tok.get("tokenizer.ggml.scores")).toEqual(gguf.get("tokenizer.ggml.scores"));
    expect(tok.get("tokenizer.ggml.token_type")).toEqual(gguf.get("tokenizer.ggml.token_type"));
    expect(tok.get("tokenizer.ggml.model")).toBe("llama");
    expect(tok.get("tokenizer.ggml.bos_token_id")).toBe(1);
    expect(tok.get("tokenizer.ggml.eos_token_id")).toBe(2);
    expect(tok.get("tokenizer.ggml.unknown_token_id")).toBe(0);
    expect(tok.get("tokenizer.ggml.add_bos_token")).toBe(true);
  });

  it("reads the 32000-piece Llama 2 tokenizer.bin", () => {
    const tok = loadLlama2cTokenizer("tokenizer.bin", read("llama2-tokenizer", "tokenizer.bin"), 32000);
    const tokens = tok.get("tokenizer.ggml.tokens") as string[];
    const types = tok.get("tokenizer.ggml.token_type") as number[];
    expect(tokens).toHaveLength(32000);
    expect(tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(tokens[3 + 255]).toBe("<0xFF>");
    expect(tokens.some((t) => t.includes(" "))).toBe(false);
    expect(tokens).toContain("▁the");
    const counts = new Map<number, number>();
    for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 1: 32000 - 259, 2: 1, 3: 2, 6: 256 });
  });
});
