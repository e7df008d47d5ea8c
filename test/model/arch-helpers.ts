import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { attentionShapeOf } from "../../src/model/attention-shape.ts";
import { LlamaModel } from "../../src/model/llama.ts";
import { architectureOf } from "../../src/model/registry.ts";
import { singleRequestInput } from "../../src/runner/model-input.ts";
import { cpuBackendPlugin } from "../../plugins/backend/cpu/index.ts";
import { pagedAttentionPlugin } from "../../plugins/attention/paged/index.ts";
import { noneQuantPlugin } from "../../plugins/quant/none/index.ts";

/** Loads a GGUF file or HF folder without the engine; logits of one sequence fed in chunks. */
export async function archModel(path: string) {
  const ck = await loadCheckpoint(path);
  const vocab = ck.tensors.get("token_embd.weight")!.dims[1]!;
  const config = architectureOf(ck).config(ck, vocab);
  const backend = await cpuBackendPlugin.create({});
  const maxLen = Math.min(config.contextLength, 256);
  const model = LlamaModel.load(ck, config, backend, noneQuantPlugin, maxLen);
  const blockSize = 4;
  const blockIds = Array.from({ length: Math.ceil(maxLen / blockSize) }, (_, i) => i + 1);

  /** Logits after each chunk's last token: feed `ids` in chunks of `chunk` tokens (prefill + decode mix). */
  async function logits(ids: number[], chunk = ids.length): Promise<Float32Array[]> {
    const attn = pagedAttentionPlugin.create(attentionShapeOf(config), backend);
    const cache = attn.allocateKvCache(blockIds.length + 1, blockSize);
    const out: Float32Array[] = [];
    for (let pos = 0; pos < ids.length; pos += chunk) {
      const feed = ids.slice(pos, pos + chunk);
      const t = model.forward(singleRequestInput(feed, pos, blockIds, blockSize), attn, cache);
      out.push((await backend.read(t, vocab)) as Float32Array);
    }
    return out;
  }
  return { ck, config, logits, vocab };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function softmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  const e = Float64Array.from(x, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
