import type { ModelCheckpoint, HostTensor } from "../loader/types.ts";
import type { AttentionImpl, Backend, DeviceTensor, KVCache, LinearMethod, QuantPlugin, RopeTables } from "../plugin/types.ts";
import type { ModelInput } from "../runner/model-input.ts";
import { dequantize } from "../loader/gguf/dequantize.ts";
import { ModelFileError } from "../util/errors.ts";
import type { LlamaConfig } from "./config.ts";
import { buildRopeTables } from "./rope-tables.ts";

interface LayerWeights {
  attnNorm: DeviceTensor;
  wq: LinearMethod;
  wk: LinearMethod;
  wv: LinearMethod;
  wo: LinearMethod;
  ffnNorm: DeviceTensor;
  gate: LinearMethod;
  up: LinearMethod;
  down: LinearMethod;
}

/** Scratch buffers for up to `capacity` tokens in one step. */
interface Workspace {
  capacity: number;
  ids: DeviceTensor; positions: DeviceTensor; logitsRows: DeviceTensor;
  x: DeviceTensor; h: DeviceTensor; q: DeviceTensor; k: DeviceTensor; v: DeviceTensor;
  attn: DeviceTensor; o: DeviceTensor; gate: DeviceTensor; up: DeviceTensor;
  last: DeviceTensor; lastNorm: DeviceTensor; logits: DeviceTensor;
}

function tensor(ck: ModelCheckpoint, name: string): HostTensor {
  const t = ck.tensors.get(name);
  if (!t) throw new ModelFileError(ck.file, `missing required tensor '${name}'`);
  return t;
}

/**
 * The Llama decoder (Llama 1/2/3, TinyLlama, SmolLM2, stories): RMSNorm, RoPE, grouped-query
 * attention through an attention plugin, SwiGLU, tied or separate output head. Linear layers come
 * from a quant plugin; kernels from the backend. forward() only enqueues work; read the logits
 * tensor through backend.read().
 */
export class LlamaModel {
  private ws: Workspace | null = null;

  private constructor(
    readonly config: LlamaConfig,
    readonly backend: Backend,
    private readonly embedding: DeviceTensor,
    private readonly layers: LayerWeights[],
    private readonly outputNorm: DeviceTensor,
    private readonly output: LinearMethod,
    private readonly rope: RopeTables,
    readonly weightBytes: number,
  ) {}

  static load(ck: ModelCheckpoint, config: LlamaConfig, backend: Backend, quant: QuantPlugin, maxPositions: number): LlamaModel {
    const { dim, hiddenDim, numLayers, numHeads, numKvHeads, headDim, vocabSize } = config;
    const vec = (name: string, len: number) => {
      const t = tensor(ck, name);
      if (t.numel !== len) throw new ModelFileError(ck.file, `tensor '${name}' has ${t.numel} elements, expected ${len}`);
      return backend.upload(dequantize(t, ck.file), [len]);
    };
    let bytes = 0;
    const linear = (name: string, inF: number, outF: number): LinearMethod => {
      const t = tensor(ck, name);
      if (t.dims[0] !== inF || (t.dims[1] ?? 1) !== outF || t.dims.length > 2) {
        throw new ModelFileError(ck.file, `tensor '${name}' has shape [${t.dims.join(", ")}], expected [${inF}, ${outF}]`);
      }
      const m = quant.createLinear({ name, tensor: t, inFeatures: inF, outFeatures: outF }, backend);
      bytes += m.weightBytes;
      return m;
    };
    const embT = tensor(ck, "token_embd.weight");
    if (embT.dims[0] !== dim || embT.dims[1] !== vocabSize) {
      throw new ModelFileError(ck.file, `tensor 'token_embd.weight' has shape [${embT.dims.join(", ")}], expected [${dim}, ${vocabSize}]`);
    }
    const embedding = backend.upload(dequantize(embT, ck.file), [vocabSize, dim]);
    const qDim = numHeads * headDim, kvDim = numKvHeads * headDim;
    const layers: LayerWeights[] = [];
    for (let l = 0; l < numLayers; l++) {
      const p = `blk.${l}.`;
      layers.push({
        attnNorm: vec(`${p}attn_norm.weight`, dim),
        wq: linear(`${p}attn_q.weight`, dim, qDim),
        wk: linear(`${p}attn_k.weight`, dim, kvDim),
        wv: linear(`${p}attn_v.weight`, dim, kvDim),
        wo: linear(`${p}attn_output.weight`, qDim, dim),
        ffnNorm: vec(`${p}ffn_norm.weight`, dim),
        gate: linear(`${p}ffn_gate.weight`, dim, hiddenDim),
        up: linear(`${p}ffn_up.weight`, dim, hiddenDim),
        down: linear(`${p}ffn_down.weight`, hiddenDim, dim),
      });
    }
    const outputNorm = vec("output_norm.weight", dim);
    const output = linear(ck.tensors.has("output.weight") ? "output.weight" : "token_embd.weight", dim, vocabSize);
    const rope = buildRopeTables(backend, config.ropeDim, config.ropeTheta, maxPositions, config.ropeLayout);
    return new LlamaModel(config, backend, embedding, layers, outputNorm, output, rope, bytes);
  }

