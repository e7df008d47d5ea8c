import { GGUFValueType as T } from "../loader/gguf/parse.ts";
import { gguf, writeGGUFFile, type GGUFTensorSpec, type GGUFTypedValue } from "../loader/gguf/writer.ts";
import { GGMLType } from "../loader/types.ts";
import { Prng } from "../sampling/prng.ts";
import { UsageError } from "../util/errors.ts";

/**
 * Random-weight Llama GGUF files of a real model's shape: for benchmarks and tests that need a
 * model of a given size but not its knowledge (the text they generate is gibberish by design).
 */
export interface RandomModelShape {
  dim: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  hiddenDim: number;
  vocabSize: number;
  contextLength: number;
  ropeTheta: number;
  rmsEps: number;
  tiedEmbeddings: boolean;
}

export const RANDOM_MODEL_PRESETS: Readonly<Record<string, Readonly<RandomModelShape>>> = {
  "smollm2-135m": { dim: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, hiddenDim: 1536, vocabSize: 49152, contextLength: 2048, ropeTheta: 100000, rmsEps: 1e-5, tiedEmbeddings: true },
  "llama-1b": { dim: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, hiddenDim: 8192, vocabSize: 128256, contextLength: 131072, ropeTheta: 500000, rmsEps: 1e-5, tiedEmbeddings: false },
  tiny: { dim: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, hiddenDim: 128, vocabSize: 512, contextLength: 512, ropeTheta: 10000, rmsEps: 1e-5, tiedEmbeddings: true },
};

export const RANDOM_WEIGHT_TYPES = { f32: GGMLType.F32, f16: GGMLType.F16, q8_0: GGMLType.Q8_0 } as const;
export type RandomWeightType = keyof typeof RANDOM_WEIGHT_TYPES;
/** llama.cpp's llama_ftype for general.file_type. */
const FILE_TYPE: Record<RandomWeightType, number> = { f32: 0, f16: 1, q8_0: 7 };
/** Standard deviation of matrix weights; norms are 1. */
export const WEIGHT_STD = 0.02;
const NUM_SPECIAL = 3;
const NUM_BYTE_TOKENS = 256;

/** Shape problems, each naming what is accepted; [] when the shape can be written as `type`. */
export function randomModelShapeProblems(s: RandomModelShape, type: RandomWeightType): string[] {
  const p: string[] = [];
  for (const k of ["dim", "numLayers", "numHeads", "numKvHeads", "hiddenDim", "vocabSize", "contextLength"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) p.push(`${k} ${s[k]} must be a positive integer`);
  }
  if (s.dim % s.numHeads !== 0) p.push(`dim ${s.dim} must be a multiple of the head count ${s.numHeads}`);
  else if ((s.dim / s.numHeads) % 2 !== 0) p.push(`head size ${s.dim / s.numHeads} must be even (for RoPE)`);
  if (s.numHeads % s.numKvHeads !== 0) p.push(`head count ${s.numHeads} must be a multiple of the KV head count ${s.numKvHeads}`);
  if (type === "q8_0" && (s.dim % 32 !== 0 || s.hiddenDim % 32 !== 0)) p.push(`q8_0 needs dim and FFN size multiples of 32 (got ${s.dim}, ${s.hiddenDim})`);
  if (s.vocabSize < NUM_SPECIAL + NUM_BYTE_TOKENS + 1) p.push(`vocab ${s.vocabSize} must be at least ${NUM_SPECIAL + NUM_BYTE_TOKENS + 1} (3 special + 256 byte tokens + pieces)`);
  if (!(s.ropeTheta > 0)) p.push(`rope theta ${s.ropeTheta} must be > 0`);
  if (!(s.rmsEps > 0)) p.push(`rms eps ${s.rmsEps} must be > 0`);
  return p;
}

/** Throws UsageError listing every problem of the shape. */
export function checkRandomModelShape(s: RandomModelShape, type: RandomWeightType): void {
  const problems = randomModelShapeProblems(s, type);
  if (problems.length) throw new UsageError(`invalid model shape: ${problems.join("; ")}`);
}

const WORDS = ("the and ing ed er ly es to of in it is was he she that for on with as you his her they at be this had not " +
  "but what all were when we there can an your which their said if do will each about how up out them then many some so " +
  "these would other into has more two like him see time could no make than first been its who now people my made over did " +
  "down only way find use may water long little very after words called just where most know hello world once upon cat dog " +
  "day sun happy play tree big small friend mom dad ball run went saw").split(" ");

/**
 * A SentencePiece-style "llama" vocabulary of `size` tokens: <unk>, <s>, </s>; the 256 byte tokens
 * <0x00>..<0xFF>; then unique pieces: "▁" and printable ASCII, prefixes of "▁word" and "word" for
 * common English words, then every 2-, 3-, 4-... letter string with and without "▁", so each
 * piece's prefix is in the vocabulary. Scores fall with the id (earlier pieces merge first).
 */
export function syntheticLlamaVocab(size: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
  }
  const seen = new Set<string>();
  const add = (piece: string) => {
    if (tokens.length < size && !seen.has(piece)) {
      seen.add(piece);
      tokens.push(piece);
      types.push(1);
    }
  };
  add("▁");
  for (let c = 0x21; c < 0x7f; c++) add(String.fromCharCode(c));
  for (const w of WORDS) {
    for (let n = 1; n <= w.length; n++) add("▁" + w.slice(0, n));
    for (let n = 2; n <= w.length; n++) add(w.slice(0, n));
  }
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let level = [""];
  while (tokens.length < size) {
    const next: string[] = [];
    for (const s of level) for (const c of letters) next.push(s + c);
    for (const s of next) add("▁" + s);
    for (const s of next) add(s);
    level = next;
  }
  const scores = tokens.map((_, i) => (i < NUM_SPECIAL + NUM_BYTE_TOKENS ? 0 : -(i - NUM_SPECIAL - NUM_BYTE_TOKENS)));
  return { tokens, scores, types };
}

