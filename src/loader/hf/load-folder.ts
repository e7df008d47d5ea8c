import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelFileError } from "../../util/errors.ts";
import { dequantize } from "../gguf/dequantize.ts";
import { errnoCode } from "../read-file.ts";
import { loadSafetensorsWeights } from "../safetensors/load-shards.ts";
import type { SafetensorsTensor } from "../safetensors/parse.ts";
import { GGMLType, type HostTensor, type ModelCheckpoint, type ProgressCallback } from "../types.ts";
import { hfConfigToMetadata } from "./config-metadata.ts";
import { ggufTensorName } from "./tensor-names.ts";

const DTYPES: Readonly<Record<string, GGMLType>> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };

/** A safetensors tensor as a HostTensor (ggml dim order: reversed), still a view into the file. */
function hostTensor(file: string, name: string, t: SafetensorsTensor): HostTensor {
  const type = DTYPES[t.dtype];
  if (type === undefined) throw new ModelFileError(file, `tensor '${t.name}' has dtype ${t.dtype}; supported for weights: ${Object.keys(DTYPES).join(", ")}`);
  return { name, type, dims: [...t.shape].reverse(), numel: t.shape.reduce((a, b) => a * b, 1), data: t.data };
}

/**
 * llama.cpp's LlamaModel.permute: HF stores Llama q/k rows for rotate-half RoPE; GGUF llama files
 * interleave each head's two halves for adjacent-pair RoPE. Row h*hd + 2i + j ← row h*hd + j*hd/2 + i.
 */
export function permuteRowsForRope(t: HostTensor, numHeads: number): HostTensor {
  const rows = t.dims[1] ?? 1;
  const rowBytes = t.data.byteLength / rows;
  const hd = rows / numHeads;
  if (!Number.isInteger(hd) || hd % 2 !== 0) throw new ModelFileError(t.name, `cannot permute ${rows} rows into ${numHeads} heads of even size`);
  const out = new Uint8Array(t.data.byteLength);
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * hd + j * (hd / 2) + i) * rowBytes;
        out.set(t.data.subarray(src, src + rowBytes), (h * hd + 2 * i + j) * rowBytes);
      }
    }
  }
  return { ...t, data: out };
}

/** Gemma's RMSNorm multiplies by (1 + w); llama.cpp's converter stores w + 1 (as f32). */
function plusOne(file: string, t: HostTensor): HostTensor {
  const v = dequantize(t, file);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! + 1;
  return { ...t, type: GGMLType.F32, data: new Uint8Array(out.buffer) };
}

async function readConfig(dir: string): Promise<unknown> {
  const path = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT") {
      throw new ModelFileError(dir, "is a folder without config.json; a Hugging Face model folder holds config.json and model.safetensors (or model.safetensors.index.json and its shards)");
    }
    throw new ModelFileError(path, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Loads a Hugging Face folder (config.json + safetensors) as a ModelCheckpoint in GGUF form: the
 * metadata and tensor names llama.cpp's converter would write, with its layout changes (Llama q/k
 * permuted for adjacent-pair RoPE; Gemma norms + 1). Other tensors stay views into the files.
 */
export async function loadHfFolder(dir: string, onProgress?: ProgressCallback): Promise<ModelCheckpoint> {
  const cfgFile = join(dir, "config.json");
  const cfg = hfConfigToMetadata(cfgFile, await readConfig(dir));
  const weights = await loadSafetensorsWeights(dir, onProgress);
  const arch = cfg.architecture;
  const numHeads = Number(cfg.metadata.get(`${arch}.attention.head_count`));
  const numKvHeads = Number(cfg.metadata.get(`${arch}.attention.head_count_kv`));
  const tensors = new Map<string, HostTensor>();
  for (const [hfName, st] of weights) {
    const name = ggufTensorName(hfName, arch);
    if (name === null) continue;
    if (name === undefined) throw new ModelFileError(dir, `unexpected tensor '${hfName}' for ${cfg.hfArchitecture} (not a text decoder weight this loader knows)`);
    if (name === "output.weight" && cfg.tiedEmbeddings) continue;
    let t = hostTensor(dir, name, st);
    if (arch === "llama" && name.endsWith("attn_q.weight")) t = permuteRowsForRope(t, numHeads);
    if (arch === "llama" && name.endsWith("attn_k.weight")) t = permuteRowsForRope(t, numKvHeads);
    if ((arch === "gemma2" || arch === "gemma3") && name.endsWith("norm.weight")) t = plusOne(dir, t);
    if (tensors.has(name)) throw new ModelFileError(dir, `two tensors map to '${name}' (${hfName} and another)`);
    tensors.set(name, t);
  }
  if (cfg.ropeFreqs) {
    const f = cfg.ropeFreqs;
    tensors.set("rope_freqs.weight", { name: "rope_freqs.weight", type: GGMLType.F32, dims: [f.length], numel: f.length, data: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) });
  }
  return { file: dir, format: "hf", metadata: cfg.metadata, tensors };
}
