import { dequantize } from "../loader/gguf/dequantize.ts";
import type { ModelCheckpoint } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";
import { llamaConfigFromMetadata, metaNumber, type LlamaConfig } from "./config.ts";

/**
 * Per-architecture hyperparameters on top of the Llama ones, read from the GGUF keys llama.cpp
 * uses (src/llama-model.cpp load_hparams) with its defaults where a key is optional.
 */
type ConfigFn = (ck: ModelCheckpoint, vocabSize: number) => LlamaConfig;

/** Llama 3.1+ rope scaling as llama.cpp stores it: a rope_freqs.weight tensor of rotDim/2 divisors. */
function ropeFreqFactors(ck: ModelCheckpoint, ropeDim: number): number[] | null {
  const t = ck.tensors.get("rope_freqs.weight");
  if (!t) return null;
  if (t.numel !== ropeDim / 2) throw new ModelFileError(ck.file, `tensor 'rope_freqs.weight' has ${t.numel} elements, expected ${ropeDim / 2} (half the RoPE dimensions)`);
  const f = Array.from(dequantize(t, ck.file));
  if (!f.every((x) => x > 0 && Number.isFinite(x))) throw new ModelFileError(ck.file, "tensor 'rope_freqs.weight' must hold finite values > 0");
  return f;
}

/** GGUF llama files store q/k permuted for adjacent-pair ("normal") RoPE; the rest use NeoX RoPE. */
export const llamaConfig: ConfigFn = (ck, vocab) => {
  const c = llamaConfigFromMetadata(ck.metadata, vocab, ck.file, "normal");
  return { ...c, ropeFreqFactors: ropeFreqFactors(ck, c.ropeDim) };
};
export const neoxConfig: ConfigFn = (ck, vocab) => llamaConfigFromMetadata(ck.metadata, vocab, ck.file, "neox");

/** llama.cpp's set_swa_pattern(n): layer l is local when l % n < n - 1 (n = 2: even layers; 6: five of six). */
export function swaPattern(numLayers: number, window: number, pattern: number): (number | null)[] {
  return Array.from({ length: numLayers }, (_, l) => (l % pattern < pattern - 1 ? window : null));
}

/** Gemma's attention scale: query_pre_attn_scalar^-0.5 when given, else llama.cpp's rule (27B: dim/heads, others headDim). */
function gemmaSmScale(ck: ModelCheckpoint, arch: string, c: LlamaConfig): number {
  const q = ck.metadata.get(`${arch}.attention.query_pre_attn_scalar`);
  if (q !== undefined) return 1 / Math.sqrt(metaNumber(ck.metadata, `${arch}.attention.query_pre_attn_scalar`, ck.file));
  return 1 / Math.sqrt(c.numLayers === 46 && arch === "gemma2" ? c.dim / c.numHeads : c.headDim);
}

function positive(ck: ModelCheckpoint, key: string, fallback: number): number {
  const v = metaNumber(ck.metadata, key, ck.file, fallback);
  if (!(v > 0)) throw new ModelFileError(ck.file, `metadata key '${key}' must be > 0, got ${v}`);
  return v;
}

export const gemma2Config: ConfigFn = (ck, vocab) => {
  const c = neoxConfig(ck, vocab);
  const window = positive(ck, "gemma2.attention.sliding_window", 4096);
  return {
    ...c,
    slidingWindow: null,
    layerSlidingWindows: swaPattern(c.numLayers, window, 2),
    smScale: gemmaSmScale(ck, "gemma2", c),
    embedScale: Math.sqrt(c.dim),
    ffnActivation: "gelu_tanh",
    attnSoftCap: positive(ck, "gemma2.attn_logit_softcapping", 50),
    finalSoftCap: positive(ck, "gemma2.final_logit_softcapping", 30),
  };
};

export const gemma3Config: ConfigFn = (ck, vocab) => {
  const c = neoxConfig(ck, vocab);
  const window = positive(ck, "gemma3.attention.sliding_window", 4096);
  const pattern = positive(ck, "gemma3.attention.sliding_window_pattern", 6);
  const softCap = (key: string) => (ck.metadata.has(key) ? positive(ck, key, 1) : null);
  return {
    ...c,
    slidingWindow: null,
    layerSlidingWindows: swaPattern(c.numLayers, window, pattern),
    ropeThetaLocal: positive(ck, "gemma3.rope.freq_base_swa", 10000),
    smScale: gemmaSmScale(ck, "gemma3", c),
    embedScale: Math.sqrt(c.dim),
    ffnActivation: "gelu_tanh",
    attnSoftCap: softCap("gemma3.attn_logit_softcapping"),
    finalSoftCap: softCap("gemma3.final_logit_softcapping"),
  };
};

/** Phi-3: NeoX RoPE; LongRoPE (128k variants: rope_factors_long/short tensors) is refused, not ignored. */
export const phi3Config: ConfigFn = (ck, vocab) => {
  const long = [...ck.tensors.keys()].find((n) => n.startsWith("rope_factors_"));
  if (long) throw new ModelFileError(ck.file, `Phi-3 LongRoPE scaling ('${long}') is not implemented; supported: Phi-3 models without rope scaling (4k context)`);
  return neoxConfig(ck, vocab);
};
