import type { ModelCheckpoint } from "../loader/types.ts";
import type { AttentionImpl, Backend, BackendOps, DeviceTensor, KVCache, LinearMethod, QuantPlugin, RopeTables } from "../plugin/types.ts";
import type { ModelInput } from "../runner/model-input.ts";
import { ModelFileError } from "../util/errors.ts";
import type { LlamaConfig } from "./config.ts";
import { loadDecoderWeights, type LayerWeights } from "./decoder-weights.ts";
import type { EmbeddingTable } from "./embedding-table.ts";
import { buildRopeTables } from "./rope-tables.ts";

/** Scratch buffers for up to `capacity` tokens in one step. */
interface Workspace {
  capacity: number;
  positions: DeviceTensor;
  x: DeviceTensor; h: DeviceTensor; q: DeviceTensor; k: DeviceTensor; v: DeviceTensor;
  attn: DeviceTensor; o: DeviceTensor; gate: DeviceTensor;
  /** The separate up projection's output, or the merged projections' (rows of q|k|v, of gate|up): each only where a layer needs it. */
  up: DeviceTensor | null; qkv: DeviceTensor | null; gateUp: DeviceTensor | null;
}

/**
 * Buffers of the rows that reach the output head, for up to `capacity` of them: sized apart from
 * the token buffers, as a long prefill chunk asks for one row's logits (a [tokens, vocab] buffer
 * would be 100 MB at 512 tokens of a 49,152-token vocabulary).
 */
interface HeadWorkspace {
  capacity: number;
  logitsRows: DeviceTensor; last: DeviceTensor; lastNorm: DeviceTensor; logits: DeviceTensor;
}

type OptionalOp = "addBias" | "scale" | "geluMul" | "softCap";

/** The optional backend ops this config and these weights use. */
function opsNeeded(config: LlamaConfig, layers: readonly LayerWeights[]): OptionalOp[] {
  const need: OptionalOp[] = [];
  if (layers.some((l) => l.bq || l.bk || l.bv)) need.push("addBias");
  if (config.embedScale !== 1) need.push("scale");
  if (config.ffnActivation === "gelu_tanh") need.push("geluMul");
  if (config.finalSoftCap !== null) need.push("softCap");
  return need;
}

/**
 * The decoder of the Llama family and its relatives (Llama 1/2/3, Mistral, Qwen2/3, Gemma 2/3,
 * Phi-3): RMSNorm, RoPE, grouped-query attention through an attention plugin, gated MLP, tied or
 * separate output head. Per-architecture features come from the config (activation, soft-caps,
 * embedding scale, per-layer windows and RoPE bases) and from the weights present (q/k/v biases,
 * q/k norms, post-attention/FFN norms). Linear layers come from a quant plugin; kernels from the
 * backend, which may take q/k/v and gate/up as merged linears (decoder-weights.ts). forward() only
 * enqueues work; read the logits tensor through backend.read().
 */
export class LlamaModel {
  private ws: Workspace | null = null;
  private headWs: HeadWorkspace | null = null;

  private constructor(
    readonly config: LlamaConfig,
    readonly backend: Backend,
    private readonly embedding: EmbeddingTable,
    private readonly layers: LayerWeights[],
    private readonly outputNorm: DeviceTensor,
    private readonly output: LinearMethod,
    /** RoPE tables per layer (Gemma 3's local layers use another base). */
    private readonly ropes: RopeTables[],
    readonly weightBytes: number,
  ) {}

  static load(ck: ModelCheckpoint, config: LlamaConfig, backend: Backend, quant: QuantPlugin, maxPositions: number): LlamaModel {
    const w = loadDecoderWeights(ck, config, backend, quant);
    const missing = opsNeeded(config, w.layers).filter((op) => typeof backend.ops[op] !== "function");
    if (missing.length) {
      throw new ModelFileError(ck.file, `${config.architecture} needs backend ops the '${backend.name}' backend lacks: ${missing.join(", ")}; use --backend cpu`);
    }
    const global = buildRopeTables(backend, config.ropeDim, config.ropeTheta, maxPositions, config.ropeLayout, config.ropeFreqScale, config.ropeFreqFactors);
    const local = config.ropeThetaLocal !== null && config.ropeThetaLocal !== config.ropeTheta
      ? buildRopeTables(backend, config.ropeDim, config.ropeThetaLocal, maxPositions, config.ropeLayout, 1)
      : global;
    const ropes = w.layers.map((_, l) => (config.layerSlidingWindows?.[l] != null ? local : global));
    return new LlamaModel(config, backend, w.embedding, w.layers, w.outputNorm, w.output, ropes, w.weightBytes);
  }

  /** Frees a workspace's tensors (its non-null object fields). */
  private freeAll(ws: object): void {
    for (const t of Object.values(ws)) if (t !== null && typeof t === "object") this.backend.free(t as DeviceTensor);
  }

  private headWorkspace(numLogits: number): HeadWorkspace {
    if (this.headWs && this.headWs.capacity >= numLogits) return this.headWs;
    if (this.headWs) this.freeAll(this.headWs);
    const cap = Math.max(numLogits, this.headWs ? this.headWs.capacity * 2 : 16);
    const { dim, vocabSize } = this.config, b = this.backend;
    this.headWs = { capacity: cap, logitsRows: b.empty([cap], "i32"), last: b.empty([cap, dim]), lastNorm: b.empty([cap, dim]), logits: b.empty([cap, vocabSize]) };
    return this.headWs;
  }

