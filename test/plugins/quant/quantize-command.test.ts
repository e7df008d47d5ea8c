import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpoint } from "../../../src/loader/load-checkpoint.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { planQuantization, quantizeCheckpoint, type QuantizeTarget } from "../../../src/quant/gguf-quantize.ts";
import { writeRandomModel } from "../../../src/model/random-model.ts";
import { loadWithQuant, randomSequences, sequenceLogits } from "../../../src/quant/quality-suite.ts";
import { compareLogits, mergeComparisons } from "../../../src/quant/quality.ts";
import { modelPath } from "../../helpers/models-dir.ts";
import { runCli } from "../../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-quantize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const STORIES = () => modelPath("stories260K", "stories260K-f32.gguf");
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x));

async function klVsF32(f32Path: string, qPath: string, vocab: number): Promise<{ meanKl: number; top1: number }> {
  const seqs = randomSequences(2, 24, vocab, 5);
  const ref = await sequenceLogits(await loadWithQuant(f32Path, "none"), seqs);
  const got = await sequenceLogits(await loadWithQuant(qPath, "auto"), seqs);
  return mergeComparisons(got.map((g, i) => compareLogits(ref[i]!, g)));
}

describe("llm quantize (GGUF writer for q8_0, q4_0, q4_k, q6_k, f16)", () => {
  it("q8_0 of stories260K reproduces the shared q8_0 file's tensors byte for byte, and its metadata", async () => {
    const out = join(dir, "s-q8_0.gguf");
    await quantizeCheckpoint(await loadCheckpoint(STORIES()), "q8_0", out);
    const ref = await loadCheckpoint(modelPath("stories260K", "stories260K-q8_0.gguf"));
    const got = await loadCheckpoint(out);
    expect([...got.tensors.keys()].sort()).toEqual([...ref.tensors.keys()].sort());
    for (const [name, t] of ref.tensors) {
      const u = got.tensors.get(name)!;
      expect(GGMLType[u.type], name).toBe(GGMLType[t.type]);
      expect(Buffer.compare(Buffer.from(u.data), Buffer.from(t.data)), name).toBe(0);
    }
    for (const [k, v] of ref.metadata) if (k !== "general.alignment") expect(json(got.metadata.get(k)), k).toBe(json(v));
  }, 120_000);

  it("plans every exception with its reason (stories260K: rows of 64 and 172)", async () => {
    const ck = await loadCheckpoint(STORIES());
    const byName = (t: QuantizeTarget) => new Map(planQuantization(ck, t).map((p) => [p.name, p]));
    const q40 = byName("q4_0");
    expect(GGMLType[q40.get("blk.0.attn_q.weight")!.to]).toBe("Q4_0");
    expect(q40.get("blk.0.ffn_down.weight")).toMatchObject({ to: GGMLType.F32, reason: "row length 172 is not a multiple of 32; kept F32" });
    expect(q40.get("output.weight")).toMatchObject({ to: GGMLType.Q8_0 });
    expect(q40.get("output.weight")!.reason).toMatch(/output head at Q8_0/);
    expect(q40.get("blk.0.attn_norm.weight")).toMatchObject({ to: GGMLType.F32 });
    const q4k = byName("q4_k");
    expect(q4k.get("blk.0.ffn_up.weight")).toMatchObject({ to: GGMLType.Q4_0, reason: "row length 64 is not a multiple of 256; Q4_K → Q4_0" });
    expect(byName("q6_k").get("blk.0.attn_k.weight")).toMatchObject({ to: GGMLType.Q8_0 });
    expect(GGMLType[byName("f16").get("blk.0.ffn_down.weight")!.to]).toBe("F16");
  }, 120_000);

  it("every target of stories260K loads back (quant auto) and runs close to f32", async () => {
    const limits: Record<QuantizeTarget, number> = { f16: 1e-5, q8_0: 3e-3, q6_k: 3e-3, q4_0: 0.25, q4_k: 0.25 };
    for (const t of Object.keys(limits) as QuantizeTarget[]) {
      const out = join(dir, `s-${t}.gguf`);
      await quantizeCheckpoint(await loadCheckpoint(STORIES()), t, out);
      const { meanKl } = await klVsF32(STORIES(), out, 512);
      expect(meanKl, t).toBeLessThan(limits[t]);
    }
  }, 120_000);

  it("a model with rows of 256 gets real Q4_K and Q6_K tensors, which load and run in place", async () => {
    const f32Path = join(dir, "r256-f32.gguf");
    const shape = { dim: 256, numLayers: 2, numHeads: 4, numKvHeads: 2, hiddenDim: 512, vocabSize: 512, contextLength: 128, ropeTheta: 10000, rmsEps: 1e-5, tiedEmbeddings: true };
    await writeRandomModel(f32Path, { shape, type: "f32", seed: 3 });
    for (const [t, kind, maxKl] of [["q4_k", GGMLType.Q4_K, 5e-3], ["q6_k", GGMLType.Q6_K, 5e-4]] as const) {
      const out = join(dir, `r256-${t}.gguf`);
      const { plan } = await quantizeCheckpoint(await loadCheckpoint(f32Path), t, out);
      expect(plan.filter((p) => p.dims.length === 2 && p.to !== kind).map((p) => `${p.name}:${GGMLType[p.to]}`)).toEqual(t === "q4_k" ? ["token_embd.weight:Q6_K"] : []);
      const back = await loadCheckpoint(out);
      expect(GGMLType[back.tensors.get("blk.1.ffn_down.weight")!.type]).toBe(GGMLType[kind]);
      const { meanKl } = await klVsF32(f32Path, out, 512);
      expect(meanKl, t).toBeLessThan(maxKl);
    }
  }, 120_000);

  it("reads llama2.c checkpoints too (metadata typed by key)", async () => {
    const ck = await loadCheckpoint(modelPath("stories260K", "stories260K.bin"), { tokenizerPath: modelPath("stories260K", "tok512.bin") });
    const out = join(dir, "l2c-q8_0.gguf");
    await quantizeCheckpoint(ck, "q8_0", out);
    const back = await loadCheckpoint(out);
    expect(back.metadata.get("llama.rope.freq_base")).toBe(10000);
    expect(back.metadata.get("tokenizer.ggml.tokens")).toEqual(ck.metadata.get("tokenizer.ggml.tokens"));
    const { meanKl } = await klVsF32(STORIES(), out, 512);
    expect(meanKl).toBeLessThan(2e-3); // Q8_0 weights × Q8_0-quantized activations (1.4e-3 measured), as int8-dynamic
  }, 120_000);

  it("CLI: writes the file and a JSON summary; an unknown type is a usage error listing the accepted ones", async () => {
    const out = join(dir, "cli-q4_0.gguf");
    const ok = await runCli(["quantize", "stories260k", "--to", "q4_0", "-o", out, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const j = JSON.parse(ok.stdout.trim().split("\n").pop()!);
    expect(j).toMatchObject({ path: out, type: "q4_0", tensor_types: { Q4_0: 31, Q8_0: 1, F32: 16 } });
    expect(ok.stderr).toMatch(/blk\.0\.ffn_down\.weight: row length 172 is not a multiple of 32; kept F32/);
    const run = await runCli(["run", out, "Once upon a time", "-n", "8", "--temperature", "0", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const bad = await runCli(["quantize", "stories260k", "--to", "q5_k", "-o", join(dir, "x.gguf")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown quantization type "q5_k"; accepted: f16, q8_0, q4_0, q4_k, q6_k/);
  }, 120_000);
});
