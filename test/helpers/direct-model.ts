import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { LlamaModel } from "../../src/model/llama.ts";
import { architectureOf } from "../../src/model/registry.ts";
import { cpuBackendPlugin } from "../../plugins/backend/cpu/index.ts";
import { pagedAttentionPlugin } from "../../plugins/attention/paged/index.ts";
import { noneQuantPlugin } from "../../plugins/quant/none/index.ts";
import { ggufQuantPlugin } from "../../plugins/quant/gguf/index.ts";
import { singleRequestInput } from "../../src/runner/model-input.ts";
import type { Backend, QuantPlugin } from "../../src/plugin/types.ts";
import type { KvCacheDtype } from "../../src/quant/kv-cache.ts";

/** Load a model without the engine and run one sequence greedily through contiguous blocks. */
export async function directModel(path: string, opts: { tokenizerPath?: string; quant?: QuantPlugin; backend?: Backend; kvCacheDtype?: KvCacheDtype } = {}) {
  const ck = await loadCheckpoint(path, opts.tokenizerPath ? { tokenizerPath: opts.tokenizerPath } : {});
  const vocab = ck.tensors.get("token_embd.weight")!.dims[1]!;
  const config = architectureOf(ck).config(ck, vocab);
  const backend = opts.backend ?? (await cpuBackendPlugin.create({}));
  const maxLen = Math.min(config.contextLength, 1024);
  const model = LlamaModel.load(ck, config, backend, opts.quant ?? noneQuantPlugin, maxLen);
  const shape = { numLayers: config.numLayers, numHeads: config.numHeads, numKvHeads: config.numKvHeads, headDim: config.headDim, smScale: 1 / Math.sqrt(config.headDim), slidingWindow: null, kvCacheDtype: opts.kvCacheDtype };
  const attn = pagedAttentionPlugin.create(shape, backend);
  const blockSize = 16;
  const cache = attn.allocateKvCache(Math.ceil(maxLen / blockSize) + 1, blockSize);
  const blockIds = Array.from({ length: Math.ceil(maxLen / blockSize) }, (_, i) => i + 1);

  /** Feed `promptIds`, then greedily generate `n` tokens; returns ids and the logits of every sampled step. */
  async function greedy(promptIds: number[], n: number): Promise<{ ids: number[]; logits: Float32Array[] }> {
    const ids: number[] = [];
    const logits: Float32Array[] = [];
    let pos = 0;
    let feed = promptIds;
    for (let step = 0; step < n; step++) {
      const out = model.forward(singleRequestInput(feed, pos, blockIds, blockSize), attn, cache);
      const row = (await backend.read(out, vocab)) as Float32Array;
      logits.push(row);
      let best = 0;
      for (let i = 1; i < vocab; i++) if (row[i]! > row[best]!) best = i;
      ids.push(best);
      pos += feed.length;
      feed = [best];
      if (best === 1) break; // run.c stops on BOS
    }
    return { ids, logits };
  }
  return { ck, config, model, greedy, ggufQuantPlugin };
}
