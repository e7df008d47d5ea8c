/** Tensor element types we understand, named and numbered as in ggml (GGUF `ggml_type`). */
export enum GGMLType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
}

/** A tensor as stored in a checkpoint: raw bytes (a view into the mapped file, never a copy). */
export interface HostTensor {
  name: string;
  type: GGMLType;
  /** ggml order: dims[0] is the contiguous (row) length. A [rows, cols] matrix has dims [cols, rows]. */
  dims: number[];
  /** Number of elements. */
  numel: number;
  /** The bytes of the tensor, a view into the file buffer. */
  data: Uint8Array;
}

export type MetadataValue = string | number | bigint | boolean | MetadataValue[];

/** What every loader produces: metadata in GGUF key form, tensors by GGUF name, and where from. */
export interface ModelCheckpoint {
  file: string;
  /** "hf": a Hugging Face folder (config.json + safetensors); `file` is then the folder. */
  format: "gguf" | "llama2c" | "hf";
  /** GGUF metadata; the llama2.c loader synthesises the same keys (llama.*, tokenizer.ggml.*). */
  metadata: Map<string, MetadataValue>;
  /** Tensors by GGUF name (token_embd.weight, blk.0.attn_q.weight, ...). */
  tensors: Map<string, HostTensor>;
}

export interface LoadProgress {
  /** Bytes read or mapped so far, of total. */
  loaded: number;
  total: number;
}

export type ProgressCallback = (p: LoadProgress) => void;
