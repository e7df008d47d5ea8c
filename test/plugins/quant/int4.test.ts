import { describe, expect, it } from "vitest";
import { dequantizeInt4, int4GroupProblem, quantizeInt4, unpackInt4 } from "../../../src/quant/int4.ts";
import { int4G128QuantPlugin, int4G64QuantPlugin, int4QuantPlugin, makeInt4Plugin } from "../../../plugins/quant/int4/index.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { QuantizationError } from "../../../src/quant/errors.ts";
import type { QuantLinearMethod } from "../../../src/quant/online.ts";
import { bytesTensor, cpuBackend, f32Tensor, matmulF64, maxRelDiff, ODD_SHAPES, randomMatrix, runLinear } from "./helpers.ts";

describe("int4 group-wise asymmetric", () => {
  it("packs element 2t in the low nibble and 2t + 1 in the high nibble; zero is exact", () => {
    // One group of 32: values -1..., chosen so min-max quantization is exact.
    const w = new Float32Array(32);
    for (let i = 0; i < 32; i++) w[i] = ((i % 16) - 5) * 0.25; // range [-1.25, 2.5], step 0.25 = 3.75 / 15
    const q = quantizeInt4(w, 1, 32, 32, { search: false });
    expect(q.scales[0]).toBe(0.25);
    expect(q.zeros[0]).toBe(5);
    expect(q.packed[0]).toBe(0 | (1 << 4)); // elements 0 and 1: codes 0 and 1
    expect([...unpackInt4(q)]).toEqual(Array.from({ length: 32 }, (_, i) => i % 16));
    expect([...dequantizeInt4(q)]).toEqual([...w]);
  });

  for (const g of [32, 64, 128]) {
    it(`group ${g}: round trip within half a step (min-max) and no worse with the range search`, () => {
      const rows = 5, cols = 256;
      const w = randomMatrix(rows * cols, g);
      const plain = quantizeInt4(w, rows, cols, g);
      const back = dequantizeInt4(plain);
      const groups = cols / g;
      let sePlain = 0, seSearch = 0;
      const searched = dequantizeInt4(quantizeInt4(w, rows, cols, g, { search: true }));
      for (let i = 0; i < w.length; i++) {
        const s = plain.scales[Math.floor(i / cols) * groups + Math.floor((i % cols) / g)]!;
        expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-6);
        sePlain += (back[i]! - w[i]!) ** 2;
        seSearch += (searched[i]! - w[i]!) ** 2;
      }
      expect(seSearch).toBeLessThanOrEqual(sePlain);
      expect(plain.packed.length).toBe((rows * cols) / 2);
      expect(plain.scales.length).toBe(rows * groups);
    });
  }

  for (const plugin of [int4QuantPlugin, int4G64QuantPlugin, int4G128QuantPlugin]) {
    it(`${plugin.name}: kernel equals dequantize-then-f64 on odd shapes`, async () => {
      const g = plugin.name === "int4" ? 32 : Number(plugin.name.slice(6));
      for (const { n, m } of ODD_SHAPES) {
        const k = 384;
        const w = randomMatrix(m * k, 31 + m), x = randomMatrix(n * k, 37 + n);
        const { out, method } = await runLinear(plugin, f32Tensor("blk.1.ffn_gate.weight", w, k, m), x, n);
        expect(maxRelDiff(out, matmulF64(x, dequantizeInt4(quantizeInt4(w, m, k, g)), n, k, m))).toBeLessThan(1e-6);
        expect((method as QuantLinearMethod).scheme).toBe(`int4 g${g}`);
        expect(method.weightBytes).toBe((m * k) / 2 + (m * k / g) * 5);
      }
    });
  }

  it("refuses a group size that does not divide the row, or is not supported, with clear errors", async () => {
    expect(int4GroupProblem(172, 32)).toBe("row length 172 is not a multiple of the int4 group size 32");
    expect(() => quantizeInt4(new Float32Array(2 * 172), 2, 172, 32)).toThrow(/row length 172 is not a multiple of the int4 group size 32/);
    expect(() => quantizeInt4(new Float32Array(66), 2, 33, 33)).toThrow(/int4 group size 33 is not a positive even integer; supported: 32, 64, 128/);
    expect(() => makeInt4Plugin({ groupSize: 48 })).toThrow(/int4 group size 48 is not supported; supported: 32, 64, 128/);
    const strict = makeInt4Plugin({ groupSize: 32, onIndivisible: "error", name: "int4-strict" });
    const t = f32Tensor("blk.0.ffn_down.weight", randomMatrix(172 * 4, 1), 172, 4);
    const backend = await cpuBackend();
    expect(() => strict.createLinear({ name: t.name, tensor: t, inFeatures: 172, outFeatures: 4 }, backend))
      .toThrow(/blk\.0\.ffn_down\.weight: row length 172 is not a multiple of the int4 group size 32/);
  });

  it("by default keeps a layer whose rows the group does not divide in f32, with the reason", async () => {
    const k = 172, m = 3;
    const w = randomMatrix(k * m, 2), x = randomMatrix(k, 3);
    const { out, method } = await runLinear(int4QuantPlugin, f32Tensor("blk.0.ffn_down.weight", w, k, m), x, 1);
    const q = method as QuantLinearMethod;
    expect(q.scheme).toBe("f32");
    expect(q.note).toBe("blk.0.ffn_down.weight kept f32: row length 172 is not a multiple of the int4 group size 32");
    expect(maxRelDiff(out, matmulF64(x, w, 1, k, m))).toBeLessThan(1e-6);
  });

  it("puts the output head at int8 by default (head: 'same' makes it int4)", async () => {
    const k = 64, m = 10, w = randomMatrix(k * m, 4), x = randomMatrix(k, 5);
    expect(((await runLinear(int4QuantPlugin, f32Tensor("output.weight", w, k, m), x, 1)).method as QuantLinearMethod).scheme).toBe("int8 per-channel");
    expect(((await runLinear(int4QuantPlugin, f32Tensor("token_embd.weight", w, k, m), x, 1)).method as QuantLinearMethod).scheme).toBe("int8 per-channel");
    const same = makeInt4Plugin({ groupSize: 32, head: "same", name: "int4-all" });
    expect(((await runLinear(same, f32Tensor("output.weight", w, k, m), x, 1)).method as QuantLinearMethod).scheme).toBe("int4 g32");
  });

  it("refuses block-quantized tensors", async () => {
    const backend = await cpuBackend();
    const t = bytesTensor("blk.0.attn_k.weight", GGMLType.Q8_0, new Uint8Array(34), 32, 1);
    expect(int4QuantPlugin.check(backend, [t])[0]).toMatch(/int4 quantizes float weights at load and cannot read tensor type Q8_0 \(blk\.0\.attn_k\.weight\); readable: F32, F16, BF16 \(run block-quantized GGUF files with --quant gguf\)/);
    expect(() => int4QuantPlugin.createLinear({ name: t.name, tensor: t, inFeatures: 32, outFeatures: 1 }, backend)).toThrow(QuantizationError);
  });
});
