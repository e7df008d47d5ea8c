import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dequantize } from "../../src/loader/gguf/dequantize.ts";
import { permuteRowsForRope } from "../../src/loader/hf/load-folder.ts";
import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { writeSafetensorsFile } from "../../src/loader/safetensors/writer.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { tinyArchHfConfig, writeTinyArchHfFolder } from "../../src/model/random-arch-model.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";
import { expectFileErrorAsync } from "./expect-file-error.ts";

const root = tempDir("llm-hf-");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh folder with a qwen2 config (overridable) and optionally weights. */
async function folder(cfg: Record<string, unknown> = {}, weights = true): Promise<string> {
  const dir = join(root, `f${n++}`);
  if (weights) await writeTinyArchHfFolder(dir, "qwen2", 3);
  else mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...tinyArchHfConfig("qwen2"), ...cfg }));
  return dir;
}

describe("Hugging Face folder loader", () => {
  it("maps config.json to GGUF metadata and HF tensor names to GGUF names (qwen2: biases, tied output)", async () => {
    const dir = await folder();
    const ck = await loadCheckpoint(dir);
    expect(ck.format).toBe("hf");
    expect(ck.file).toBe(dir);
    expect(ck.metadata.get("general.architecture")).toBe("qwen2");
    expect(ck.metadata.get("qwen2.embedding_length")).toBe(64);
    expect(ck.metadata.get("qwen2.attention.head_count_kv")).toBe(2);
    expect(ck.metadata.get("qwen2.rope.freq_base")).toBe(1000000);
    expect(ck.metadata.get("qwen2.context_length")).toBe(256);
    expect(ck.tensors.get("blk.1.attn_q.bias")!.dims).toEqual([64]);
    expect(ck.tensors.get("blk.0.ffn_down.weight")!.dims).toEqual([128, 64]);
    expect(ck.tensors.get("token_embd.weight")!.dims).toEqual([64, 512]);
    expect(ck.tensors.has("output.weight")).toBe(false);
    expect(ck.tensors.get("blk.0.attn_k.weight")!.type).toBe(GGMLType.F32);
  });

  it("reads a sharded folder (index.json) to the same tensors as the single file; bf16 stays bf16 views", async () => {
    const one = join(root, "one"), three = join(root, "three"), bf = join(root, "bf16");
    await writeTinyArchHfFolder(one, "gemma3", 5);
    await writeTinyArchHfFolder(three, "gemma3", 5, { shards: 3 });
    await writeTinyArchHfFolder(bf, "gemma3", 5, { dtype: "BF16" });
    const a = await loadCheckpoint(one), b = await loadCheckpoint(three), c = await loadCheckpoint(bf);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [name, t] of a.tensors) expect(Buffer.from(b.tensors.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    expect(c.tensors.get("blk.0.attn_q.weight")!.type).toBe(GGMLType.BF16);
    // Gemma norms: stored as w - 1, loaded as w (f32).
    const norm = c.tensors.get("blk.0.attn_norm.weight")!;
    expect(norm.type).toBe(GGMLType.F32);
    expect(dequantize(norm).every((x) => x > 0.5 && x < 1.5)).toBe(true);
    expect(JSON.parse(readFileSync(join(three, "model.safetensors.index.json"), "utf8")).weight_map["model.norm.weight"]).toMatch(/of-00003/);
  });

  it("permutes Llama q/k rows from rotate-half to adjacent-pair order, as llama.cpp's converter", () => {
    // 2 heads of size 4, rows of 1 value: HF order per head [a0 a1 b0 b1] → GGUF [a0 b0 a1 b1].
    const rows = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    const t = { name: "q", type: GGMLType.F32, dims: [1, 8], numel: 8, data: new Uint8Array(rows.buffer) };
    expect(Array.from(new Float32Array(permuteRowsForRope(t, 2).data.buffer))).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
  });

  it("refuses folders and configs it cannot load, saying what is wrong and what is accepted", async () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    await expectFileErrorAsync(() => loadCheckpoint(empty), empty, "folder without config.json", "model.safetensors");
    const noWeights = await folder({}, false);
    await expectFileErrorAsync(() => loadCheckpoint(noWeights), noWeights, "no weights", "model.safetensors.index.json");
    const cfg = (d: string) => join(d, "config.json");
    let d = await folder({ architectures: ["BertModel"] });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "unsupported architecture 'BertModel'", "LlamaForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM");
    d = await folder({ architectures: undefined });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "missing 'architectures'");
    d = await folder({ hidden_size: "big" });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "config key 'hidden_size' must be a number");
    d = await folder({ num_hidden_layers: undefined });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "missing required config key 'num_hidden_layers'");
    d = await folder({ rope_scaling: { rope_type: "yarn", factor: 4 } });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "rope_scaling type 'yarn' is not implemented", "linear");
    d = await folder({ rope_scaling: { rope_type: "llama3", factor: 8 } });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "rope_scaling type 'llama3' is only implemented for Llama models, not Qwen2ForCausalLM");
    d = await folder({ hidden_act: "relu" });
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "hidden_act 'relu'", "silu");
    d = await folder();
    writeFileSync(cfg(d), "{ nope");
    await expectFileErrorAsync(() => loadCheckpoint(d), cfg(d), "not valid JSON");
  });

  it("refuses bad weights: non-float dtype, unknown tensor, missing shard, shard/index disagreement", async () => {
    let d = await folder({}, false);
    await writeSafetensorsFile(join(d, "model.safetensors"), [{ name: "model.norm.weight", shape: [64], dtype: "F32", values: new Float32Array(64) }]);
    // Rewrite as I64 by hand: same byte size for 32 values.
    const i64 = new TextEncoder().encode(JSON.stringify({ "model.norm.weight": { dtype: "I64", shape: [32], data_offsets: [0, 256] } }));
    const file = new Uint8Array(8 + i64.length + 256);
    new DataView(file.buffer).setBigUint64(0, BigInt(i64.length), true);
    file.set(i64, 8);
    writeFileSync(join(d, "model.safetensors"), file);
    await expectFileErrorAsync(() => loadCheckpoint(d), d, "tensor 'model.norm.weight' has dtype I64", "F32, F16, BF16");
    d = await folder({}, false);
    await writeSafetensorsFile(join(d, "model.safetensors"), [{ name: "vision_tower.patch.weight", shape: [4], dtype: "F32", values: new Float32Array(4) }]);
    await expectFileErrorAsync(() => loadCheckpoint(d), d, "unexpected tensor 'vision_tower.patch.weight'");
    const sharded = join(root, "sharded");
    await writeTinyArchHfFolder(sharded, "llama", 1, { shards: 2 });
    const second = join(sharded, "model-00002-of-00002.safetensors");
    const saved = readFileSync(second);
    rmSync(second);
    const idx = join(sharded, "model.safetensors.index.json");
    await expectFileErrorAsync(() => loadCheckpoint(sharded), idx, "shard 'model-00002-of-00002.safetensors' named in weight_map is missing");
    writeFileSync(second, saved);
    const index = JSON.parse(readFileSync(idx, "utf8"));
    index.weight_map["model.norm.weight"] = "model-00002-of-00002.safetensors";
    writeFileSync(idx, JSON.stringify(index));
    await expectFileErrorAsync(() => loadCheckpoint(sharded), join(sharded, "model-00001-of-00002.safetensors"), "holds tensor 'model.norm.weight' which model.safetensors.index.json places in 'model-00002-of-00002.safetensors'");
    index.weight_map["model.norm.weight"] = "../escape.safetensors";
    writeFileSync(idx, JSON.stringify(index));
    await expectFileErrorAsync(() => loadCheckpoint(sharded), idx, "must be a shard file name in the same folder");
    writeFileSync(idx, JSON.stringify({ metadata: {} }));
    await expectFileErrorAsync(() => loadCheckpoint(sharded), idx, "missing 'weight_map'");
  });
});
