import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { writeTinyArchGGUF, writeTinyArchHfFolder } from "../../src/model/random-arch-model.ts";
import { architectureOf, findArchitecture, supportedArchitectures } from "../../src/model/registry.ts";
import { TINY_ARCHS } from "../../src/model/tiny-arch-shapes.ts";
import { ModelFileError } from "../../src/util/errors.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";
import { archModel, maxAbsDiff } from "./arch-helpers.ts";

const dir = tempDir("llm-arch-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** 12 tokens: longer than the Gemma test models' 4-token window, shorter than Mistral's 64. */
const PROMPT = [1, 300, 301, 302, 400, 5, 77, 350, 360, 370, 380, 390];
/** Same weights and the same kernels on both paths: equal up to summation order (phi3's split views may take another matmul path). */
const TOL = 1e-5;

describe("architectures: a tiny random model as GGUF and as a Hugging Face folder gives the same logits", () => {
  for (const arch of TINY_ARCHS) {
    it(`${arch}: f32 GGUF vs f32 safetensors folder, full prefill and chunked (prefill + decode steps)`, async () => {
      const g = join(dir, `${arch}.gguf`), h = join(dir, `${arch}-hf`);
      await writeTinyArchGGUF(g, arch, 11);
      await writeTinyArchHfFolder(h, arch, 11, arch === "qwen3" ? { shards: 3 } : {});
      const mg = await archModel(g), mh = await archModel(h);
      // Mistral's window lives only in config.json (llama.cpp's converter drops it).
      expect(mh.config).toEqual({ ...mg.config, ...(arch === "mistral" ? { slidingWindow: 64 } : {}) });
      const [a] = await mg.logits(PROMPT);
      const [b] = await mh.logits(PROMPT);
      const scale = Math.max(...a!.map(Math.abs));
      expect(scale).toBeGreaterThan(0.3); // not a degenerate model
      expect(maxAbsDiff(a!, b!)).toBeLessThanOrEqual(TOL);
      // Chunks of 5 (prefill, then 5 + 2): the last chunk's logits equal the full prefill's.
      const chunked = await mh.logits(PROMPT, 5);
      expect(maxAbsDiff(chunked[chunked.length - 1]!, a!)).toBeLessThanOrEqual(1e-4);
    });
  }

  for (const [arch, dtype] of [["gemma2", "BF16"], ["llama", "F16"], ["phi3", "BF16"]] as const) {
    it(`${arch}: ${dtype} safetensors equal a GGUF of the same (rounded) values`, async () => {
      const g = join(dir, `${arch}-${dtype}.gguf`), h = join(dir, `${arch}-${dtype}-hf`);
      await writeTinyArchGGUF(g, arch, 12, dtype);
      await writeTinyArchHfFolder(h, arch, 12, { dtype });
      const [a] = await (await archModel(g)).logits(PROMPT);
      const [b] = await (await archModel(h)).logits(PROMPT);
      expect(maxAbsDiff(a!, b!)).toBeLessThanOrEqual(TOL);
      // And the rounding matters: the f32 model of the same seed differs a little.
      await writeTinyArchGGUF(join(dir, `${arch}-${dtype}-f32.gguf`), arch, 12);
      const [c] = await (await archModel(join(dir, `${arch}-${dtype}-f32.gguf`))).logits(PROMPT);
      const d = maxAbsDiff(a!, c!);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(0.05);
    });
  }

  it("configs carry each architecture's features", async () => {
    const cfg = async (arch: (typeof TINY_ARCHS)[number]) => (await archModel(join(dir, `${arch}-hf`))).config;
    const g2 = await cfg("gemma2");
    expect(g2.layerSlidingWindows).toEqual([4, null]);
    expect(g2.attnSoftCap).toBe(1);
    expect(g2.finalSoftCap).toBe(5);
    expect(g2.embedScale).toBe(8);
    expect(g2.ffnActivation).toBe("gelu_tanh");
    expect(g2.smScale).toBeCloseTo(1 / Math.sqrt(32), 12);
    const g3 = await cfg("gemma3");
    expect(g3.layerSlidingWindows).toEqual([4, 4, 4, 4, 4, null]);
    expect(g3.ropeThetaLocal).toBe(10000);
    expect(g3.ropeTheta).toBe(1000000);
    expect(g3.attnSoftCap).toBeNull();
    expect((await cfg("qwen3")).headDim).toBe(32);
    expect((await cfg("qwen2")).ropeLayout).toBe("neox");
    expect((await cfg("llama")).ropeLayout).toBe("normal");
    expect((await cfg("mistral")).slidingWindow).toBe(64);
    // Llama 3 rope scaling: high frequencies kept, one blended, low ones divided by 8.
    const f = (await cfg("llama3")).ropeFreqFactors!;
    expect(f).toHaveLength(8);
    expect(f[0]).toBe(1);
    expect(f[1]).toBeGreaterThan(1);
    expect(f[1]).toBeLessThan(8);
    expect(f.slice(2)).toEqual([8, 8, 8, 8, 8, 8]);
    expect((await cfg("llama")).ropeFreqFactors).toBeNull();
  });
});

describe("architecture registry", () => {
  it("is keyed by GGUF general.architecture and config.json class names", () => {
    expect(supportedArchitectures()).toEqual(["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"]);
    expect(findArchitecture("MistralForCausalLM")?.name).toBe("llama");
    expect(findArchitecture("Gemma3ForCausalLM")?.name).toBe("gemma3");
    expect(findArchitecture("qwen2")?.hfArchitectures).toEqual(["Qwen2ForCausalLM"]);
    expect(findArchitecture("falcon")).toBeUndefined();
  });

  it("refuses an unknown GGUF architecture listing the supported ones, and unimplemented rope scaling", async () => {
    const ck = await loadCheckpoint(join(dir, "llama.gguf"));
    ck.metadata.set("general.architecture", "falcon");
    expect(() => architectureOf(ck)).toThrow(ModelFileError);
    expect(() => architectureOf(ck)).toThrow(/unsupported architecture 'falcon'; supported: llama, qwen2, qwen3, gemma2, gemma3, phi3/);
    ck.metadata.set("general.architecture", "llama");
    ck.metadata.set("llama.rope.scaling.type", "yarn");
    expect(() => architectureOf(ck).config(ck, 512)).toThrow(/rope scaling type 'yarn' is not implemented; supported: none, linear/);
    const phi = await loadCheckpoint(join(dir, "phi3.gguf"));
    phi.tensors.set("rope_factors_long.weight", phi.tensors.get("output_norm.weight")!);
    expect(() => architectureOf(phi).config(phi, 512)).toThrow(/LongRoPE scaling \('rope_factors_long.weight'\) is not implemented/);
  });

  it("linear rope scaling from config.json reaches the config", async () => {
    const h = join(dir, "llama-hf");
    const cfgPath = join(h, "config.json");
    const { readFileSync } = await import("node:fs");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, rope_scaling: { rope_type: "linear", factor: 4 } }));
    expect((await archModel(h)).config.ropeFreqScale).toBe(0.25);
    writeFileSync(cfgPath, JSON.stringify(cfg));
  });
});
