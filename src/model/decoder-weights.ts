import { dequantize } from "../loader/gguf/dequantize.ts";
import type { HostTensor, ModelCheckpoint } from "../loader/types.ts";
import type { Backend, DeviceTensor, LinearMethod, QuantPlugin } from "../plugin/types.ts";
import { ModelFileError } from "../util/errors.ts";
import type { LlamaConfig } from "./config.ts";
import { EmbeddingTable } from "./embedding-table.ts";

/**
 * A layer's q/k/v projections: three linears, or one over their concatenated rows whose output
 * the backend splits (QKVParallelLinear; see BackendOps.splitColumns).
 */
export type QkvProjection = { merged: null; wq: LinearMethod; wk: LinearMethod; wv: LinearMethod } | { merged: LinearMethod };
/** A layer's gate/up projections: two linears, or one over [gate; up] (MergedColumnParallelLinear, then SiluAndMul). */
export type GateUpProjection = { merged: null; gate: LinearMethod; up: LinearMethod } | { merged: LinearMethod };

/** One decoder layer's weights; optional parts are present when the checkpoint has them. */
export interface LayerWeights {
  attnNorm: DeviceTensor;
  qkv: QkvProjection; wo: LinearMethod;
  /** Qwen2: q/k/v biases. */
  bq: DeviceTensor | null; bk: DeviceTensor | null; bv: DeviceTensor | null;
  /** Qwen3, Gemma 3: per-head RMSNorm of q and k (before RoPE). */
  qNorm: DeviceTensor | null; kNorm: DeviceTensor | null;
  /** Gemma 2/3: RMSNorm of the attention output and of the FFN output. */
  postAttnNorm: DeviceTensor | null; postFfwNorm: DeviceTensor | null;
  ffnNorm: DeviceTensor;
  gateUp: GateUpProjection; down: LinearMethod;
}

export interface DecoderWeights {
  /** Host-side: each step decodes its tokens' rows (embedding-table.ts). */
  embedding: EmbeddingTable;
  layers: LayerWeights[];
  outputNorm: DeviceTensor;
  output: LinearMethod;
  weightBytes: number;
}

function tensor(ck: ModelCheckpoint, name: string): HostTensor {
  const t = ck.tensors.get(name);
  if (!t) throw new ModelFileError(ck.file, `missing required tensor '${name}'`);
  return t;
}

/** Rows [from, from + count) of a 2-D tensor, as a view (rows are whole blocks in every ggml type). */
function rowSlice(t: HostTensor, from: number, count: number, name: string): HostTensor {
  const rows = t.dims[1] ?? 1;
  const rowBytes = t.data.byteLength / rows;
  return { name, type: t.type, dims: [t.dims[0]!, count], numel: t.dims[0]! * count, data: t.data.subarray(from * rowBytes, (from + count) * rowBytes) };
}

/**
 * 2-D tensors of one ggml type and row length stacked by rows into one (the rows of each are whole
 * blocks, so the bytes concatenate), or null when they differ (a Q4_K_M file's Q6_K attn_v).
 */
function stackRows(parts: readonly HostTensor[], name: string): HostTensor | null {
  const first = parts[0]!;
  if (parts.some((t) => t.type !== first.type || t.dims.length !== 2 || t.dims[0] !== first.dims[0])) return null;
  const data = new Uint8Array(parts.reduce((a, t) => a + t.data.byteLength, 0));
  let at = 0;
  for (const t of parts) {
    data.set(t.data, at);
    at += t.data.byteLength;
  }
  const rows = parts.reduce((a, t) => a + t.dims[1]!, 0);
  return { name, type: first.type, dims: [first.dims[0]!, rows], numel: first.dims[0]! * rows, data };
}

/** Whether the backend takes merged q/k/v and gate/up linears (BackendOps.splitColumns; siluAndMul or geluAndMul by the activation). */
function backendMerges(backend: Backend, config: LlamaConfig): { qkv: boolean; gateUp: boolean } {
  const ops = backend.ops;
  const act = config.ffnActivation === "gelu_tanh" ? ops.geluAndMul : ops.siluAndMul;
  return { qkv: typeof ops.splitColumns === "function", gateUp: typeof act === "function" };
}

