/** Flex internals: mod inlining, the block mask, skipping the mask on full blocks, the dense flexAttention API. */
import { describe, expect, it } from "vitest";
import { generateKernel } from "../../../plugins/attention/flex/codegen.ts";
import { createBlockMask } from "../../../plugins/attention/flex/block-mask.ts";
import { inlineExpr, splitFunction } from "../../../plugins/attention/flex/expr.ts";
import { alibi, and, causal, compileFlex, flexAttention, maskMod, prefixLm, scoreMod, slidingWindow } from "../../../plugins/attention/flex/index.ts";
import { maskClosure, scoreClosure } from "../../../plugins/attention/flex/mods.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { denseAttention } from "./dense-reference.ts";

const SCORE = ["score", "b", "h", "q_idx", "kv_idx"];

describe("flex: compiling mods into the kernel", () => {
  it("splits single-expression functions in every form a transpiler prints", () => {
    expect(splitFunction("(s, b, h, q, kv) => s + q - kv")).toEqual({ params: ["s", "b", "h", "q", "kv"], body: "s + q - kv" });
    expect(splitFunction("score=>score*2")).toEqual({ params: ["score"], body: "score*2" });
    expect(splitFunction("(b, h, q, kv) => {\n    return kv <= q;\n  }")).toEqual({ params: ["b", "h", "q", "kv"], body: "kv <= q" });
    expect(splitFunction("function (b, h, q, kv) { return kv <= q; }")).toEqual({ params: ["b", "h", "q", "kv"], body: "kv <= q" });
    expect(splitFunction("(b, h, q, kv) => { const d = q - kv; return d < 4; }")).toBeNull();
    expect(splitFunction("({ a }) => a")).toBeNull();
  });

  it("renames parameters and params, maps Math to det-math, and refuses anything else", () => {
    const r = inlineExpr((s: number, _b: number, h: number, q: number, kv: number) => s * Math.exp(-slope * Math.abs(q - kv)) + bias[h]!, SCORE, { slope: 0.5, bias: [1, 2] }, "P0");
    const slope = 0, bias = [0]; void slope; void bias;
    if ("error" in r) throw new Error(r.error);
    expect(r.code).toBe("(score * D.exp ( - P0_slope * Math.abs ( q_idx - kv_idx ) ) + P0_bias [ h ])");
    expect([...r.uses].sort()).toEqual(["h", "kv_idx", "q_idx", "score"]);
    expect([...r.consts.keys()]).toEqual(["P0_slope", "P0_bias"]);
    const bad = (src: string) => (inlineExpr(src, SCORE, { w: 1 }, "P") as { error: string }).error;
    expect(bad("score + globalThis.x")).toMatch(/unknown name 'globalThis'/);
    expect(bad("score + w.constructor")).toMatch(/property '.constructor' is not allowed/);
    expect(bad("score + 'x'")).toMatch(/unexpected character/);
    expect(bad("score = 1")).toMatch(/unexpected character '='/);
    expect(bad("score + Math.random()")).toMatch(/Math.random is not supported/);
    expect(bad("score + (")).toMatch(/does not parse/);
    expect(inlineExpr("score + w * tanh(q_idx)", SCORE, { w: 1 }, "P")).toMatchObject({ code: "(score + P_w * D.tanh ( q_idx ))" });
  });

  it("a mod that cannot be inlined still runs (a call per element) and says so", () => {
    const twoStatements = maskMod((b, h, q, kv) => { const d = q - kv; return d >= 0 && d < 3; }, {}, "two-statements");
    const k = generateKernel(undefined, and(causal(), twoStatements), 0.5);
    expect(k.notes).toEqual(["mod 'two-statements' runs as a call per element: not a single-expression function"]);
    expect(k.source).toContain("F[0](b, h, q_idx, kv_idx)");
    const ref = flexCase(7, { mask: and(causal(), slidingWindow(3)) });
    const got = compileFlex({ maskMod: and(causal(), twoStatements), scale: ref.scale }).run(ref.q, ref.k, ref.v, ref.dims);
    expect(maxDiff(got, ref.out)).toBeLessThan(1e-6);
  });
});

