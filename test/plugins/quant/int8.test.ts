import { describe, expect, it } from "vitest";
import { dequantizeInt8, quantizeInt8, quantizeRowsInt8 } from "../../../src/quant/int8.ts";
import { int8DynamicQuantPlugin, int8QuantPlugin, makeInt8Plugin } from "../../../plugins/quant/int8/index.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { QuantizationError } from "../../../src/quant/errors.ts";
import { bytesTensor, cpuBackend, f32Tensor, matmulF64, maxRelDiff, ODD_SHAPES, randomMatrix, runLinear } from "./helpers.ts";

describe("int8 per-channel symmetric", () => {
  it("pack/unpack: scale = max|row| / 127, codes in [-127, 127], error <= scale / 2", () => {
    const rows = 11, cols = 29;
    const w = randomMatrix(rows * cols, 3);
    w.fill(0, 0, cols); // an all-zero row gets scale 0 and codes 0
    const q = quantizeInt8(w, rows, cols);
    const back = dequantizeInt8(q);
    expect(q.scales[0]).toBe(0);
    for (let r = 0; r < rows; r++) {
      let amax = 0;
      for (let p = 0; p < cols; p++) amax = Math.max(amax, Math.abs(w[r * cols + p]!));
      expect(q.scales[r]).toBe(Math.fround(amax / 127));
      for (let p = 0; p < cols; p++) {
        expect(Math.abs(q.q[r * cols + p]!)).toBeLessThanOrEqual(127);
        expect(Math.abs(back[r * cols + p]! - w[r * cols + p]!)).toBeLessThanOrEqual(q.scales[r]! / 2 + 1e-7);
      }
    }
  });

  it("weight-only kernel equals dequantize-then-f64 on odd shapes", async () => {
    for (const { n, m } of ODD_SHAPES) {
      const k = 51;
      const w = randomMatrix(m * k, 5 + m), x = randomMatrix(n * k, 9 + n);
      const { out, method } = await runLinear(int8QuantPlugin, f32Tensor("blk.0.ffn_up.weight", w, k, m), x, n);
      expect(maxRelDiff(out, matmulF64(x, dequantizeInt8(quantizeInt8(w, m, k)), n, k, m))).toBeLessThan(1e-6);
      expect(method.weightBytes).toBe(m * k + 4 * m);
    }
  });

  it("dynamic kernel: integer dot products of per-token int8 activations equal the f64 product of both dequantized sides", async () => {
    for (const { n, m } of ODD_SHAPES) {
      const k = 77;
      const w = randomMatrix(m * k, 15 + m), x = randomMatrix(n * k, 19 + n);
      const { out } = await runLinear(int8DynamicQuantPlugin, f32Tensor("blk.0.attn_v.weight", w, k, m), x, n);
      const xq = new Int8Array(n * k), xs = new Float32Array(n);
      quantizeRowsInt8(x, n, k, xq, xs);
      const xd = dequantizeInt8({ rows: n, cols: k, q: xq, scales: xs });
      expect(maxRelDiff(out, matmulF64(xd, dequantizeInt8(quantizeInt8(w, m, k)), n, k, m))).toBeLessThan(1e-6);
      // and it stays close to the f32 product
      expect(maxRelDiff(out, matmulF64(x, w, n, k, m))).toBeLessThan(0.05);
    }
  });

  it("keeps the output head f32 by default; head: 'same' quantizes it", async () => {
    const k = 16, m = 8, w = randomMatrix(k * m, 1), x = randomMatrix(k, 2);
    const kept = await runLinear(int8QuantPlugin, f32Tensor("output.weight", w, k, m), x, 1);
    expect((kept.method as { scheme?: string }).scheme).toBe("f32");
    expect(kept.method.weightBytes).toBe(k * m * 4);
    const same = await runLinear(makeInt8Plugin({ dynamic: false, head: "same", name: "int8-all" }), f32Tensor("output.weight", w, k, m), x, 1);
    expect((same.method as { scheme?: string }).scheme).toBe("int8 per-channel");
  });

  it("refuses tensor types it cannot read, and other backends, with the alternatives", async () => {
    const backend = await cpuBackend();
    const q40 = bytesTensor("blk.0.attn_q.weight", GGMLType.Q4_0, new Uint8Array(18 * 2), 32, 2);
    const reasons = int8QuantPlugin.check(backend, [q40]);
    expect(reasons.join("\n")).toMatch(/int8 quantizes float weights at load and cannot read tensor type Q4_0 \(blk\.0\.attn_q\.weight\); readable: F32, F16, BF16/);
    expect(() => int8QuantPlugin.createLinear({ name: q40.name, tensor: q40, inFeatures: 32, outFeatures: 2 }, backend)).toThrow(QuantizationError);
    const gpu = { ...backend, name: "webgpu" };
    expect(int8DynamicQuantPlugin.check(gpu, [])).toEqual([`int8-dynamic has no kernels for backend "webgpu" (has: cpu)`]);
    expect(() => quantizeInt8(new Float32Array(5), 2, 3)).toThrow(/5 values for shape \[2, 3\]/);
  });
});
