/**
 * ops.wasm attendItems taking consecutive items with the same keys together (attend-f32.ts
 * attendGroup: a GQA group's query heads at one position, in the order plugins/attention/paged/
 * cpu-wasm.ts writes the table) must give each item the bits it gets alone: random causal batches
 * (GQA groups of 1 to 10 heads, ragged prefill chunks and decodes, lengths that are not multiples
 * of 4, sliding windows, head sizes 4 to 64) run once with a group-major table and once head-major
 * (no two consecutive items share their length and keys, so none is grouped), compared bit for bit;
 * also with scratch sizes that cap a group or send long rows to the online softmax, and split over
 * 1, 2 and 3 threads.
 */
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable, type WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { Prng } from "../../../src/sampling/prng.ts";

interface Spec {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  blockSize: number;
  window: number | null;
  /** Per request: keys before this step and the step's query count. */
  reqs: { ctx: number; q: number }[];
}

/** One random spec (seeded): groups 1..10, head sizes 4..64, ragged requests. */
function randomGroupSpec(seed: number): Spec {
  const rng = new Prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.nextFloat() * a.length)]!;
  const numKvHeads = pick([1, 2, 3]), group = pick([1, 2, 3, 4, 5, 7, 8, 10]);
  const reqs = Array.from({ length: 1 + Math.floor(rng.nextFloat() * 3) }, () => {
    const decode = rng.nextFloat() < 0.3;
    return { ctx: Math.floor(rng.nextFloat() * 90), q: decode ? 1 : 1 + Math.floor(rng.nextFloat() * 40) };
  });
  return {
    numHeads: numKvHeads * group, numKvHeads, headDim: pick([4, 8, 12, 20, 64]), blockSize: pick([4, 16]),
    window: rng.nextFloat() < 0.3 ? 1 + Math.floor(rng.nextFloat() * 30) : null, reqs,
  };
}

interface Built {
  count: number;
  keys: number;
  /** Item tables (six words each), group-major and head-major, over the same items. */
  grouped: Int32Array;
  headMajor: Int32Array;
}

/**
 * q, K/V cache (random blocks per request), offsets and both tables in the backend's wasm memory;
 * `out` selects which output array the tables' items write (two runs, two arrays).
 */
function build(w: WasmKernels, s: Spec, seed: number, outs: [Float32Array, Float32Array]): Built {
  const rng = new Prng(seed * 7 + 1);
  const kvDim = s.numKvHeads * s.headDim, group = s.numHeads / s.numKvHeads;
  const seqLens = s.reqs.map((r) => r.ctx + r.q), numTokens = s.reqs.reduce((a, r) => a + r.q, 0);
  const blocksOf = seqLens.map((n) => Math.ceil(n / s.blockSize)), numBlocks = blocksOf.reduce((a, b) => a + b, 0);
  const at = (a: ArrayBufferView) => w.addressOf(a);
  const q = w.allocArray(Float32Array, numTokens * s.numHeads * s.headDim)!;
  const k = w.allocArray(Float32Array, numBlocks * s.blockSize * kvDim)!, v = w.allocArray(Float32Array, numBlocks * s.blockSize * kvDim)!;
  for (const a of [q, k, v]) for (let i = 0; i < a.length; i++) a[i] = (rng.nextFloat() * 2 - 1) * 3;
  // Blocks handed out in a shuffled order, so a request's rows are not contiguous.
  const perm = Array.from({ length: numBlocks }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) { const j = Math.floor(rng.nextFloat() * (i + 1)); [perm[i], perm[j]] = [perm[j]!, perm[i]!]; }
  const offs = w.allocArray(Int32Array, Math.max(1, seqLens.reduce((a, b) => a + b, 0)))!;
  const items: { r: number; g: number; h: number; t: number; words: number[] }[] = [];
  let base = 0, blk = 0, tok = 0, keys = 0;
  s.reqs.forEach((req, r) => {
    const blocks = perm.slice(blk, blk + blocksOf[r]!);
    blk += blocksOf[r]!;
    for (let p = 0; p < seqLens[r]!; p++) offs[base + p] = (blocks[Math.floor(p / s.blockSize)]! * s.blockSize + (p % s.blockSize)) * kvDim;
    for (let i = 0; i < req.q; i++) {
      const t = tok + i, pos = req.ctx + i;
      const start = s.window === null ? 0 : Math.max(0, pos - s.window + 1), len = pos + 1 - start;
      for (let h = 0; h < s.numHeads; h++) {
        const g = Math.floor(h / group), qo = (t * s.numHeads + h) * s.headDim * 4;
        keys += len;
        items.push({ r, g, h, t, words: [qo, at(q) + qo, at(k) + g * s.headDim * 4, at(v) + g * s.headDim * 4, at(offs) + (base + start) * 4, len] });
      }
    }
    base += seqLens[r]!;
    tok += req.q;
  });
  const table = (order: typeof items, out: Float32Array) => {
    const tb = w.allocArray(Int32Array, Math.max(6, order.length * 6))!;
    order.forEach((it, n) => { tb.set(it.words, n * 6); tb[n * 6] = at(out) + it.words[0]!; });
    return tb;
  };
  const byGroup = [...items].sort((a, b) => a.r - b.r || a.g - b.g || a.t - b.t || a.h - b.h);
  const byHead = [...items].sort((a, b) => a.r - b.r || a.h - b.h || a.t - b.t);
  return { count: items.length, keys, grouped: table(byGroup, outs[0]), headMajor: table(byHead, outs[1]) };
}

