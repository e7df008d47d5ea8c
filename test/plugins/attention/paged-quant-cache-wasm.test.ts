/**
 * The paged plugin's WebAssembly attention over the quantized KV caches (plugins/attention/paged/
 * cpu-wasm.ts): f16 through wasm/attend-half.ts must give the bits of the JavaScript half-precision
 * attention (half-attention.ts), subnormal and overflowing halves included; int8/fp8 staged in wasm
 * memory must give the bits of the f32-cache WebAssembly path run on the dequantized values, and
 * stay within f32 rounding of an f64 dense reference over those values. 1 and 2 threads agree.
 */
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { KvCacheQuantizer, type KvCacheStoredDtype } from "../../../src/quant/kv-cache.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { buildCase, type AttnCase, type CaseSpec } from "./cases.ts";
import { runPagedCase as run } from "./run-paged-case.ts";
import { denseAttention, type DenseRequest } from "./dense-reference.ts";
import { randomSpec } from "./random-spec.ts";

const HEAD_DIMS = [8, 16, 64, 12];

/** A random case (GQA or MHA from randomSpec) with a head size of HEAD_DIMS and block size 16 half the time (without shared pages, sized in blocks). */
function specOf(seed: number): CaseSpec {
  const s = randomSpec(seed, { window: true });
  return { ...s, headDim: HEAD_DIMS[seed % HEAD_DIMS.length]!, blockSize: seed % 2 === 0 && !s.sharedPages ? 16 : s.blockSize };
}

/** Counts calls of a WasmKernels method, to show the WebAssembly path ran (not a fallback). */
function countCalls(backend: CpuBackend, name: "attendItems" | "attendHalfItems"): { n: number } {
  const w = backend.wasm!, orig = w[name].bind(w), c = { n: 0 };
  w[name] = (tableAt: number, count: number, headDim: number, scale: number, keys: number) => { c.n++; return orig(tableAt, count, headDim, scale, keys); };
  return c;
}

/** Index of the first element whose bits differ (NaN equals NaN), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

/** K/V rows [n, kvDim] through the quantized cache and back (what the cache holds, dequantized). */
function dequantized(q: KvCacheQuantizer, rows: Float32Array): Float32Array {
  const kvDim = q.numKvHeads * q.headDim, n = rows.length / kvDim;
  const cache = new Int32Array(Math.max(1, n) * q.wordsPerToken), views = q.views(cache), out = new Float32Array(rows.length);
  for (let p = 0; p < n; p++) q.store(views, p, rows, p * kvDim);
  for (let p = 0; p < n; p++) q.load(views, p, out, p * kvDim);
  return out;
}

/** The case with every K/V row replaced by its dequantized value (inputs and dense view). */
function dequantizedCase(c: AttnCase, dtype: KvCacheStoredDtype): AttnCase {
  const q = new KvCacheQuantizer(dtype, c.shape.numKvHeads, c.shape.headDim);
  const dense: DenseRequest[] = c.dense.map((r) => ({ ...r, k: Float64Array.from(dequantized(q, Float32Array.from(r.k))), v: Float64Array.from(dequantized(q, Float32Array.from(r.v))) }));
  return {
    ...c, dense,
    setupQkv: [c.setupQkv[0], dequantized(q, c.setupQkv[1]), dequantized(q, c.setupQkv[2])],
    stepQkv: [c.stepQkv[0], dequantized(q, c.stepQkv[1]), dequantized(q, c.stepQkv[2])],
  };
}

/** Extreme values for the f16 cache: some K/V/q values beyond the half range (±inf as halves), some subnormal as halves. */
function withExtremes(c: AttnCase, seed: number): AttnCase {
  const rng = new Prng(seed * 31 + 7);
  const warp = (a: Float32Array, pInf: number): Float32Array => a.map((x) => {
    const u = rng.nextFloat();
    if (u < pInf) return x < 0 ? -70000 : 70000;
    if (u < 0.3) return x * 4e-5; // |x| < 4e-5 < 6.1e-5: a subnormal half (or 0)
    return x;
  });
  return {
    ...c,
    setupQkv: [warp(c.setupQkv[0], 0.002), warp(c.setupQkv[1], 0.002), warp(c.setupQkv[2], 0.002)],
    stepQkv: [warp(c.stepQkv[0], 0.002), warp(c.stepQkv[1], 0.002), warp(c.stepQkv[2], 0.002)],
  };
}

/**
 * q = 0, so every score is 0 and every weight exactly 1: the f16 accumulator sums V halves, whose
 * rounding hits ties (to even), overflow to inf and subnormal results; V log-uniform in ±[1e-7, 3e4].
 */
function sumsOfHalves(c: AttnCase, seed: number): AttnCase {
  const rng = new Prng(seed * 17 + 3);
  const v = (a: Float32Array) => a.map(() => (rng.nextFloat() < 0.5 ? -1 : 1) * 10 ** (-7 + rng.nextFloat() * 11.5));
  return {
    ...c,
    setupQkv: [c.setupQkv[0].map(() => 0), c.setupQkv[1], v(c.setupQkv[2])],
    stepQkv: [c.stepQkv[0].map(() => 0), c.stepQkv[1], v(c.stepQkv[2])],
  };
}

/** q and K scaled by 60 (still finite halves): softmax arguments spread over thousands, through every range of dexp (k < -1000, below -745: 0). */
function wideScores(c: AttnCase): AttnCase {
  const x60 = (a: Float32Array) => a.map((x) => x * 60);
  return { ...c, setupQkv: [x60(c.setupQkv[0]), x60(c.setupQkv[1]), c.setupQkv[2]], stepQkv: [x60(c.stepQkv[0]), x60(c.stepQkv[1]), c.stepQkv[2]] };
}

