import { ModelFileError } from "../util/errors.ts";
import { ByteReader } from "./gguf/reader.ts";
import { GGMLType, type HostTensor, type MetadataValue, type ModelCheckpoint } from "./types.ts";

/** The 7-int32 header of a llama2.c (run.c) checkpoint. */
export interface Llama2cConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** |vocab_size| from the header. */
  vocabSize: number;
  seqLen: number;
  /** vocab_size > 0 in the header: the classifier reuses token_embedding (no wcls in the file). */
  sharedWeights: boolean;
}

export const LLAMA2C_HEADER_BYTES = 7 * 4;

/** Reads the header without judging it; null when the file is shorter than a header. */
export function readLlama2cHeader(bytes: Uint8Array): Llama2cConfig | null {
  if (bytes.byteLength < LLAMA2C_HEADER_BYTES) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, LLAMA2C_HEADER_BYTES);
  const h = (i: number) => v.getInt32(i * 4, true);
  const vocab = h(5);
  return {
    dim: h(0), hiddenDim: h(1), nLayers: h(2), nHeads: h(3), nKvHeads: h(4),
    vocabSize: Math.abs(vocab), seqLen: h(6), sharedWeights: vocab > 0,
  };
}

function describeConfig(c: Llama2cConfig): string {
  return `dim ${c.dim}, hidden_dim ${c.hiddenDim}, n_layers ${c.nLayers}, n_heads ${c.nHeads}, ` +
    `n_kv_heads ${c.nKvHeads}, vocab_size ${c.sharedWeights ? "" : "-"}${c.vocabSize}, seq_len ${c.seqLen}`;
}

/** Problems with the header's hyperparameters, as sentences (empty when it is usable). */
export function llama2cConfigProblems(c: Llama2cConfig): string[] {
  const problems: string[] = [];
  const positive: [string, number][] = [
    ["dim", c.dim], ["hidden_dim", c.hiddenDim], ["n_layers", c.nLayers], ["n_heads", c.nHeads],
    ["n_kv_heads", c.nKvHeads], ["vocab_size", c.vocabSize], ["seq_len", c.seqLen],
  ];
  for (const [name, value] of positive) if (!(value > 0)) problems.push(`${name} ${value} must be positive`);
  if (problems.length > 0) return problems;
  if (c.dim % c.nHeads !== 0) problems.push(`n_heads ${c.nHeads} does not divide dim ${c.dim}`);
  else if ((c.dim / c.nHeads) % 2 !== 0) problems.push(`head size ${c.dim / c.nHeads} must be even for RoPE`);
  if (c.nHeads % c.nKvHeads !== 0) problems.push(`n_kv_heads ${c.nKvHeads} does not divide n_heads ${c.nHeads}`);
  return problems;
}

/** File size (bytes) a valid header implies, with or without the separate classifier wcls. */
export function llama2cFileSize(c: Llama2cConfig, sharedWeights = c.sharedWeights): bigint {
  const [dim, hidden, L, vocab, seq] = [c.dim, c.hiddenDim, c.nLayers, c.vocabSize, c.seqLen].map(BigInt);
  const headSize = dim / BigInt(c.nHeads);
  const kvDim = headSize * BigInt(c.nKvHeads);
  const perLayer = 2n * dim + 2n * dim * dim + 2n * kvDim * dim + 3n * hidden * dim;
  const floats = vocab * dim * (sharedWeights ? 1n : 2n) + L * perLayer + dim + seq * headSize;
  return BigInt(LLAMA2C_HEADER_BYTES) + 4n * floats;
}

/**
 * Whether a file of `fileSize` bytes starting with `head` is plausibly a llama2.c checkpoint:
 * a usable header and exactly the size it implies.
 */
export function looksLikeLlama2c(head: Uint8Array, fileSize: number = head.byteLength): boolean {
  const c = readLlama2cHeader(head);
  return c !== null && llama2cConfigProblems(c).length === 0 && llama2cFileSize(c) === BigInt(fileSize);
}

/** The synthesised GGUF metadata for a llama2.c model. */
function llama2cMetadata(c: Llama2cConfig): Map<string, MetadataValue> {
  return new Map<string, MetadataValue>([
    ["general.architecture", "llama"],
    ["llama.embedding_length", c.dim],
    ["llama.feed_forward_length", c.hiddenDim],
    ["llama.block_count", c.nLayers],
    ["llama.attention.head_count", c.nHeads],
    ["llama.attention.head_count_kv", c.nKvHeads],
    ["llama.context_length", c.seqLen],
    ["llama.rope.dimension_count", c.dim / c.nHeads],
    ["llama.rope.freq_base", 10000],
    // Stored as float32 in GGUF; use the same value so both loaders agree exactly.
    ["llama.attention.layer_norm_rms_epsilon", Math.fround(1e-5)],
    ["llama.vocab_size", c.vocabSize],
  ]);
}

/**
 * Parses a llama2.c checkpoint into GGUF-named F32 tensors (views of `bytes`) and llama.* metadata.
 * The tokenizer comes from a separate file (see loadLlama2cTokenizer).
 */
