import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import { loadModel } from "../../src/engine/load-model.ts";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { RANDOM_MODEL_PRESETS, randomModelParamCount, syntheticLlamaVocab, writeRandomModel, type RandomWeightType } from "../../src/model/random-model.ts";
import { BUILTIN_PLUGINS } from "../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../src/plugin/registry.ts";
import { UsageError } from "../../src/util/errors.ts";
import { ggufQuantPlugin } from "../../plugins/quant/gguf/index.ts";
import { directModel } from "../helpers/direct-model.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";

const TYPES: RandomWeightType[] = ["f32", "f16", "q8_0"];
const tiny = RANDOM_MODEL_PRESETS.tiny!;

describe("synthetic llama vocabulary", () => {
  it("has specials, 256 byte tokens, then unique pieces, exactly the size asked", () => {
    for (const size of [260, 512, 49152]) {
      const v = syntheticLlamaVocab(size);
      expect(v.tokens.length).toBe(size);
      expect(new Set(v.tokens).size).toBe(size);
      expect(v.scores.length).toBe(size);
      expect(v.types.length).toBe(size);
    }
    const v = syntheticLlamaVocab(1000);
    expect(v.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(v.tokens[258]).toBe("<0xFF>");
    expect(v.types.slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect(v.types.slice(259).every((t) => t === 1)).toBe(true);
    expect(v.tokens).toContain("▁the");
    expect(v.tokens).toContain("ing");
    expect(v.scores[300]!).toBeGreaterThan(v.scores[301]!);
  });
});

describe("random-weight Llama GGUF", () => {
  const dir = tempDir("random-model-");
  const files = new Map<RandomWeightType, string>();

  it("writes tiny in f32, f16 and q8_0 with the expected tensors and metadata", async () => {
    for (const type of TYPES) {
      const path = join(dir, `tiny-${type}.gguf`);
      const res = await writeRandomModel(path, { shape: tiny, type, seed: 7 });
      expect(res.params).toBe(randomModelParamCount(tiny));
      files.set(type, path);
      const g = parseGGUF(path, new Uint8Array(readFileSync(path)));
      const want = { f32: GGMLType.F32, f16: GGMLType.F16, q8_0: GGMLType.Q8_0 }[type];
      expect(g.tensors.get("blk.1.ffn_down.weight")!.type).toBe(want);
      expect(g.tensors.get("blk.1.ffn_down.weight")!.dims).toEqual([128, 64]);
      expect(g.tensors.get("blk.0.attn_k.weight")!.dims).toEqual([64, 32]);
      expect(g.tensors.get("output_norm.weight")!.type).toBe(GGMLType.F32);
      expect(g.tensors.has("output.weight")).toBe(false);
      expect(g.metadata.get("llama.attention.head_count_kv")).toBe(2);
      expect(g.metadata.get("general.architecture")).toBe("llama");
      expect((g.metadata.get("tokenizer.ggml.tokens") as string[]).length).toBe(512);
    }
  });

  it("runs each through loadModel + LLMEngine (greedy, 8 tokens)", async () => {
    const registry = PluginRegistry.withBuiltins(BUILTIN_PLUGINS);
    for (const type of TYPES) {
      const path = files.get(type)!;
      const loaded = await loadModel({ id: `tiny-${type}`, path, sampling: {}, plugins: {} }, registry);
      const engine = new LLMEngine(loaded, { maxNumSeqs: 4 });
      engine.addRequest("r", "hello world", { temperature: 0, maxTokens: 8, ignoreEos: true });
      const ids: number[] = [];
      let finish: string | null = null;
      while (engine.hasUnfinishedRequests()) {
        for (const o of await engine.step()) {
          ids.push(...o.outputs[0]!.tokenIds);
          if (o.finished) finish = o.outputs[0]!.finishReason;
        }
      }
      expect(ids.length, type).toBe(8);
      expect(finish).toBe("length");
      expect(ids.every((i) => i >= 0 && i < 512)).toBe(true);
    }
  });

  it("f16 and q8_0 logits stay close to f32 (same seed, same weights before rounding)", async () => {
    const prompt = [1, 300, 301, 302, 400, 5];
    const base = await (await directModel(files.get("f32")!)).greedy(prompt, 1);
    const scale = Math.max(...base.logits[0]!.map(Math.abs));
    expect(scale).toBeGreaterThan(0.05); // the random model is not degenerate
    for (const [type, tol, quant] of [["f16", 0.003, undefined], ["q8_0", 0.03, undefined], ["q8_0", 0.03, ggufQuantPlugin]] as const) {
      const m = await directModel(files.get(type)!, quant ? { quant } : {});
      const { logits } = await m.greedy(prompt, 1);
      let maxDiff = 0;
      for (let i = 0; i < 512; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[0]![i]! - base.logits[0]![i]!));
      expect(maxDiff, type).toBeLessThan(tol * scale);
    }
  });

  it("is deterministic in the seed; an untied shape writes output.weight", async () => {
    const a = join(dir, "a.gguf"), b = join(dir, "b.gguf"), c = join(dir, "c.gguf");
    await writeRandomModel(a, { shape: tiny, type: "f16", seed: 7 });
    await writeRandomModel(b, { shape: tiny, type: "f16", seed: 8 });
    expect(readFileSync(a).equals(readFileSync(files.get("f16")!))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(false);
    await writeRandomModel(c, { shape: { ...tiny, tiedEmbeddings: false, vocabSize: 300 }, type: "f32", seed: 1 });
    const g = parseGGUF(c, new Uint8Array(readFileSync(c)));
    expect(g.tensors.get("output.weight")!.dims).toEqual([64, 300]);
  });

  it("refuses shapes the loader or the type cannot take", async () => {
    const p = join(dir, "bad.gguf");
    await expect(writeRandomModel(p, { shape: { ...tiny, dim: 60 }, type: "q8_0", seed: 0 })).rejects.toThrow(UsageError);
    await expect(writeRandomModel(p, { shape: { ...tiny, numKvHeads: 3 }, type: "f32", seed: 0 })).rejects.toThrow(/multiple of the KV head count 3/);
    await expect(writeRandomModel(p, { shape: { ...tiny, vocabSize: 100 }, type: "f32", seed: 0 })).rejects.toThrow(/vocab 100 must be at least 260/);
  });
});