describe("flex: block mask", () => {
  const input = (qPos: number[], seqLen: number) => ({ numReqs: 1, queryStartLoc: Int32Array.from([0, qPos.length]), seqLens: Int32Array.from([seqLen]), positions: Int32Array.from(qPos) });
  const lists = (bm: ReturnType<typeof createBlockMask>) => bm.tiles.map((_, e) => ({
    partial: [...bm.kvIndices.subarray(bm.kvIndptr[e], bm.kvIndptr[e + 1])], full: [...bm.fullKvIndices.subarray(bm.fullKvIndptr[e], bm.fullKvIndptr[e + 1])],
  }));

  it("causal prefill: blocks below the diagonal full, on it partial, above it absent", () => {
    const k = generateKernel(undefined, causal(), 1);
    const bm = createBlockMask(k, input(Array.from({ length: 12 }, (_, i) => i), 12), 2, 2, 4, 4);
    expect(lists(bm)).toEqual([{ partial: [0], full: [] }, { partial: [1], full: [0] }, { partial: [2], full: [0, 1] }]);
  });

  it("decode: every block full, so the kernel never evaluates the mask; a window drops blocks entirely", () => {
    let calls = 0;
    const counted = maskMod((b, h, q, kv) => { calls++; return kv <= q; }, {}, "counted");
    const k = generateKernel(undefined, counted, 1);
    const bm = createBlockMask(k, input([99], 100), 2, 2, 16, 16);
    expect(lists(bm)).toEqual([{ partial: [], full: [0, 1, 2, 3, 4, 5, 6] }]);
    expect(calls).toBe(200); // once per (query, key, KV head) while planning: a mod that is not inlined may read h
    const win = createBlockMask(generateKernel(undefined, and(causal(), slidingWindow(25)), 1), input([99], 100), 2, 2, 16, 16);
    expect(lists(win)).toEqual([{ partial: [4], full: [5, 6] }]);
  });

  it("the kernel evaluates the mask only on partial blocks", () => {
    let calls = 0;
    const counted = maskMod((b, h, q, kv) => { calls++; return kv <= q; }, {}, "counted");
    const c = flexCase(3, { mask: causal() }, { L: 64, S: 64 });
    const f = compileFlex({ maskMod: counted, scale: c.scale });
    const bm = f.blockMask(c.dims.B, c.dims.L, c.dims.S, c.dims.Hq, c.dims.Hkv, 16);
    calls = 0;
    const got = f.run(c.q, c.k, c.v, c.dims, bm);
    // Per batch and KV head: 4 diagonal 16x16 blocks are partial (and the full ones are skipped).
    expect(calls).toBe(c.dims.B * c.dims.Hkv * (c.dims.Hq / c.dims.Hkv) * 4 * 16 * 16);
    expect(maxDiff(got, c.out)).toBeLessThan(1e-6);
  });
});

/** A random dense problem and its fp64 reference output in [B, Hq, L, E] layout. */
function flexCase(seed: number, mods: { mask?: Parameters<typeof maskClosure>[0]; score?: Parameters<typeof scoreClosure>[0] }, size: { L?: number; S?: number } = {}) {
  const rng = new Prng(seed);
  const dims = { B: 2, Hq: 4, Hkv: 2, L: size.L ?? 37, S: size.S ?? 37, E: 32 };
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.nextFloat() * 2 - 1);
  const q = rand(dims.B * dims.Hq * dims.L * dims.E), k = rand(dims.B * dims.Hkv * dims.S * dims.E), v = rand(dims.B * dims.Hkv * dims.S * dims.E);
  const scale = 1 / Math.sqrt(dims.E);
  // Reorder to the reference's per-request [pos, heads * E] rows.
  const reqs = Array.from({ length: dims.B }, (_, b) => {
    const rows = (t: Float32Array, H: number, N: number) => {
      const o = new Float64Array(N * H * dims.E);
      for (let h = 0; h < H; h++) for (let i = 0; i < N; i++) for (let e = 0; e < dims.E; e++) o[(i * H + h) * dims.E + e] = t[((b * H + h) * N + i) * dims.E + e]!;
      return o;
    };
    return { q: rows(q, dims.Hq, dims.L), qPos: Array.from({ length: dims.L }, (_, i) => i), k: rows(k, dims.Hkv, dims.S), v: rows(v, dims.Hkv, dims.S), seqLen: dims.S };
  });
  const ref = denseAttention(reqs, {
    numHeads: dims.Hq, numKvHeads: dims.Hkv, headDim: dims.E, smScale: scale, causal: false, slidingWindow: null, logitsSoftCap: null,
    ...(mods.mask ? { maskMod: maskClosure(mods.mask) } : {}), ...(mods.score ? { scoreMod: scoreClosure(mods.score) } : {}),
  });
  const out = new Float64Array(q.length);
  ref.forEach((o, b) => { for (let h = 0; h < dims.Hq; h++) for (let i = 0; i < dims.L; i++) for (let e = 0; e < dims.E; e++) out[((b * dims.Hq + h) * dims.L + i) * dims.E + e] = o[(i * dims.Hq + h) * dims.E + e]!; });
  return { dims, q, k, v, scale, out };
}

function maxDiff(a: Float32Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("flex: flexAttention() on dense tensors (PyTorch's layout)", () => {
  for (const [name, mods] of [
    ["prefix-LM", { mask: prefixLm(9) }],
    ["causal + ALiBi", { mask: causal(), score: alibi(4) }],
    ["no mask, custom score", { score: scoreMod((s, b, h, q, kv) => s * 0.5 + (b === 1 ? 0.25 : 0), {}, "half") }],
  ] as const) {
    it(`${name} matches the dense reference`, () => {
      const c = flexCase(11, mods);
      const got = flexAttention(c.q, c.k, c.v, c.dims, { ...("mask" in mods ? { maskMod: mods.mask } : {}), ...("score" in mods ? { scoreMod: mods.score } : {}) });
      expect(maxDiff(got, c.out)).toBeLessThan(1e-6);
    });
  }
});