/** Index of the first element whose bits differ (NaN equals NaN), or -1. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

function outputsFor(w: WasmKernels, s: Spec): [Float32Array, Float32Array] {
  const n = s.reqs.reduce((a, r) => a + r.q, 0) * s.numHeads * s.headDim;
  return [w.allocArray(Float32Array, n)!, w.allocArray(Float32Array, n)!];
}

describe.skipIf(!wasmSimdAvailable())("cpu (WebAssembly) attention: grouped items", () => {
  it("a group-major table gives the head-major table's bits (each item as alone) on 40 random batches and 4 scratch sizes", () => {
    const backend = new CpuBackend({ threads: 1 });
    const w = backend.wasm!, ops = w.ops()!;
    const scratch = (w as unknown as { scratch: { at: number; bytes: number } }).scratch;
    const failures: string[] = [];
    try {
      for (let seed = 1; seed <= 40; seed++) {
        const spec = randomGroupSpec(seed), outs = outputsFor(w, spec), b = build(w, spec, seed, outs);
        // Full scratch; room for a few rows (groups capped); under one row (no groups, long rows online).
        for (const bytes of [scratch.bytes, 600, 260, 16]) {
          ops.setScratch!(scratch.at, bytes);
          outs[0].fill(NaN); outs[1].fill(NaN);
          const scale = 1 / Math.sqrt(spec.headDim);
          w.attendItems(w.addressOf(b.grouped), b.count, spec.headDim, scale, b.keys);
          w.attendItems(w.addressOf(b.headMajor), b.count, spec.headDim, scale, b.keys);
          const i = firstDiff(outs[0], outs[1]);
          if (i >= 0) failures.push(`seed ${seed} scratch ${bytes}: element ${i} grouped ${outs[0][i]} alone ${outs[1][i]} for ${JSON.stringify(spec)}`);
          if (outs[0].some((x) => Number.isNaN(x))) failures.push(`seed ${seed} scratch ${bytes}: an output was not written`);
        }
      }
    } finally {
      ops.setScratch!(scratch.at, scratch.bytes);
      backend.dispose();
    }
    expect(failures).toEqual([]);
  });

  it("the group path runs: a group leaves its inverse sums after its score rows in the scratch, a lone item does not", () => {
    const backend = new CpuBackend({ threads: 1 });
    const w = backend.wasm!;
    const scratch = (w as unknown as { scratch: { at: number; bytes: number } }).scratch;
    const view = new Float32Array((w as unknown as { memory: WebAssembly.Memory }).memory.buffer, scratch.at, 256);
    try {
      // One query at position 36 (37 keys), three query heads over one KV head: score rows of 40
      // floats (37 rounded up to a multiple of 4), then the three 1/Σp at float 120.
      const spec: Spec = { numHeads: 3, numKvHeads: 1, headDim: 8, blockSize: 16, window: null, reqs: [{ ctx: 36, q: 1 }] };
      const outs = outputsFor(w, spec), b = build(w, spec, 5, outs);
      view.fill(NaN);
      w.attendItems(w.addressOf(b.grouped), b.count, spec.headDim, 0.35, b.keys);
      const inv = Array.from(view.subarray(120, 123));
      expect(inv.every((x) => Number.isFinite(x) && x > 0 && x <= 1), `1/sum: ${inv}`).toBe(true);
      // The same items one table entry at a time (lone items): one row of weights, nothing at float 120.
      view.fill(NaN);
      for (let i = 0; i < 3; i++) w.attendItems(w.addressOf(b.headMajor) + i * 24, 1, spec.headDim, 0.35, 37);
      expect(Number.isFinite(view[0]!) && Number.isNaN(view[120]!)).toBe(true);
      expect(firstDiff(outs[0], outs[1])).toBe(-1);
    } finally {
      backend.dispose();
    }
  });

  it("the same bits on 1, 2 and 3 threads (the pool may split a group)", () => {
    const runs: Float32Array[] = [];
    const spec: Spec = { numHeads: 9, numKvHeads: 3, headDim: 64, blockSize: 16, window: null, reqs: [{ ctx: 0, q: 70 }, { ctx: 40, q: 33 }, { ctx: 90, q: 1 }] };
    for (const threads of [1, 2, 3]) {
      const backend = new CpuBackend({ threads });
      const w = backend.wasm!;
      try {
        const outs = outputsFor(w, spec), b = build(w, spec, 11, outs);
        w.attendItems(w.addressOf(b.grouped), b.count, spec.headDim, 0.125, b.keys);
        if (threads > 1) expect(w.poolStatus(), "the worker pool ran").not.toBeNull();
        runs.push(Float32Array.from(outs[0]));
        if (threads === 1) {
          w.attendItems(w.addressOf(b.headMajor), b.count, spec.headDim, 0.125, b.keys);
          expect(firstDiff(outs[0], outs[1])).toBe(-1);
        }
      } finally {
        backend.dispose();
      }
    }
    expect(firstDiff(runs[0]!, runs[1]!)).toBe(-1);
    expect(firstDiff(runs[0]!, runs[2]!)).toBe(-1);
  });
});
