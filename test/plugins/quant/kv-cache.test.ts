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
import { runCli } from "../../helpers/cli.ts";
import { f32ToF16, f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";

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

/** f64 values rounded to the nearest half (ties to even), as the f16 cache stores them. */
function toHalf(x: Float64Array): Float64Array {
  return x.map((v) => f16ToF32(f32ToF16(v)));
}

describe("quantized KV cache (--kv-cache-dtype int8 | fp8 | f16)", () => {
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
    expect(() => kvCacheQuantizer("int4", 1, 8)).toThrow(/unknown kv cache dtype "int4"; accepted: auto, int8, fp8, f16/);
  });

  it("f16 stores IEEE halves without a scale: exact for halves, ties to even, overflow to inf, NaN kept", () => {
    const cases: Array<[number, number]> = [
      // exactly representable: kept bit for bit (-0 too)
      [1, 1], [-2.5, -2.5], [65504, 65504], [2 ** -24, 2 ** -24], [2 ** -14, 2 ** -14], [-0, -0], [0.333251953125, 0.333251953125],
      // ties go to the even neighbour; above a tie goes up
      [1 + 2 ** -11, 1], [1 + 3 * 2 ** -11, 1 + 2 ** -9], [1 + 2 ** -11 + 2 ** -20, 1 + 2 ** -10], [2049, 2048], [2051, 2052],
      // subnormals: a half of the smallest rounds to 0 (even), 3/2 of it to 2 of it
      [2 ** -25, 0], [3 * 2 ** -25, 2 ** -23],
      // beyond the range: 65519 still rounds down, the tie 65520 and above overflow to inf
      [65519, 65504], [65520, Infinity], [1e6, Infinity], [-1e6, -Infinity], [Infinity, Infinity],
    ];
    const hd = cases.length + 1; // odd: the last word of the head is half padding
    const q = new KvCacheQuantizer("f16", 2, hd);
    expect(q.wordsPerToken).toBe(2 * Math.ceil(hd / 2));
    const src = new Float32Array(2 * hd);
    cases.forEach(([x], i) => { src[i] = x; src[hd + i] = -x; });
    src[hd - 1] = NaN;
    src[2 * hd - 1] = 0.1;
    const cache = new Int32Array(3 * q.wordsPerToken);
    const views = q.views(cache);
    q.store(views, 1, src, 0);
    expect(cache.subarray(0, q.wordsPerToken).every((w) => w === 0)).toBe(true);
    expect(views.u16[q.wordsPerToken * 2]).toBe(0x3c00); // token 1, head 0, element 0: the half 1.0
    const out = new Float32Array(2 * hd);
    q.load(views, 1, out, 0);
    cases.forEach(([x, want], i) => {
      expect(Object.is(out[i], want), `${x} -> ${out[i]} (want ${want})`).toBe(true);
      expect(Object.is(out[hd + i], -want), `${-x} -> ${out[hd + i]} (want ${-want})`).toBe(true);
    });
    expect(out[hd - 1]).toBeNaN();
    expect(out[2 * hd - 1]).toBe(0.0999755859375);
    // 2 bytes per value: half of f32; 64-dim heads take 128 bytes per token and head.
    expect(new KvCacheQuantizer("f16", 4, 64).bytesPerToken).toBe(4 * 64 * 2);
    expect(kvCacheQuantizer("f16", 4, 64)?.dtype).toBe("f16");
  });

  it("paged attention sizes and allocates the smaller cache", async () => {
    const backend = await cpuBackendPlugin.create({});
    const shape = { numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 64, smScale: 0.125, slidingWindow: null };
    const f32 = pagedAttentionPlugin.create(shape, backend);
    const i8 = pagedAttentionPlugin.create({ ...shape, kvCacheDtype: "int8" }, backend);
    const f16 = pagedAttentionPlugin.create({ ...shape, kvCacheDtype: "f16" }, backend);
    expect(f32.kvBytesPerToken()).toBe(2 * 2 * 2 * 64 * 4);
    expect(f16.kvBytesPerToken()).toBe(2 * 2 * 2 * 64 * 2);
    const half = f16.allocateKvCache(3, 16);
    expect(half.layers[0]![1].shape).toEqual([3, 16, 2 * 32]);
    expect(half.bytesPerToken).toBe(f32.kvBytesPerToken() / 2);
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

  it("f16: paged attention equals dense f64 attention over half-rounded q, K and V within the f16 accumulator's rounding (ragged batches, shared blocks, windows, soft-caps)", async () => {
    let worstHalf = 0, worstF32 = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const spec = randomSpec(seed, { window: true, softCap: true });
      const c = buildCase(spec, seed);
      const shape = { ...c.shape, kvCacheDtype: "f16" as const };
      const got = await runCase(pagedAttentionPlugin, c, shape);
      const opts = { ...shape, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: spec.logitsSoftCap ?? null };
      const halves = c.dense.map((r) => ({ ...r, q: toHalf(r.q), k: toHalf(r.k), v: toHalf(r.v) }));
      worstHalf = Math.max(worstHalf, maxError(c, got, denseAttention(halves, opts)));
      worstF32 = Math.max(worstF32, maxError(c, got, denseAttention(c.dense, opts)));
    }
    // Measured 1.04e-3 for both: the f16 accumulator's rounding (unit roundoff 2^-11 = 4.9e-4) dominates.
    expect(worstHalf).toBeLessThan(2e-3);
    expect(worstF32).toBeLessThan(2e-3);
  }, 120_000);

  it("stories260K with an int8 / fp8 / f16 KV cache: golden continuations stay close to the f32 cache's", async () => {
    const path = modelPath("stories260K", "stories260K-f32.gguf");
    const seqs = goldenNames().slice(0, 4).map((n) => {
      const g = readGolden(n);
      return { ids: [...g.prompt_ids, ...g.generated_ids.slice(0, 48)], rows: g.generated_ids.slice(0, 48).map((_, i) => g.prompt_ids.length - 1 + i) };
    });
    const ref = await sequenceLogits(await loadWithQuant(path, "none"), seqs);
    // Measured mean KL / top-1: int8 7.3e-4 / 0.990, fp8 4.1e-3 / 0.990, f16 4.4e-7 / 1.
    for (const [dtype, maxKl, minTop1] of [["int8", 2e-3, 0.97], ["fp8", 1e-2, 0.95], ["f16", 1e-5, 0.99]] as const) {
      const got = await sequenceLogits(await loadWithQuant(path, "none", undefined, { kvCacheDtype: dtype }), seqs);
      const cmp = mergeComparisons(got.map((g, i) => compareLogits(ref[i]!, g)));
      expect(cmp.meanKl, dtype).toBeLessThan(maxKl);
      expect(cmp.top1, dtype).toBeGreaterThanOrEqual(minTop1);
    }
    await expect(loadWithQuant(path, "none", undefined, { kvCacheDtype: "int4" })).rejects.toThrow(/invalid kv cache dtype "int4"; accepted: auto, int8, fp8, f16/);
  }, 120_000);

  it("llm run refuses a bad --kv-cache-dtype with the accepted list", async () => {
    const r = await runCli(["run", "stories260k", "hi", "--kv-cache-dtype", "int4"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--kv-cache-dtype");
    expect(r.stderr).toContain("auto, int8, fp8, f16");
    expect(r.stdout).toBe("");
  }, 120_000);
});
