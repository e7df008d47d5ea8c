import type { MetadataValue } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";

/** Hyperparameters of a Llama-family decoder, read from GGUF-style metadata. */
export interface LlamaConfig {
  architecture: string;
  dim: number;
  hiddenDim: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  contextLength: number;
  ropeTheta: number;
  ropeDim: number;
  ropeLayout: "normal" | "neox";
  rmsEps: number;
  /** One window for every layer (Mistral), or null; per-layer windows are in layerSlidingWindows. */
  slidingWindow: number | null;
  /** Position scale of RoPE (1 / linear rope_scaling factor; 1 for none). */
  ropeFreqScale: number;
  /** Per-frequency divisors of the RoPE frequencies (Llama 3.1+ rope scaling: GGUF rope_freqs.weight), or null. */
  ropeFreqFactors: number[] | null;
  /** Attention softmax scale (1/sqrt(headDim) unless the architecture says otherwise). */
  smScale: number;
  /** Per-layer sliding windows (Gemma 2/3 alternate local and global layers); null when uniform. */
  layerSlidingWindows: (number | null)[] | null;
  /** RoPE base of the sliding-window layers (Gemma 3's rope_local_base_freq); null: ropeTheta. */
  ropeThetaLocal: number | null;
  /** Multiply the embeddings by this (Gemma: sqrt(dim)); 1 for none. */
  embedScale: number;
  /** Gated MLP activation: SwiGLU (silu) or GeGLU with tanh-approximated GELU (Gemma). */
  ffnActivation: "silu" | "gelu_tanh";
  /** Attention logit soft-cap (Gemma 2) or null. */
  attnSoftCap: number | null;
  /** Final logit soft-cap (Gemma 2) or null. */
  finalSoftCap: number | null;
}

export function metaNumber(meta: Map<string, MetadataValue>, key: string, file: string, fallback?: number): number {
  const v = meta.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ModelFileError(file, `missing required metadata key '${key}'`);
  }
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new ModelFileError(file, `metadata key '${key}' must be a number, got ${JSON.stringify(String(v))}`);
  return n;
}

function positiveInt(n: number, key: string, file: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new ModelFileError(file, `metadata key '${key}' must be a positive integer, got ${n}`);
  return n;
}

/** Read the llama.* keys (or `${arch}.*` for llama-like architectures). vocabSize comes from the embedding tensor. */
export function llamaConfigFromMetadata(meta: Map<string, MetadataValue>, vocabSize: number, file: string, ropeLayout: "normal" | "neox" = "normal"): LlamaConfig {
  const arch = String(meta.get("general.architecture") ?? "llama");
  const k = (s: string) => `${arch}.${s}`;
  const int = (s: string, fb?: number) => positiveInt(metaNumber(meta, k(s), file, fb), k(s), file);
  const dim = int("embedding_length");
  const numHeads = int("attention.head_count");
  const numKvHeads = int("attention.head_count_kv", numHeads);
  if (dim % numHeads !== 0) throw new ModelFileError(file, `embedding_length ${dim} is not divisible by head_count ${numHeads}`);
  if (numHeads % numKvHeads !== 0) throw new ModelFileError(file, `head_count ${numHeads} is not a multiple of head_count_kv ${numKvHeads}`);
  const headDim = int("attention.key_length", dim / numHeads);
  const ropeDim = int("rope.dimension_count", headDim);
  if (ropeDim > headDim || ropeDim % 2 !== 0) throw new ModelFileError(file, `rope.dimension_count ${ropeDim} must be even and at most the head size ${headDim}`);
  const sw = meta.get(k("attention.sliding_window"));
  const scaling = meta.get(k("rope.scaling.type"));
  let ropeFreqScale = 1;
  if (scaling !== undefined && scaling !== "none") {
    if (scaling !== "linear") throw new ModelFileError(file, `rope scaling type '${String(scaling)}' is not implemented; supported: none, linear`);
    const factor = metaNumber(meta, k("rope.scaling.factor"), file);
    if (!(factor > 0)) throw new ModelFileError(file, `metadata key '${k("rope.scaling.factor")}' must be > 0, got ${factor}`);
    ropeFreqScale = 1 / factor;
  }
  return {
    architecture: arch,
    dim,
    hiddenDim: int("feed_forward_length"),
    numLayers: int("block_count"),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize,
    contextLength: int("context_length"),
    ropeTheta: metaNumber(meta, k("rope.freq_base"), file, 10000),
    ropeDim,
    ropeLayout,
    rmsEps: metaNumber(meta, k("attention.layer_norm_rms_epsilon"), file, 1e-5),
    slidingWindow: sw === undefined ? null : positiveInt(Number(sw), k("attention.sliding_window"), file),
    ropeFreqScale,
    ropeFreqFactors: null,
    smScale: 1 / Math.sqrt(headDim),
    layerSlidingWindows: null,
    ropeThetaLocal: null,
    embedScale: 1,
    ffnActivation: "silu",
    attnSoftCap: null,
    finalSoftCap: null,
  };
}
