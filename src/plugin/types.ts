/**
 * Plugin contracts (DESIGN.md section 5). The engine core never imports a plugin; plugins are
 * plain values, registered explicitly through a PluginRegistry (see registry.ts).
 */
import type { HostTensor } from "../loader/types.ts";

export type DType = "f32" | "i32";

/**
 * A tensor living on a backend's device. Opaque to the engine: only its backend's kernels (and
 * plugins' implementations for that backend) look inside. Shapes are row-major, last dim contiguous.
 */
export interface DeviceTensor {
  readonly backend: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * The kernels every backend provides. Calls enqueue work; results become visible to `read()`,
 * which is the only asynchronous point (a GPU backend submits and maps there).
 */
export interface BackendOps {
  /** out[t] = x[t] / rms(x[t]) * weight, per row of length weight.shape[0]. */
  rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number, numTokens: number): void;
  /** Rotate q or k in place: [numTokens, numHeads * headDim] by positions, with precomputed cos/sin [maxPos, rotDim/2]. */
  rope(x: DeviceTensor, positions: DeviceTensor, cosSin: RopeTables, numHeads: number, headDim: number, numTokens: number): void;
  /** out = silu(gate) * up, elementwise over numTokens rows. */
  siluMul(out: DeviceTensor, gate: DeviceTensor, up: DeviceTensor, numTokens: number): void;
  /** out += x over numTokens rows. */
  addInPlace(out: DeviceTensor, x: DeviceTensor, numTokens: number): void;
  /** out[i, :] = x[rows[i], :] for i < numRows. */
  gatherRows(out: DeviceTensor, x: DeviceTensor, rows: DeviceTensor, numRows: number): void;
  /** out[n, m] = x[n, k] · w[m, k]^T for f32 weights (the unquantized linear). */
  matmul(out: DeviceTensor, x: DeviceTensor, w: DeviceTensor, numRows: number): void;
  /*
   * Optional ops some architectures need (a model refuses to load on a backend lacking one it uses).
   * Row length is bias.shape[0] for addBias, else the last dim of the first tensor argument.
   */
  /** out[r, :] += bias for r < numRows (Qwen2's q/k/v biases). */
  addBias?(out: DeviceTensor, bias: DeviceTensor, numRows: number): void;
  /** x *= s over numRows rows, in place (Gemma's sqrt(dim) embedding scale). */
  scale?(x: DeviceTensor, s: number, numRows: number): void;
  /** out = gelu_tanh(gate) * up over numRows rows (GeGLU: gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))). */
  geluMul?(out: DeviceTensor, gate: DeviceTensor, up: DeviceTensor, numRows: number): void;
  /** x = cap * tanh(x / cap) over numRows rows, in place (Gemma 2's final logit soft-cap). */
  softCap?(x: DeviceTensor, cap: number, numRows: number): void;
  /*
   * Merged projections (vLLM's QKVParallelLinear and MergedColumnParallelLinear): a backend with
   * splitColumns and siluAndMul gets each layer's q/k/v weights, and its gate/up weights, as one
   * linear over the concatenated rows: one product (one activation pass, one wake of its threads)
   * instead of three or two. Each output element is the same dot product, so the model computes
   * the same values either way.
   */
  /** outs[i][r, :] = x[r, o_i : o_i + c_i] for r < numRows, c_i the last dim of outs[i] and o_i the sum of those before it. */
  splitColumns?(outs: readonly DeviceTensor[], x: DeviceTensor, numRows: number): void;
  /** out[r, :] = silu(x[r, :d]) * x[r, d:] for r < numRows, d the last dim of out (x rows of 2d: SiluAndMul). */
  siluAndMul?(out: DeviceTensor, x: DeviceTensor, numRows: number): void;
  /** geluMul's GeGLU on the halves of x's rows as siluAndMul (GeluAndMul); merged gate/up of a GeGLU model need it. */
  geluAndMul?(out: DeviceTensor, x: DeviceTensor, numRows: number): void;
  /**
   * Greedy sampling on the device: ids[r] = argmax of row r of x (ties to the lowest index), an i32
   * tensor. A backend whose reads are costly (a GPU) has it; the runner then reads back ids instead of
   * the logits rows of requests that sample greedily.
   */
  argmaxRows?(ids: DeviceTensor, x: DeviceTensor, numRows: number): void;
}

export interface RopeTables {
  readonly layout: "normal" | "neox";
  /** Number of rotated dims per head (<= headDim). */
  readonly rotDim: number;
  readonly cos: DeviceTensor;
  readonly sin: DeviceTensor;
  readonly maxPositions: number;
}

export interface Backend {
  readonly name: string;
  /** Human description of the device (for --verbose / bench output). */
  readonly device: string;
  readonly ops: BackendOps;
  /** Allocate zeroed device memory. */
  empty(shape: readonly number[], dtype?: DType): DeviceTensor;
  /** Copy host data into a new device tensor. */
  upload(data: Float32Array | Int32Array, shape: readonly number[]): DeviceTensor;
  /** Overwrite the first data.length elements of t. */
  write(t: DeviceTensor, data: Float32Array | Int32Array): void;
  /** Read back the first `count` elements (default all) once queued work finishes. */
  read(t: DeviceTensor, count?: number): Promise<Float32Array | Int32Array>;
  free(t: DeviceTensor): void;
  /** Bytes currently allocated through this backend. */
  allocatedBytes(): number;
  dispose(): void;
}

