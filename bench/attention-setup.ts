/**
 * Attention micro-benchmark scenarios: a batch of requests whose context is already in the paged
 * cache (filled directly with random K/V: paged, flashinfer and flex share the layout
 * [numBlocks, blockSize, numKvHeads, headDim]), plus this step's new tokens.
 */
import type { AttentionBatch, AttentionImpl, AttentionPlugin, AttentionShape, Backend, DeviceTensor, KVCache } from "../src/plugin/types.ts";
import { Prng } from "../src/sampling/prng.ts";

export interface Scenario {
  /** Per request: cached context length and new tokens this step. */
  reqs: Array<{ ctxLen: number; qLen: number }>;
  /** Leading tokens shared by all requests (same blocks, as prefix caching leaves them). */
  sharedPrefix: number;
  blockSize: number;
}

export interface Prepared {
  impl: AttentionImpl;
  cache: KVCache;
  batch: AttentionBatch;
  q: DeviceTensor; k: DeviceTensor; v: DeviceTensor; out: DeviceTensor;
}

function random(rng: Prng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextFloat() * 2 - 1;
  return a;
}

export function buildBatch(s: Scenario): { batch: AttentionBatch; numBlocks: number } {
  const bs = s.blockSize, sharedBlocks = Math.floor(s.sharedPrefix / bs);
  let next = 1 + sharedBlocks;
  const tables = s.reqs.map((r) => {
    const n = Math.ceil((r.ctxLen + r.qLen) / bs);
    const t = Array.from({ length: Math.min(sharedBlocks, n) }, (_, i) => 1 + i);
    while (t.length < n) t.push(next++);
    return t;
  });
  const maxB = Math.max(...tables.map((t) => t.length));
  const numTokens = s.reqs.reduce((a, r) => a + r.qLen, 0);
  const positions = new Int32Array(numTokens), slotMapping = new Int32Array(numTokens);
  const queryStartLoc = new Int32Array(s.reqs.length + 1), blockTables = new Int32Array(s.reqs.length * maxB);
  let t = 0;
  s.reqs.forEach((r, i) => {
    queryStartLoc[i] = t;
    blockTables.set(tables[i]!, i * maxB);
    for (let p = r.ctxLen; p < r.ctxLen + r.qLen; p++, t++) {
      positions[t] = p;
      slotMapping[t] = tables[i]![Math.floor(p / bs)]! * bs + (p % bs);
    }
  });
  queryStartLoc[s.reqs.length] = t;
  const batch: AttentionBatch = {
    numTokens, numReqs: s.reqs.length, queryStartLoc, seqLens: Int32Array.from(s.reqs.map((r) => r.ctxLen + r.qLen)),
    positions, slotMapping, blockTables, maxBlocksPerReq: maxB, blockSize: bs,
  };
  return { batch, numBlocks: next };
}

/** Create the plugin's implementation, a one-layer cache holding random context, and the step's inputs. */
export function prepare(plugin: AttentionPlugin, shape: AttentionShape, backend: Backend, s: Scenario, seed = 1): Prepared {
  const reasons = plugin.check(shape, backend);
  if (reasons.length) throw new Error(`${plugin.name}: ${reasons.join("; ")}`);
  const rng = new Prng(seed);
  const { batch, numBlocks } = buildBatch(s);
  const impl = plugin.create(shape, backend);
  const cache = impl.allocateKvCache(numBlocks, s.blockSize);
  const kvDim = shape.numKvHeads * shape.headDim, qDim = shape.numHeads * shape.headDim;
  const [kc, vc] = cache.layers[0]!;
  backend.write(kc, random(rng, numBlocks * s.blockSize * kvDim));
  backend.write(vc, random(rng, numBlocks * s.blockSize * kvDim));
  const n = batch.numTokens;
  return {
    impl, cache, batch,
    q: backend.upload(random(rng, n * qDim), [n, qDim]), k: backend.upload(random(rng, n * kvDim), [n, kvDim]),
    v: backend.upload(random(rng, n * kvDim), [n, kvDim]), out: backend.empty([n, qDim]),
  };
}

/** One step of one layer: plan, then forward (what the runner does per step and layer). */
export function runStep(p: Prepared): void {
  const meta = p.impl.plan(p.batch);
  p.impl.forward(0, p.q, p.k, p.v, p.cache, meta, p.out);
}
