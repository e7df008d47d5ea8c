import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { tensorByteSize } from "../../src/loader/gguf/ggml-types.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { modelPath } from "../helpers/models-dir.ts";

function load(name: string) {
  const file = modelPath("stories260K", name);
  const bytes = new Uint8Array(readFileSync(file));
  return { file, bytes, gguf: parseGGUF(file, bytes) };
}

/** Tensor-type census per file, as the models README describes them. */
const FILES: [string, number, Record<number, number>, GGMLType][] = [
  ["stories260K.ggml-org.gguf", 2048, { [GGMLType.F32]: 48 }, GGMLType.F32],
  ["stories260K-f32.gguf", 512, { [GGMLType.F32]: 48 }, GGMLType.F32],
  ["stories260K-f16.gguf", 512, { [GGMLType.F16]: 37, [GGMLType.F32]: 11 }, GGMLType.F16],
  // ffn_down's row length 172 is not a multiple of 32, so it stays F32
  ["stories260K-q8_0.gguf", 512, { [GGMLType.Q8_0]: 32, [GGMLType.F32]: 16 }, GGMLType.F32],
];

describe("parseGGUF on the stories260K files", () => {
  for (const [name, ctx, census, ffnDownType] of FILES) {
    it(name, () => {
      const { file, bytes, gguf } = load(name);
      expect(gguf.file).toBe(file);
      expect(gguf.format).toBe("gguf");
      expect(gguf.version).toBe(3);
      expect(gguf.alignment).toBe(32);
      expect(gguf.tensorDataOffset % 32).toBe(0);
      const m = gguf.metadata;
      expect(m.get("general.architecture")).toBe("llama");
      expect(m.get("llama.block_count")).toBe(5);
      expect(m.get("llama.embedding_length")).toBe(64);
      expect(m.get("llama.feed_forward_length")).toBe(172);
      expect(m.get("llama.attention.head_count")).toBe(8);
      expect(m.get("llama.attention.head_count_kv")).toBe(4);
      expect(m.get("llama.context_length")).toBe(ctx);
      expect(m.get("llama.attention.layer_norm_rms_epsilon")).toBe(Math.fround(1e-5));
      expect(m.get("tokenizer.ggml.model")).toBe("llama");
      const tokens = m.get("tokenizer.ggml.tokens") as string[];
      expect(tokens).toHaveLength(512);
      expect(tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
      expect((m.get("tokenizer.ggml.scores") as number[]).length).toBe(512);
      expect(m.get("tokenizer.ggml.bos_token_id")).toBe(1);

      expect(gguf.tensors.size).toBe(48);
      const counts: Record<number, number> = {};
      for (const t of gguf.tensors.values()) counts[t.type] = (counts[t.type] ?? 0) + 1;
      expect(counts).toEqual(census);
      const emb = gguf.tensors.get("token_embd.weight")!;
      expect(emb.dims).toEqual([64, 512]);
      expect(emb.numel).toBe(64 * 512);
      expect(gguf.tensors.get("blk.4.attn_k.weight")!.dims).toEqual([64, 32]);
      expect(gguf.tensors.get("blk.0.ffn_down.weight")!.dims).toEqual([172, 64]);
      expect(gguf.tensors.get("blk.0.ffn_down.weight")!.type).toBe(ffnDownType);
      expect(gguf.tensors.get("blk.0.attn_norm.weight")!.type).toBe(GGMLType.F32);
      for (const t of gguf.tensors.values()) {
        // views into the file buffer, of exactly the size the type and shape imply
        expect(t.data.buffer).toBe(bytes.buffer);
        expect(t.data.byteLength).toBe(tensorByteSize(t.type, t.dims));
        expect(t.data.byteOffset).toBeGreaterThanOrEqual(gguf.tensorDataOffset);
      }
    });
  }

  it("ggml-org file: the u32 -1 token ids and the missing rope.freq_base", () => {
    const m = load("stories260K.ggml-org.gguf").gguf.metadata;
    expect(m.get("tokenizer.ggml.padding_token_id")).toBe(4294967295);
    expect(m.has("llama.rope.freq_base")).toBe(false);
  });

  it("the F32 file's vocabulary equals the ggml-org file's", () => {
    const a = load("stories260K.ggml-org.gguf").gguf.metadata;
    const b = load("stories260K-f32.gguf").gguf.metadata;
    for (const k of ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"]) {
      expect(b.get(k)).toEqual(a.get(k));
    }
    expect(b.get("llama.rope.freq_base")).toBe(10000);
    expect(b.get("tokenizer.ggml.add_bos_token")).toBe(true);
  });
});
