import type { ModelSpec } from "../config/model-spec.ts";
import { loadCheckpoint } from "../loader/load-checkpoint.ts";
import type { ModelCheckpoint, ProgressCallback } from "../loader/types.ts";
import type { LlamaConfig } from "../model/config.ts";
import { LlamaModel } from "../model/llama.ts";
import { architectureOf } from "../model/registry.ts";
import { attentionShapeOf } from "../model/attention-shape.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { selectPlugins, type Selection } from "../plugin/select.ts";
import type { AttentionImpl, AttentionShape } from "../plugin/types.ts";
import { readGenerationConfig } from "../config/generation-config.ts";
import { ensureHubModel } from "../config/hub-source.ts";
import { tokenizerForCheckpoint } from "../tokenizer/for-checkpoint.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { ModelFileError, UsageError } from "../util/errors.ts";
import { isKvCacheDtype, KV_CACHE_DTYPES } from "../quant/kv-cache.ts";

export interface LoadOptions {
  plugins?: { backend?: string; attention?: string; quant?: string; attentionOptions?: Record<string, unknown> };
  maxModelLen?: number;
  /** KV cache storage: auto (f32), int8, fp8 or f16 (see AttentionShape.kvCacheDtype). */
  kvCacheDtype?: string;
  threads?: number;
  onProgress?: ProgressCallback;
}

/** A model ready to run: weights on the backend, its tokenizer, and the chosen plugins. */
export interface LoadedModel {
  spec: ModelSpec;
  checkpoint: ModelCheckpoint;
  config: LlamaConfig;
  tokenizer: Tokenizer;
  model: LlamaModel;
  attention: AttentionImpl;
  selection: Selection;
  maxModelLen: number;
  /** End-of-sequence ids besides the tokenizer's, from generation_config.json (dropped by ignore_eos). */
  eosTokenIds: number[];
  loadMs: number;
}

export async function loadModel(spec: ModelSpec, registry: PluginRegistry, opts: LoadOptions = {}): Promise<LoadedModel> {
  const t0 = performance.now();
  await ensureHubModel(spec); // hf:// sources: pulled into the hub cache on first use
  const loadOpts: Parameters<typeof loadCheckpoint>[1] = {};
  if (spec.format) loadOpts.format = spec.format;
  if (spec.tokenizerPath) loadOpts.tokenizerPath = spec.tokenizerPath;
  if (opts.onProgress) loadOpts.onProgress = opts.onProgress;
  const checkpoint = await loadCheckpoint(spec.path, loadOpts);
  const tokenizer = tokenizerForCheckpoint(checkpoint, spec.tokenizerPath ?? spec.path);
  // generation_config.json's sampling defaults rank under models.yaml's (and flags/requests over both).
  const generation = checkpoint.format === "hf" ? readGenerationConfig(checkpoint.file) : { sampling: {}, eosTokenIds: [] };
  spec.sampling = { ...generation.sampling, ...spec.sampling };
  const emb = checkpoint.tensors.get("token_embd.weight");
  if (!emb) throw new ModelFileError(checkpoint.file, "missing required tensor 'token_embd.weight'");
  const vocabSize = emb.dims[1] ?? 0;
  // HF checkpoints often pad the embedding past the tokenizer's vocabulary (Qwen: 151936 rows, 151669 tokens).
  if (checkpoint.format === "hf" ? tokenizer.vocabSize > vocabSize : tokenizer.vocabSize !== vocabSize) {
    throw new ModelFileError(checkpoint.file, `tokenizer has ${tokenizer.vocabSize} tokens but the embedding has ${vocabSize} rows`);
  }
  const config = architectureOf(checkpoint).config(checkpoint, vocabSize);
  const maxModelLen = opts.maxModelLen ?? spec.maxModelLen ?? config.contextLength;
  if (!Number.isInteger(maxModelLen) || maxModelLen < 1) throw new UsageError(`invalid max_model_len ${maxModelLen}; accepted: a positive integer`);
  if (maxModelLen > config.contextLength) {
    throw new UsageError(`max_model_len ${maxModelLen} exceeds the model's context length ${config.contextLength}`);
  }
  const shape: AttentionShape = attentionShapeOf(config);
  const kvDtype = opts.kvCacheDtype ?? "auto";
  if (!isKvCacheDtype(kvDtype)) throw new UsageError(`invalid kv cache dtype "${kvDtype}"; accepted: ${KV_CACHE_DTYPES.join(", ")}`);
  if (kvDtype !== "auto") shape.kvCacheDtype = kvDtype;
  const { attentionOptions: specAttnOpts, ...specPlugins } = spec.plugins;
  const { attentionOptions: optAttnOpts, ...optPlugins } = opts.plugins ?? {};
  const want = { ...specPlugins, ...dropUndefined(optPlugins) };
  // models.yaml's attention options belong to the plugin it names: another --attention drops them.
  const attentionOptions = optAttnOpts ?? (want.attention === specPlugins.attention ? specAttnOpts : undefined);
  if (attentionOptions) shape.options = attentionOptions;
  const selection = await selectPlugins(registry, want, shape, [...checkpoint.tensors.values()], { threads: opts.threads });
  const model = LlamaModel.load(checkpoint, config, selection.backend, selection.quant, maxModelLen);
  const attention = selection.attention.create(shape, selection.backend);
  return { spec, checkpoint, config, tokenizer, model, attention, selection, maxModelLen, eosTokenIds: generation.eosTokenIds, loadMs: performance.now() - t0 };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
