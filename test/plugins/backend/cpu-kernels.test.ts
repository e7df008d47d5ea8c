import { describe, expect, it } from "vitest";
import { matmulF32, rmsNorm, rope, siluMul } from "../../../plugins/backend/cpu/kernels.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const rand = (r: Prng, n: number) => Float32Array.from({ length: n }, () => r.nextFloat() * 2 - 1);

describe("cpu kernels against f64 references", () => {
  it("matmul over odd shapes (blocked and remainder paths), batch-invariant bits", () => {
    const r = new Prng(5);
    for (const [n, k, m] of [[1, 1, 1], [3, 7, 5], [4, 16, 4], [5, 33, 9], [9, 64, 13], [32, 96, 31]] as const) {
      const x = rand(r, n * k), w = rand(r, m * k), out = new Float32Array(n * m);
      matmulF32(out, x, w, n, k, m);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += x[i * k + p]! * w[j * k + p]!;
          expect(out[i * m + j], `${n}x${k}x${m} [${i},${j}]`).toBe(Math.fround(s));
        }
        // The same row alone gives the same bits as inside the batch.
        const one = new Float32Array(m);
        matmulF32(one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
        expect(Array.from(one)).toEqual(Array.from(out.subarray(i * m, (i + 1) * m)));
      }
    }
  });
  it("rmsnorm, silu-mul and rope (both layouts)", () => {
    const r = new Prng(6);
    const dim = 12, x = rand(r, 2 * dim), w = rand(r, dim), out = new Float32Array(2 * dim);
    rmsNorm(out, x, w, 1e-5, 2, dim);
    for (let i = 0; i < 2; i++) {
      let ss = 0;
      for (let p = 0; p < dim; p++) ss += x[i * dim + p]! ** 2;
      for (let p = 0; p < dim; p++) expect(out[i * dim + p]).toBeCloseTo((x[i * dim + p]! / Math.sqrt(ss / dim + 1e-5)) * w[p]!, 6);
    }
    const g = rand(r, 7), u = rand(r, 7), o = new Float32Array(7);
    siluMul(o, g, u, 7);
    for (let i = 0; i < 7; i++) expect(o[i]).toBeCloseTo((g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!, 6);
    for (const layout of ["normal", "neox"] as const) {
      const hd = 8, heads = 2, half = 4, pos = 3;
      const v = rand(r, heads * hd), ref = Float64Array.from(v);
      const cos = new Float32Array(4 * half), sin = new Float32Array(4 * half);
      for (let p = 0; p < 4; p++) for (let i = 0; i < half; i++) { cos[p * half + i] = Math.cos(p * 10000 ** (-2 * i / hd)); sin[p * half + i] = Math.sin(p * 10000 ** (-2 * i / hd)); }
      rope(v, Int32Array.from([pos]), cos, sin, layout, hd, heads, hd, 1);
      for (let h = 0; h < heads; h++) for (let i = 0; i < half; i++) {
        const a = h * hd + (layout === "normal" ? 2 * i : i), b = layout === "normal" ? a + 1 : a + half;
        const c = cos[pos * half + i]!, s = sin[pos * half + i]!;
        expect(v[a]).toBeCloseTo(ref[a]! * c - ref[b]! * s, 6);
        expect(v[b]).toBeCloseTo(ref[a]! * s + ref[b]! * c, 6);
      }
    }
  });
});
