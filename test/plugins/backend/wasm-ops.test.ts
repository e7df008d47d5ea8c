/**
 * wasm/ops.ts against the JavaScript kernels (plugins/backend/cpu/kernels.ts): RMSNorm gives
 * identical bits, SiLU-mul (f32 SIMD) agrees within 1e-6 relative, and dexp equals det-math's,
 * over wide and awkward inputs.
 */
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import type { CpuTensor } from "../../../plugins/backend/cpu/tensor.ts";
import { dexp } from "../../../src/util/det-math.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const data = (t: unknown) => (t as CpuTensor).data as Float32Array;

describe.skipIf(!wasmSimdAvailable())("wasm ops", () => {
  it("dexp equals det-math's dexp bit for bit", () => {
    const ops = new CpuBackend().wasm!.ops()!;
    const r = new Prng(1);
    const xs = [0, -0, 1, -1, 0.5, -0.5, 709.78, 709.79, -745.13, -745.14, -708.5, -720, 1e-300, NaN, Infinity, -Infinity];
    for (let i = 0; i < 20000; i++) xs.push((r.nextFloat() * 2 - 1) * (i % 2 ? 30 : 800));
    for (const x of xs) expect(Object.is(ops.dexp(x), dexp(x)), `dexp(${x})`).toBe(true);
  });

  it("rmsNorm gives the JavaScript kernel's bits; siluMul agrees within 1e-6 relative", () => {
    const r = new Prng(2);
    for (const [n, dim] of [[1, 1], [3, 7], [5, 64], [17, 130]] as const) {
      const x = Float32Array.from({ length: n * dim }, () => (r.nextFloat() * 2 - 1) * (r.nextFloat() < 0.1 ? 40 : 3));
      const g = Float32Array.from({ length: n * dim }, (_, i) => i === 0 ? 95 : i === 1 ? -95 : (r.nextFloat() * 2 - 1) * 12);
      const w = Float32Array.from({ length: dim }, () => r.nextFloat() * 2);
      const outs = [true, false].map((wasm) => {
        const b = new CpuBackend({ wasm });
        const xt = b.upload(x, [n, dim]), gt = b.upload(g, [n, dim]), wt = b.upload(w, [dim]);
        const o1 = b.empty([n, dim]), o2 = b.empty([n, dim]);
        b.ops.rmsNorm(o1, xt, wt, 1e-5, n);
        b.ops.siluMul(o2, gt, xt, n);
        if (wasm) expect(b.wasm!.addressOf(data(o1))).toBeGreaterThan(0);
        return [data(o1), data(o2)];
      });
      expect(Array.from(outs[0]![0]!)).toEqual(Array.from(outs[1]![0]!));
      const [a, b] = [outs[0]![1]!, outs[1]![1]!];
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `silu ${i}: ${g[i]} * ${x[i]}`).toBeLessThanOrEqual(1e-6 * Math.abs(g[i]! * x[i]!) + 1e-12);
    }
  });
});