  private workspace(numTokens: number, numLogits: number): Workspace {
    if (this.ws && this.ws.capacity >= numTokens && this.ws.capacity >= numLogits) return this.ws;
    if (this.ws) for (const t of Object.values(this.ws)) if (typeof t === "object") this.backend.free(t);
    const cap = Math.max(numTokens, numLogits, this.ws ? this.ws.capacity * 2 : 16);
    const { dim, hiddenDim, numHeads, numKvHeads, headDim, vocabSize } = this.config;
    const b = this.backend;
    this.ws = {
      capacity: cap,
      ids: b.empty([cap], "i32"), positions: b.empty([cap], "i32"), logitsRows: b.empty([cap], "i32"),
      x: b.empty([cap, dim]), h: b.empty([cap, dim]),
      q: b.empty([cap, numHeads * headDim]), k: b.empty([cap, numKvHeads * headDim]), v: b.empty([cap, numKvHeads * headDim]),
      attn: b.empty([cap, numHeads * headDim]), o: b.empty([cap, dim]),
      gate: b.empty([cap, hiddenDim]), up: b.empty([cap, hiddenDim]),
      last: b.empty([cap, dim]), lastNorm: b.empty([cap, dim]), logits: b.empty([cap, vocabSize]),
    };
    return this.ws;
  }

  /** Enqueue one step; returns the [logitsIndices.length, vocab] logits tensor (valid until the next forward). */
  forward(input: ModelInput, attn: AttentionImpl, cache: KVCache): DeviceTensor {
    const n = input.numTokens;
    const nl = input.logitsIndices.length;
    for (let i = 0; i < n; i++) {
      if (input.positions[i]! >= this.rope.maxPositions) throw new RangeError(`position ${input.positions[i]} beyond the model's ${this.rope.maxPositions} positions`);
    }
    const ws = this.workspace(n, nl);
    const { ops } = this.backend;
    const { numHeads, numKvHeads, headDim, rmsEps } = this.config;
    this.backend.write(ws.ids, input.tokenIds);
    this.backend.write(ws.positions, input.positions);
    this.backend.write(ws.logitsRows, input.logitsIndices);
    const meta = attn.plan(input);
    ops.embedding(ws.x, this.embedding, ws.ids, n);
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l]!;
      ops.rmsNorm(ws.h, ws.x, L.attnNorm, rmsEps, n);
      L.wq.apply(ws.h, ws.q, n);
      L.wk.apply(ws.h, ws.k, n);
      L.wv.apply(ws.h, ws.v, n);
      ops.rope(ws.q, ws.positions, this.rope, numHeads, headDim, n);
      ops.rope(ws.k, ws.positions, this.rope, numKvHeads, headDim, n);
      attn.forward(l, ws.q, ws.k, ws.v, cache, meta, ws.attn);
      L.wo.apply(ws.attn, ws.o, n);
      ops.addInPlace(ws.x, ws.o, n);
      ops.rmsNorm(ws.h, ws.x, L.ffnNorm, rmsEps, n);
      L.gate.apply(ws.h, ws.gate, n);
      L.up.apply(ws.h, ws.up, n);
      ops.siluMul(ws.gate, ws.gate, ws.up, n);
      L.down.apply(ws.gate, ws.o, n);
      ops.addInPlace(ws.x, ws.o, n);
    }
    ops.gatherRows(ws.last, ws.x, ws.logitsRows, nl);
    ops.rmsNorm(ws.lastNorm, ws.last, this.outputNorm, rmsEps, nl);
    this.output.apply(ws.lastNorm, ws.logits, nl);
    return ws.logits;
  }
}