/** One large case (8 query heads over 2 KV heads, headDim 64, 4 decodes of ~150 keys): enough work for the worker pool. */
function largeCase(): AttnCase {
  const spec: CaseSpec = { numHeads: 8, numKvHeads: 2, headDim: 64, blockSize: 16, reqs: [150, 133, 160, 128].map((ctxLen) => ({ ctxLen, qLen: 1 })) };
  return buildCase(spec, 4242);
}

describe.skipIf(!wasmSimdAvailable())("paged attention: WebAssembly over the int8, fp8 and f16 KV caches", () => {
  it("f16: wasm/attend-half.ts gives the JavaScript half-precision attention's bits; seeds 1..40 (plus subnormal and infinite halves, sums of halves with ties, wide scores)", async () => {
    let finite = 0, nonFinite = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const spec = specOf(seed);
      for (const c of [buildCase(spec, seed), withExtremes(buildCase(spec, seed), seed), sumsOfHalves(buildCase(spec, seed), seed), wideScores(buildCase(spec, seed))]) {
        const wasmBackend = new CpuBackend();
        const calls = countCalls(wasmBackend, "attendHalfItems");
        const viaWasm = await run(wasmBackend, c, "f16");
        const viaJs = await run(new CpuBackend({ wasm: false }), c, "f16");
        expect(calls.n, `seed ${seed}: wasm path ran`).toBeGreaterThan(0);
        const i = firstDiff(viaWasm, viaJs);
        expect(i, `seed ${seed} ${JSON.stringify(spec)}: element ${i} wasm ${viaWasm[i]} js ${viaJs[i]}`).toBe(-1);
        for (const x of viaWasm) if (Number.isFinite(x)) finite++; else nonFinite++;
      }
    }
    // The extreme cases did reach infinities/NaN (overflowing halves) and most outputs stay finite.
    expect(nonFinite).toBeGreaterThan(0);
    expect(finite, `finite ${finite}, not ${nonFinite}`).toBeGreaterThan(4 * nonFinite);
  });

  it("f16: same bits on 1 and 2 threads (the pool splits items) and as the JavaScript loops, on a large decode batch", async () => {
    const c = largeCase();
    const two = new CpuBackend({ threads: 2 });
    const viaTwo = await run(two, c, "f16");
    expect(two.wasm!.poolStatus(), "the worker pool ran").not.toBeNull();
    const viaOne = await run(new CpuBackend(), c, "f16");
    const viaJs = await run(new CpuBackend({ wasm: false }), c, "f16");
    expect(firstDiff(viaTwo, viaOne)).toBe(-1);
    expect(firstDiff(viaOne, viaJs)).toBe(-1);
    two.wasm!.dispose();
  });

  it("f16 with soft-capped scores keeps the JavaScript path (same bits with and without wasm)", async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const spec = { ...specOf(seed), logitsSoftCap: 2 };
      const c = buildCase(spec, seed);
      const wasmBackend = new CpuBackend();
      const calls = countCalls(wasmBackend, "attendHalfItems");
      const viaWasm = await run(wasmBackend, c, "f16");
      expect(calls.n).toBe(0);
      expect(firstDiff(viaWasm, await run(new CpuBackend({ wasm: false }), c, "f16")), `seed ${seed}`).toBe(-1);
    }
  });

  for (const dtype of ["int8", "fp8"] as const) {
    it(`${dtype}: the f32-cache WebAssembly path's bits on the dequantized values, within 2e-6 x max|V| of f64; seeds 1..40`, async () => {
      for (let seed = 1; seed <= 40; seed++) {
        const spec = specOf(seed);
        const c = buildCase(spec, seed), dq = dequantizedCase(c, dtype);
        const wasmBackend = new CpuBackend();
        const calls = countCalls(wasmBackend, "attendItems");
        const viaQuant = await run(wasmBackend, c, dtype);
        const viaF32 = await run(new CpuBackend(), dq);
        if (spec.headDim % 4 === 0) expect(calls.n, `seed ${seed}: wasm path ran`).toBeGreaterThan(0);
        const i = firstDiff(viaQuant, viaF32);
        expect(i, `seed ${seed} ${JSON.stringify(spec)}: element ${i} quant ${viaQuant[i]} f32 ${viaF32[i]}`).toBe(-1);
        const ref = denseAttention(dq.dense, { numHeads: spec.numHeads, numKvHeads: spec.numKvHeads, headDim: spec.headDim, smScale: c.shape.smScale, causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: null });
        let vmax = 0, err = 0;
        for (const r of dq.dense) for (const x of r.v) vmax = Math.max(vmax, Math.abs(x));
        const qDim = spec.numHeads * spec.headDim;
        ref.forEach((o, r) => { const base = c.step.queryStartLoc[r]! * qDim; for (let j = 0; j < o.length; j++) err = Math.max(err, Math.abs(viaQuant[base + j]! - o[j]!)); });
        expect(err / Math.max(vmax, 1e-30), `seed ${seed} ${JSON.stringify(spec)}`).toBeLessThanOrEqual(2e-6);
      }
    });
  }

  it("int8: same bits on 1 and 2 threads on a large decode batch", async () => {
    const c = largeCase();
    const two = new CpuBackend({ threads: 2 });
    const viaTwo = await run(two, c, "int8");
    expect(two.wasm!.poolStatus(), "the worker pool ran").not.toBeNull();
    expect(firstDiff(viaTwo, await run(new CpuBackend(), c, "int8"))).toBe(-1);
    two.wasm!.dispose();
  });
});