export function parseLlama2c(file: string, bytes: Uint8Array): ModelCheckpoint {
  if (bytes.byteLength === 0) throw new ModelFileError(file, "empty file");
  const c = readLlama2cHeader(bytes);
  if (!c) {
    throw new ModelFileError(file, `truncated header: a llama2.c header needs ${LLAMA2C_HEADER_BYTES} bytes, file has ${bytes.byteLength}`);
  }
  const problems = llama2cConfigProblems(c);
  if (problems.length > 0) throw new ModelFileError(file, `bad llama2.c header (${describeConfig(c)}): ${problems.join("; ")}`);
  const expected = llama2cFileSize(c);
  if (expected !== BigInt(bytes.byteLength)) {
    const other = llama2cFileSize(c, !c.sharedWeights) === BigInt(bytes.byteLength)
      ? ` (it would match ${c.sharedWeights ? "an untied" : "a tied"} classifier: is vocab_size's sign wrong?)` : "";
    throw new ModelFileError(
      file,
      `llama2.c checkpoint size mismatch: header (${describeConfig(c)}) implies ${expected} bytes ` +
        `(${c.sharedWeights ? "tied" : "untied"} classifier), file has ${bytes.byteLength}${other}`,
    );
  }
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice(); // F32 views need 4-byte alignment

  const tensors = new Map<string, HostTensor>();
  let pos = LLAMA2C_HEADER_BYTES;
  const take = (name: string | null, dims: number[]): void => {
    const numel = dims.reduce((a, b) => a * b, 1);
    if (name) tensors.set(name, { name, type: GGMLType.F32, dims, numel, data: bytes.subarray(pos, pos + numel * 4) });
    pos += numel * 4;
  };
  const { dim, hiddenDim: hidden, nLayers: L, vocabSize: vocab } = c;
  const headSize = dim / c.nHeads;
  const kvDim = headSize * c.nKvHeads;
  const perLayer = (suffix: string, dims: number[]) => {
    for (let l = 0; l < L; l++) take(`blk.${l}.${suffix}`, dims);
  };
  take("token_embd.weight", [dim, vocab]);
  perLayer("attn_norm.weight", [dim]);
  perLayer("attn_q.weight", [dim, dim]);
  perLayer("attn_k.weight", [dim, kvDim]);
  perLayer("attn_v.weight", [dim, kvDim]);
  perLayer("attn_output.weight", [dim, dim]);
  perLayer("ffn_norm.weight", [dim]);
  perLayer("ffn_gate.weight", [dim, hidden]);
  perLayer("ffn_down.weight", [hidden, dim]);
  perLayer("ffn_up.weight", [dim, hidden]);
  take("output_norm.weight", [dim]);
  take(null, [(c.seqLen * headSize) / 2]); // freq_cis_real (unused)
  take(null, [(c.seqLen * headSize) / 2]); // freq_cis_imag (unused)
  if (!c.sharedWeights) take("output.weight", [dim, vocab]);
  return { file, format: "llama2c", metadata: llama2cMetadata(c), tensors };
}

const BOS_ID = 1;
const EOS_ID = 2;
const UNK_ID = 0;
/** GGUF token types (llama_token_type). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_BYTE = 6;

/** llama2.c's tokenizer export writes BOS/EOS with newlines and "▁" as ' '; restore the GGUF form. */
function ggufPiece(raw: string): string {
  if (raw === "\n<s>\n") return "<s>";
  if (raw === "\n</s>\n") return "</s>";
  return raw.replaceAll(" ", "\u2581");
}

function tokenType(id: number, piece: string): number {
  if (id === UNK_ID) return TOKEN_UNKNOWN;
  if (id === BOS_ID || id === EOS_ID) return TOKEN_CONTROL;
  if (/^<0x[0-9A-Fa-f]{2}>$/.test(piece)) return TOKEN_BYTE;
  return TOKEN_NORMAL;
}

/**
 * Reads a llama2.c tokenizer.bin (u32 max_token_length, then per token: f32 score, i32 length,
 * bytes) holding exactly `vocabSize` tokens, as GGUF tokenizer.ggml.* metadata.
 */
export function loadLlama2cTokenizer(file: string, bytes: Uint8Array, vocabSize: number): Map<string, MetadataValue> {
  const r = new ByteReader(file, bytes, "truncated tokenizer file");
  if (bytes.byteLength === 0) throw r.error("empty file");
  r.u32("max_token_length");
  if (vocabSize * 8 > r.remaining) {
    throw r.error(`tokenizer of ${bytes.byteLength} bytes cannot hold ${vocabSize} tokens (the model's vocab_size)`);
  }
  const tokens: string[] = new Array(vocabSize);
  const scores: number[] = new Array(vocabSize);
  const types: number[] = new Array(vocabSize);
  for (let i = 0; i < vocabSize; i++) {
    scores[i] = r.f32(`score of token ${i}`);
    const at = r.pos;
    const len = r.i32(`length of token ${i}`);
    if (len < 0) throw r.error(`token ${i} has a negative length ${len} at byte ${at}`);
    if (len > r.remaining) {
      throw r.error(`truncated tokenizer file: token ${i} claims ${len} bytes at byte ${at}, file has ${bytes.byteLength}`);
    }
    tokens[i] = ggufPiece(r.stringBytes(len, `token ${i}`));
    types[i] = tokenType(i, tokens[i]);
  }
  if (r.remaining > 0) {
    throw r.error(`${r.remaining} bytes left after ${vocabSize} tokens: this tokenizer has a larger vocabulary than the model's vocab_size ${vocabSize}`);
  }
  return new Map<string, MetadataValue>([
    ["tokenizer.ggml.model", "llama"],
    ["tokenizer.ggml.tokens", tokens],
    ["tokenizer.ggml.scores", scores],
    ["tokenizer.ggml.token_type", types],
    ["tokenizer.ggml.bos_token_id", BOS_ID],
    ["tokenizer.ggml.eos_token_id", EOS_ID],
    ["tokenizer.ggml.unknown_token_id", UNK_ID],
    ["tokenizer.ggml.add_bos_token", true],
  ]);
}
