import { dequantize } from "../loader/gguf/dequantize.ts";
import type { HostTensor, ModelCheckpoint } from "../loader/types.ts";
import type { Backend, DeviceTensor, LinearMethod, QuantPlugin } from "../plugin/types.ts";
import { ModelFileError } from "../util/errors.ts";
import type { LlamaConfig } from "./config.ts";
import { EmbeddingTable } from "./embedding-table.ts";

/** One decoder layer's weights; optional parts are present when the checkpoint has them. */
export interface LayerWeights {
  attnNorm: DeviceTensor;
  wq: LinearMethod; wk: LinearMethod; wv: LinearMethod; wo: LinearMethod;
  /** Qwen2: q/k/v biases. */
  bq: DeviceTensor | null; bk: DeviceTensor | null; bv: DeviceTensor | null;
  /** Qwen3, Gemma 3: per-head RMSNorm of q and k (before RoPE). */
  qNorm: DeviceTensor | null; kNorm: DeviceTensor | null;
  /** Gemma 2/3: RMSNorm of the attention output and of the FFN output. */
  postAttnNorm: DeviceTensor | null; postFfwNorm: DeviceTensor | null;
  ffnNorm: DeviceTensor;
  gate: LinearMethod; up: LinearMethod; down: LinearMethod;
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
  const linearOf = (t: HostTensor, inF: number, outF: number): LinearMethod => {
    if (t.dims[0] !== inF || (t.dims[1] ?? 1) !== outF || t.dims.length > 2) {
      throw new ModelFileError(ck.file, `tensor '${t.name}' has shape [${t.dims.join(", ")}], expected [${inF}, ${outF}]`);
    }
    const m = quant.createLinear({ name: t.name, tensor: t, inFeatures: inF, outFeatures: outF }, backend);
    bytes += m.weightBytes;
    return m;
  };
  const linear = (name: string, inF: number, outF: number) => linearOf(tensor(ck, name), inF, outF);
  /** A fused matrix (phi3's attn_qkv, ffn_up = [gate; up]) split by output rows into views. */
  const split = (name: string, inF: number, parts: number[]): LinearMethod[] => {
    const t = tensor(ck, name);
    const total = parts.reduce((a, b) => a + b, 0);
    if (t.dims[0] !== inF || t.dims[1] !== total) throw new ModelFileError(ck.file, `tensor '${name}' has shape [${t.dims.join(", ")}], expected [${inF}, ${total}]`);
    let from = 0;
    return parts.map((n, i) => {
      const m = linearOf(rowSlice(t, from, n, `${name}#${i}`), inF, n);
      from += n;
      return m;
    });
  };
  const embedding = new EmbeddingTable(tensor(ck, "token_embd.weight"), vocabSize, dim, ck.file);
  const qDim = numHeads * headDim, kvDim = numKvHeads * headDim;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < numLayers; l++) {
    const p = `blk.${l}.`;
    const [wq, wk, wv] = ck.tensors.has(`${p}attn_qkv.weight`)
      ? split(`${p}attn_qkv.weight`, dim, [qDim, kvDim, kvDim])
      : [linear(`${p}attn_q.weight`, dim, qDim), linear(`${p}attn_k.weight`, dim, kvDim), linear(`${p}attn_v.weight`, dim, kvDim)];
    const [gate, up] = ck.tensors.has(`${p}ffn_gate.weight`)
      ? [linear(`${p}ffn_gate.weight`, dim, hiddenDim), linear(`${p}ffn_up.weight`, dim, hiddenDim)]
      : split(`${p}ffn_up.weight`, dim, [hiddenDim, hiddenDim]);
    layers.push({
      attnNorm: vec(`${p}attn_norm.weight`, dim),
      wq: wq!, wk: wk!, wv: wv!,
      wo: linear(`${p}attn_output.weight`, qDim, dim),
      bq: optVec(`${p}attn_q.bias`, qDim), bk: optVec(`${p}attn_k.bias`, kvDim), bv: optVec(`${p}attn_v.bias`, kvDim),
      qNorm: optVec(`${p}attn_q_norm.weight`, headDim), kNorm: optVec(`${p}attn_k_norm.weight`, headDim),
      postAttnNorm: optVec(`${p}post_attention_norm.weight`, dim), postFfwNorm: optVec(`${p}post_ffw_norm.weight`, dim),
      ffnNorm: vec(`${p}ffn_norm.weight`, dim),
      gate: gate!, up: up!,
      down: linear(`${p}ffn_down.weight`, hiddenDim, dim),
    });
  }
  const outputNorm = vec("output_norm.weight", dim);
  const output = linear(ck.tensors.has("output.weight") ? "output.weight" : "token_embd.weight", dim, vocabSize);
  return { embedding, layers, outputNorm, output, weightBytes: bytes };
}
