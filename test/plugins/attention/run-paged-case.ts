/** Runs an attention case (cases.ts) through an attention plugin on a backend: its setup, then its step. */
import { pagedAttentionPlugin } from "../../../plugins/attention/paged/index.ts";
import type { AttentionPlugin, AttentionShape, Backend } from "../../../src/plugin/types.ts";
import type { KvCacheStoredDtype } from "../../../src/quant/kv-cache.ts";
import type { AttnCase } from "./cases.ts";

/** Setup then step of case `c` through `plugin` on `backend` with `shape` (layer 1); the step's output. */
export async function runAttentionCase(backend: Backend, plugin: AttentionPlugin, c: AttnCase, shape: AttentionShape): Promise<Float32Array> {
  const impl = plugin.create(shape, backend);
  const cache = impl.allocateKvCache(c.numBlocks, c.spec.blockSize);
  const qDim = shape.numHeads * shape.headDim, kvDim = shape.numKvHeads * shape.headDim;
  let out: Float32Array = new Float32Array(0);
  for (const [batch, [q, k, v]] of [[c.setup, c.setupQkv], [c.step, c.stepQkv]] as const) {
    if (batch.numTokens === 0) continue;
    const qt = backend.upload(q, [batch.numTokens, qDim]), kt = backend.upload(k, [batch.numTokens, kvDim]), vt = backend.upload(v, [batch.numTokens, kvDim]);
    const ot = backend.empty([batch.numTokens, qDim]);
    impl.forward(1, qt, kt, vt, cache, impl.plan(batch), ot);
    out = (await backend.read(ot)) as Float32Array;
  }
  return out;
}

/** The paged plugin's step output, with the case's cache dtype or `kvCacheDtype` when given. */
export function runPagedCase(backend: Backend, c: AttnCase, kvCacheDtype?: KvCacheStoredDtype): Promise<Float32Array> {
  return runAttentionCase(backend, pagedAttentionPlugin, c, kvCacheDtype ? { ...c.shape, kvCacheDtype } : c.shape);
}