/** GGUF metadata for the shape: general.*, llama.* (every key the loader reads) and the tokenizer. */
export function randomModelMetadata(s: RandomModelShape, type: RandomWeightType, name: string): [string, GGUFTypedValue][] {
  const v = syntheticLlamaVocab(s.vocabSize);
  const md: [string, GGUFTypedValue][] = [
    ["general.architecture", gguf.str("llama")],
    ["general.name", gguf.str(name)],
    ["general.file_type", gguf.u32(FILE_TYPE[type])],
    ["llama.context_length", gguf.u32(s.contextLength)],
    ["llama.embedding_length", gguf.u32(s.dim)],
    ["llama.block_count", gguf.u32(s.numLayers)],
    ["llama.feed_forward_length", gguf.u32(s.hiddenDim)],
    ["llama.attention.head_count", gguf.u32(s.numHeads)],
    ["llama.attention.head_count_kv", gguf.u32(s.numKvHeads)],
    ["llama.rope.freq_base", gguf.f32(s.ropeTheta)],
    ["llama.rope.dimension_count", gguf.u32(s.dim / s.numHeads)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(s.rmsEps)],
    ["llama.vocab_size", gguf.u32(s.vocabSize)],
    ["tokenizer.ggml.model", gguf.str("llama")],
    ["tokenizer.ggml.tokens", gguf.array(T.STRING, v.tokens)],
    ["tokenizer.ggml.scores", gguf.array(T.FLOAT32, v.scores)],
    ["tokenizer.ggml.token_type", gguf.array(T.INT32, v.types)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(0)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(1)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(2)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(true)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
  ];
  if (type === "q8_0") md.push(["general.quantization_version", gguf.u32(2)]);
  return md;
}

/** FNV-1a of a string, for per-tensor seeds independent of tensor order and storage type. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Rows of N(0, std²)-ish values (Irwin–Hall of four 16-bit uniforms), produced in row order. */
function randomRows(name: string, rowLen: number, seed: number, std: number) {
  const rng = new Prng(hash32(`${seed}:${name}`));
  const k = (std * Math.sqrt(3)) / 65536;
  let nextRow = 0;
  return (rowStart: number, numRows: number): Float32Array => {
    if (rowStart !== nextRow) throw new Error(`random tensor '${name}': rows requested out of order`);
    nextRow += numRows;
    const out = new Float32Array(numRows * rowLen);
    for (let i = 0; i < out.length; i++) {
      const a = rng.nextU32(), b = rng.nextU32();
      out[i] = ((a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) - 131070) * k;
    }
    return out;
  };
}

/** Tensor specs in llama.cpp's order; matrices in `type`, norms f32 ones; data made on demand. */
export function randomModelTensors(s: RandomModelShape, type: RandomWeightType, seed: number): GGUFTensorSpec[] {
  const wt = RANDOM_WEIGHT_TYPES[type];
  const kvDim = (s.dim / s.numHeads) * s.numKvHeads;
  const mat = (name: string, inF: number, outF: number): GGUFTensorSpec => ({ name, type: wt, dims: [inF, outF], data: randomRows(name, inF, seed, WEIGHT_STD) });
  const norm = (name: string): GGUFTensorSpec => ({ name, type: GGMLType.F32, dims: [s.dim], data: new Float32Array(s.dim).fill(1) });
  const out = [mat("token_embd.weight", s.dim, s.vocabSize), norm("output_norm.weight")];
  if (!s.tiedEmbeddings) out.push(mat("output.weight", s.dim, s.vocabSize));
  for (let l = 0; l < s.numLayers; l++) {
    const p = `blk.${l}.`;
    out.push(
      norm(`${p}attn_norm.weight`),
      mat(`${p}attn_q.weight`, s.dim, s.dim), mat(`${p}attn_k.weight`, s.dim, kvDim), mat(`${p}attn_v.weight`, s.dim, kvDim),
      mat(`${p}attn_output.weight`, s.dim, s.dim),
      norm(`${p}ffn_norm.weight`),
      mat(`${p}ffn_gate.weight`, s.dim, s.hiddenDim), mat(`${p}ffn_up.weight`, s.dim, s.hiddenDim), mat(`${p}ffn_down.weight`, s.hiddenDim, s.dim),
    );
  }
  return out;
}

export function randomModelParamCount(s: RandomModelShape): number {
  const kvDim = (s.dim / s.numHeads) * s.numKvHeads;
  const layer = 2 * s.dim * s.dim + 2 * s.dim * kvDim + 3 * s.dim * s.hiddenDim + 2 * s.dim;
  return s.vocabSize * s.dim * (s.tiedEmbeddings ? 1 : 2) + s.dim + s.numLayers * layer;
}

export interface WriteRandomModelOptions {
  shape: RandomModelShape;
  type: RandomWeightType;
  seed: number;
  name?: string;
  onProgress?: (p: { written: number; total: number; tensor: string; index: number; count: number }) => void;
}

/** Writes the random model to `path`; UsageError for a shape the loader or the type cannot take. */
export async function writeRandomModel(path: string, o: WriteRandomModelOptions): Promise<{ bytes: number; params: number }> {
  checkRandomModelShape(o.shape, o.type);
  const { bytes } = await writeGGUFFile(path, {
    metadata: randomModelMetadata(o.shape, o.type, o.name ?? "random-llama"),
    tensors: randomModelTensors(o.shape, o.type, o.seed),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  return { bytes, params: randomModelParamCount(o.shape) };
}
