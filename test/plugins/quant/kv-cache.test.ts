import { describe, expect, it } from "vitest";
import { KvCacheQuantizer, kvCacheQuantizer } from "../../../src/quant/kv-cache.ts";
import { pagedAttentionPlugin } from "../../../plugins/attention/paged/index.ts";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { buildCase, maxError, runCase } from "../attention/cases.ts";
import { denseAttention } from "../attention/dense-reference.ts";
import { randomSpec } from "../attention/random-spec.ts";
import { loadWithQuant, sequenceLogits } from "../../../src/quant/quality-suite.ts";
import { compareLogits, mergeComparisons } from "../../../src/quant/quality.ts";
import { modelPath } from "../../helpers/models-dir.ts";
import { goldenNames, readGolden } from "../../helpers/golden.ts";
import { randomMatrix } from "./helpers.ts";

/** K or V rows [seqLen, heads*headDim] after a trip through the quantized cache. */
function roundTrip(q: KvCacheQuantizer, rows: Float64Array, seqLen: number): Float64Array {
  const kvDim = q.numKvHeads * q.headDim;
  const cache = new Int32Array(seqLen * q.wordsPerToken);
  const views = q.views(cache);
  const buf = Float32Array.from(rows);
  const out = new Float32Array(rows.length);
  for (let p = 0; p < seqLen; p++) q.store(views, p, buf, p * kvDim);
  for (let p = 0; p < seqLen; p++) q.load(views, p, out, p * kvDim);
  return Float64Array.from(out);
}

describe("quantized KV cache (--kv-cache-dtype int8 | fp8)", () => {
  it("stores codes and one scale per token and head; round trip within the format's step", () => {
    const heads = 3, hd = 10, n = 7;
    const x = randomMatrix(n * heads * hd, 11);
    for (const dtype of ["int8", "fp8"] as const) {
      const q = new KvCacheQuantizer(dtype, heads, hd);
      expect(q.wordsPerToken).toBe(heads * (3 + 1));
      expect(q.bytesPerToken).toBe(heads * 16);
      const back = roundTrip(q, Float64Array.from(x), n);
      for (let t = 0; t < n * heads; t++) {
        let amax = 0;
        for (let d = 0; d < hd; d++) amax = Math.max(amax, Math.abs(x[t * hd + d]!));
        const scale = amax / (dtype === "int8" ? 127 : 448);
        for (let d = 0; d < hd; d++) {
          const i = t * hd + d, err = Math.abs(back[i]! - x[i]!);
          expect(err).toBeLessThanOrEqual(dtype === "int8" ? scale / 2 + 1e-7 : Math.abs(x[i]!) / 16 + scale * 2 ** -9 + 1e-7);
        }
      }
    }
    expect(kvCacheQuantizer("auto", 1, 8)).toBeNull();
    expect(() => kvCacheQuantizer("int4", 1, 8)).toThrow(/unknown kv cache dtype "int4"; accepted: auto, int8, fp8/);
  });

  it("paged attention sizes and allocates the smaller cache", async () => {
    const backend = await cpuBackendPlugin.create({});
    const shape = { numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 64, smScale: 0.125, slidingWindow: null };
    const f32 = pagedAttentionPlugin.create(shape, backend);
    const i8 = pagedAttentionPlugin.create({ ...shape, kvCacheDtype: "int8" }, backend);
    expect(f32.kvBytesPerToken()).toBe(2 * 2 * 2 * 64 * 4);
    expect(i8.kvBytesPerToken()).toBe(2 * 2 * 2 * (64 + 4));
    const cache = i8.allocateKvCache(3, 16);
    expect(cache.layers[0]![0].dtype).toBe("i32");
    expect(cache.layers[0]![0].shape).toEqual([3, 16, 2 * 17]);
    expect(cache.bytesPerToken).toBe(i8.kvBytesPerToken());
  }, 120_000);

  for (const dtype of ["int8", "fp8"] as const) {
    it(`${dtype}: paged attention equals dense f64 attention over the round-tripped K/V (ragged batches, shared blocks, windows)`, async () => {
      let worstExact = 0, worstF32 = 0;
      for (let seed = 1; seed <= 24; seed++) {
        const spec = randomSpec(seed, { window: true });
        delete spec.logitsSoftCap;
        const c = buildCase(spec, seed);
        const shape = { ...c.shape, logitsSoftCap: null, kvCacheDtype: dtype };
        const got = await runCase(pagedAttentionPlugin, c, shape);
        const q = new KvCacheQuantizer(dtype, spec.numKvHeads, spec.headDim);
        const quantized = c.dense.map((r) => ({ ...r, k: roundTrip(q, r.k, r.seqLen), v: roundTrip(q, r.v, r.seqLen) }));
        const opts = { ...shape, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: null };
        worstExact = Math.max(worstExact, maxError(c, got, denseAttention(quantized, opts)));
        worstF32 = Math.max(worstF32, maxError(c, got, denseAttention(c.dense, opts)));
      }
      expect(worstExact).toBeLessThan(1e-5);
      expect(worstF32).toBeLessThan(dtype === "int8" ? 0.02 : 0.1);
    }, 120_000);
  }

  it("stories260K with an int8 / fp8 KV cache: golden continuations stay close to the f32 cache's", async () => {
    const path = modelPath("stories260K", "stories260K-f32.gguf");
    const seqs = goldenNames().slice(0, 4).map((n) => {
      const g = readGolden(n);
      return { ids: [...g.prompt_ids, ...g.generated_ids.slice(0, 48)], rows: g.generated_ids.slice(0, 48).map((_, i) => g.prompt_ids.length - 1 + i) };
    });
    const ref = await sequenceLogits(await loadWithQuant(path, "none"), seqs);
    for (const [dtype, maxKl, minTop1] of [["int8", 2e-3, 0.97], ["fp8", 1e-2, 0.95]] as const) {
      const got = await sequenceLogits(await loadWithQuant(path, "none", undefined, { kvCacheDtype: dtype }), seqs);
      const cmp = mergeComparisons(got.map((g, i) => compareLogits(ref[i]!, g)));
      expect(cmp.meanKl, dtype).toBeLessThan(maxKl);
      expect(cmp.top1, dtype).toBeGreaterThanOrEqual(minTop1);
    }
    await expect(loadWithQuant(path, "none", undefined, { kvCacheDtype: "int4" })).rejects.toThrow(/invalid kv cache dtype "int4"; accepted: auto, int8, fp8/);
  }, 120_000);
});