  private workspace(numTokens: number): Workspace {
    if (this.ws && this.ws.capacity >= numTokens) return this.ws;
    if (this.ws) this.freeAll(this.ws);
    const cap = Math.max(numTokens, this.ws ? this.ws.capacity * 2 : 16);
    const { dim, hiddenDim, numHeads, numKvHeads, headDim } = this.config;
    const b = this.backend;
    const anyMerged = (f: (l: LayerWeights) => boolean) => this.layers.some(f);
    this.ws = {
      capacity: cap,
      positions: b.empty([cap], "i32"),
      x: b.empty([cap, dim]), h: b.empty([cap, dim]),
      q: b.empty([cap, numHeads * headDim]), k: b.empty([cap, numKvHeads * headDim]), v: b.empty([cap, numKvHeads * headDim]),
      attn: b.empty([cap, numHeads * headDim]), o: b.empty([cap, dim]),
      gate: b.empty([cap, hiddenDim]),
      up: anyMerged((l) => l.gateUp.merged === null) ? b.empty([cap, hiddenDim]) : null,
      qkv: anyMerged((l) => l.qkv.merged !== null) ? b.empty([cap, (numHeads + 2 * numKvHeads) * headDim]) : null,
      gateUp: anyMerged((l) => l.gateUp.merged !== null) ? b.empty([cap, 2 * hiddenDim]) : null,
    };
    return this.ws;
  }

  /** Enqueue one step; returns the [logitsIndices.length, vocab] logits tensor (valid until the next forward). */
  forward(input: ModelInput, attn: AttentionImpl, cache: KVCache): DeviceTensor {
    const n = input.numTokens;
    const nl = input.logitsIndices.length;
    const maxPos = this.ropes[0]?.maxPositions ?? 0;
    for (let i = 0; i < n; i++) {
      if (input.positions[i]! >= maxPos) throw new RangeError(`position ${input.positions[i]} beyond the model's ${maxPos} positions`);
    }
    const ws = this.workspace(n), hw = this.headWorkspace(nl);
    const ops = this.backend.ops as Required<BackendOps>;
    const c = this.config;
    const { numHeads, numKvHeads, headDim, rmsEps } = c;
    this.backend.write(ws.positions, input.positions);
    this.backend.write(hw.logitsRows, input.logitsIndices);
    const meta = attn.plan(input);
    this.backend.write(ws.x, this.embedding.lookup(input.tokenIds, n));
    if (c.embedScale !== 1) ops.scale(ws.x, c.embedScale, n);
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l]!;
      ops.rmsNorm(ws.h, ws.x, L.attnNorm, rmsEps, n);
      if (L.qkv.merged) {
        L.qkv.merged.apply(ws.h, ws.qkv!, n);
        ops.splitColumns([ws.q, ws.k, ws.v], ws.qkv!, n);
      } else {
        L.qkv.wq.apply(ws.h, ws.q, n);
        L.qkv.wk.apply(ws.h, ws.k, n);
        L.qkv.wv.apply(ws.h, ws.v, n);
      }
      if (L.bq) ops.addBias(ws.q, L.bq, n);
      if (L.bk) ops.addBias(ws.k, L.bk, n);
      if (L.bv) ops.addBias(ws.v, L.bv, n);
      // Per-head norms: rows of headDim, numTokens * heads of them, in place.
      if (L.qNorm) ops.rmsNorm(ws.q, ws.q, L.qNorm, rmsEps, n * numHeads);
      if (L.kNorm) ops.rmsNorm(ws.k, ws.k, L.kNorm, rmsEps, n * numKvHeads);
      ops.rope(ws.q, ws.positions, this.ropes[l]!, numHeads, headDim, n);
      ops.rope(ws.k, ws.positions, this.ropes[l]!, numKvHeads, headDim, n);
      attn.forward(l, ws.q, ws.k, ws.v, cache, meta, ws.attn);
      L.wo.apply(ws.attn, ws.o, n);
      if (L.postAttnNorm) ops.rmsNorm(ws.o, ws.o, L.postAttnNorm, rmsEps, n);
      ops.addInPlace(ws.x, ws.o, n);
      ops.rmsNorm(ws.h, ws.x, L.ffnNorm, rmsEps, n);
      const gelu = c.ffnActivation === "gelu_tanh";
      if (L.gateUp.merged) {
        L.gateUp.merged.apply(ws.h, ws.gateUp!, n);
        if (gelu) ops.geluAndMul(ws.gate, ws.gateUp!, n);
        else ops.siluAndMul(ws.gate, ws.gateUp!, n);
      } else {
        L.gateUp.gate.apply(ws.h, ws.gate, n);
        L.gateUp.up.apply(ws.h, ws.up!, n);
        if (gelu) ops.geluMul(ws.gate, ws.gate, ws.up!, n);
        else ops.siluMul(ws.gate, ws.gate, ws.up!, n);
      }
      L.down.apply(ws.gate, ws.o, n);
      if (L.postFfwNorm) ops.rmsNorm(ws.o, ws.o, L.postFfwNorm, rmsEps, n);
      ops.addInPlace(ws.x, ws.o, n);
    }
    ops.gatherRows(hw.last, ws.x, hw.logitsRows, nl);
    ops.rmsNorm(hw.lastNorm, hw.last, this.outputNorm, rmsEps, nl);
    this.output.apply(hw.lastNorm, hw.logits, nl);
    if (c.finalSoftCap !== null) ops.softCap(hw.logits, c.finalSoftCap, nl);
    return hw.logits;
  }
}