export interface BackendOptions {
  threads?: number;
}

export interface BackendPlugin {
  readonly kind: "backend";
  readonly name: string;
  readonly description: string;
  /** Reasons this backend cannot run here (empty when it can). */
  probe(): Promise<string[]>;
  create(opts: BackendOptions): Promise<Backend>;
}

/** Model shape facts an attention implementation needs. */
export interface AttentionShape {
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Softmax scale; default 1/sqrt(headDim). */
  smScale: number;
  /** Sliding window (tokens to the left a query may see), or null for full attention. */
  slidingWindow: number | null;
  /** KV cache storage (vLLM's --kv-cache-dtype): "auto" (absent) keeps f32; "int8"/"fp8" store 8-bit codes with a scale per token and KV head; "f16" stores IEEE halves. */
  kvCacheDtype?: "auto" | "int8" | "fp8" | "f16";
  /** Logits soft-cap (Gemma 2, Grok): score = cap * tanh(score / cap) after smScale; null/absent for none. */
  logitsSoftCap?: number | null;
  /**
   * Per-layer sliding windows (length numLayers; null entries attend fully), e.g. Gemma 2/3's
   * alternating local/global layers. When present it replaces slidingWindow for every layer.
   */
  layerSlidingWindows?: ReadonlyArray<number | null> | null;
  /** Plugin-specific options from models.yaml (`plugins: { attention: { name, ...options } }`); a plugin refuses keys it does not know. */
  options?: Readonly<Record<string, unknown>>;
}

/** The ragged batch of one step, as plain data (see runner/model-input.ts). */
export interface AttentionBatch {
  numTokens: number;
  numReqs: number;
  /** [numReqs + 1]: request r's tokens are rows queryStartLoc[r] .. queryStartLoc[r+1]-1. */
  queryStartLoc: Int32Array;
  /** [numReqs]: KV length of request r after this step (computed + scheduled). */
  seqLens: Int32Array;
  /** [numTokens]: absolute position of each token. */
  positions: Int32Array;
  /** [numTokens]: cache slot (blockId * blockSize + offset) each token's K/V is written to. */
  slotMapping: Int32Array;
  /** [numReqs * maxBlocksPerReq], padded with 0 (the null block). */
  blockTables: Int32Array;
  maxBlocksPerReq: number;
  blockSize: number;
}

/** The paged KV cache of all layers, owned by the runner, laid out as the plugin asks. */
export interface KVCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** Per layer: [K, V] device tensors. */
  readonly layers: ReadonlyArray<readonly [DeviceTensor, DeviceTensor]>;
  /** Bytes of K+V one token takes across all layers. */
  readonly bytesPerToken: number;
}

export interface AttentionImpl {
  /** Allocate the cache for numBlocks blocks of blockSize tokens. */
  allocateKvCache(numBlocks: number, blockSize: number): KVCache;
  /** Bytes of K+V per token over all layers (to size the cache from a memory budget). */
  kvBytesPerToken(): number;
  /** Once per step: build whatever metadata forward() needs (FlashInfer's plan). */
  plan(batch: AttentionBatch): unknown;
  /**
   * Per layer: write k, v ([numTokens, numKvHeads*headDim]) into the cache by slot mapping, then
   * out[numTokens, numHeads*headDim] = causal attention of q over each request's cached K/V.
   */
  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void;
}

export interface AttentionPlugin {
  readonly kind: "attention";
  readonly name: string;
  readonly description: string;
  /** Reasons it cannot serve this shape on this backend (empty when it can). */
  check(shape: AttentionShape, backend: Backend): string[];
  create(shape: AttentionShape, backend: Backend): AttentionImpl;
}

/** One linear layer's weights and how to multiply by them: y[n, out] = x[n, in] · W^T. */
export interface LinearMethod {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Bytes the weights occupy on the device. */
  readonly weightBytes: number;
  apply(x: DeviceTensor, out: DeviceTensor, numRows: number): void;
}

export interface LinearLayerInfo {
  /** GGUF tensor name (blk.3.attn_q.weight). */
  name: string;
  tensor: HostTensor;
  inFeatures: number;
  outFeatures: number;
}

export interface QuantPlugin {
  readonly kind: "quant";
  readonly name: string;
  readonly description: string;
  /** Reasons it cannot run on this backend or read these tensor types (empty when it can). */
  check(backend: Backend, tensors: readonly HostTensor[]): string[];
  /** Create, load and finalize the weights of one linear layer on the backend. */
  createLinear(layer: LinearLayerInfo, backend: Backend): LinearMethod;
}

export type AnyPlugin = BackendPlugin | AttentionPlugin | QuantPlugin;
export type PluginKind = AnyPlugin["kind"];