/** Uploads the decoder's weights: matrices through the quant plugin, vectors as f32. */
export function loadDecoderWeights(ck: ModelCheckpoint, config: LlamaConfig, backend: Backend, quant: QuantPlugin): DecoderWeights {
  const { dim, hiddenDim, numLayers, numHeads, numKvHeads, headDim, vocabSize } = config;
  const vec = (name: string, len: number) => {
    const t = tensor(ck, name);
    if (t.numel !== len) throw new ModelFileError(ck.file, `tensor '${name}' has ${t.numel} elements, expected ${len}`);
    return backend.upload(dequantize(t, ck.file), [len]);
  };
  const optVec = (name: string, len: number) => (ck.tensors.has(name) ? vec(name, len) : null);
  let bytes = 0;
  const checkShape = (t: HostTensor, inF: number, outF: number) => {
    if (t.dims[0] !== inF || (t.dims[1] ?? 1) !== outF || t.dims.length > 2) {
      throw new ModelFileError(ck.file, `tensor '${t.name}' has shape [${t.dims.join(", ")}], expected [${inF}, ${outF}]`);
    }
  };
  const linearOf = (t: HostTensor, inF: number, outF: number): LinearMethod => {
    checkShape(t, inF, outF);
    const m = quant.createLinear({ name: t.name, tensor: t, inFeatures: inF, outFeatures: outF }, backend);
    bytes += m.weightBytes;
    return m;
  };
  const linear = (name: string, inF: number, outF: number) => linearOf(tensor(ck, name), inF, outF);
  /** A fused matrix (phi3's attn_qkv, ffn_up = [gate; up]) split by output rows into views. */
  const split = (name: string, inF: number, parts: readonly number[]): LinearMethod[] => {
    const t = tensor(ck, name);
    checkShape(t, inF, parts.reduce((a, b) => a + b, 0));
    let from = 0;
    return parts.map((n, i) => {
      const m = linearOf(rowSlice(t, from, n, `${name}#${i}`), inF, n);
      from += n;
      return m;
    });
  };
  /**
   * A group of projections of one input (q/k/v, gate/up), stored as one fused tensor or as one per
   * part: one linear over all their rows where the backend merges (`merge`) and the parts share a
   * ggml type, else one linear per part.
   */
  const projections = (merge: boolean, fused: string | null, names: readonly string[], parts: readonly number[], mergedName: string): { merged: LinearMethod } | { merged: null; parts: LinearMethod[] } => {
    const total = parts.reduce((a, b) => a + b, 0);
    if (merge && fused) return { merged: linear(fused, dim, total) };
    if (merge) {
      const ts = names.map((n, i) => {
        const t = tensor(ck, n);
        checkShape(t, dim, parts[i]!);
        return t;
      });
      const stacked = stackRows(ts, mergedName);
      if (stacked) return { merged: linearOf(stacked, dim, total) };
    }
    return { merged: null, parts: fused ? split(fused, dim, parts) : names.map((n, i) => linear(n, dim, parts[i]!)) };
  };
  const merges = backendMerges(backend, config);
  const embedding = new EmbeddingTable(tensor(ck, "token_embd.weight"), vocabSize, dim, ck.file);
  const qDim = numHeads * headDim, kvDim = numKvHeads * headDim;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < numLayers; l++) {
    const p = `blk.${l}.`;
    const q = projections(merges.qkv, ck.tensors.has(`${p}attn_qkv.weight`) ? `${p}attn_qkv.weight` : null,
      [`${p}attn_q.weight`, `${p}attn_k.weight`, `${p}attn_v.weight`], [qDim, kvDim, kvDim], `${p}attn_qkv.weight`);
    const qkv: QkvProjection = q.merged ? q : { merged: null, wq: q.parts[0]!, wk: q.parts[1]!, wv: q.parts[2]! };
    const g = projections(merges.gateUp, ck.tensors.has(`${p}ffn_gate.weight`) ? null : `${p}ffn_up.weight`,
      [`${p}ffn_gate.weight`, `${p}ffn_up.weight`], [hiddenDim, hiddenDim], `${p}ffn_gate_up.weight`);
    const gateUp: GateUpProjection = g.merged ? g : { merged: null, gate: g.parts[0]!, up: g.parts[1]! };
    layers.push({
      attnNorm: vec(`${p}attn_norm.weight`, dim),
      qkv,
      wo: linear(`${p}attn_output.weight`, qDim, dim),
      bq: optVec(`${p}attn_q.bias`, qDim), bk: optVec(`${p}attn_k.bias`, kvDim), bv: optVec(`${p}attn_v.bias`, kvDim),
      qNorm: optVec(`${p}attn_q_norm.weight`, headDim), kNorm: optVec(`${p}attn_k_norm.weight`, headDim),
      postAttnNorm: optVec(`${p}post_attention_norm.weight`, dim), postFfwNorm: optVec(`${p}post_ffw_norm.weight`, dim),
      ffnNorm: vec(`${p}ffn_norm.weight`, dim),
      gateUp,
      down: linear(`${p}ffn_down.weight`, hiddenDim, dim),
    });
  }
  const outputNorm = vec("output_norm.weight", dim);
  const output = linear(ck.tensors.has("output.weight") ? "output.weight" : "token_embd.weight", dim, vocabSize);
  return { embedding, layers, outputNorm, output, weightBytes: bytes };
}
