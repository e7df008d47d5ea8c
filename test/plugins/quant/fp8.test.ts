import { describe, expect, it } from "vitest";
import { E4M3_TABLE, E5M2_TABLE, encodeFp8, encodeFp8Array, encodeFp8Bits, FP8_TABLES } from "../../../src/quant/fp8.ts";
import { dequantizeFp8, quantizeFp8 } from "../../../src/quant/fp8-matrix.ts";
import { fp8QuantPlugin, fp8E5m2QuantPlugin } from "../../../plugins/quant/fp8/index.ts";
import { f32Tensor, matmulF64, maxRelDiff, ODD_SHAPES, randomMatrix, runLinear } from "./helpers.ts";

describe("fp8 formats", () => {
  it("decode tables hold the OCP values (e4m3fn: no inf, max 448; e5m2: IEEE-like, max 57344)", () => {
    expect(E4M3_TABLE[0x38]).toBe(1);
    expect(E4M3_TABLE[0x7e]).toBe(448);
    expect(E4M3_TABLE[0x78]).toBe(256);
    expect(E4M3_TABLE[0x08]).toBe(2 ** -6);
    expect(E4M3_TABLE[0x01]).toBe(2 ** -9);
    expect(E4M3_TABLE[0xb8]).toBe(-1);
    expect(E4M3_TABLE[0x7f]).toBeNaN();
    expect(E4M3_TABLE[0xff]).toBeNaN();
    expect(E5M2_TABLE[0x3c]).toBe(1);
    expect(E5M2_TABLE[0x7b]).toBe(57344);
    expect(E5M2_TABLE[0x7c]).toBe(Infinity);
    expect(E5M2_TABLE[0xfc]).toBe(-Infinity);
    expect(E5M2_TABLE[0x7d]).toBeNaN();
    expect(E5M2_TABLE[0x04]).toBe(2 ** -14);
    expect(E5M2_TABLE[0x01]).toBe(2 ** -16);
    expect(Object.is(E4M3_TABLE[0x80], -0)).toBe(true);
  });

  for (const f of ["e4m3", "e5m2"] as const) {
    it(`${f}: every finite code encodes back to itself`, () => {
      const t = FP8_TABLES[f];
      for (let c = 0; c < 256; c++) {
        if (!Number.isFinite(t[c]!)) continue;
        expect(encodeFp8(t[c]!, f), `code ${c}`).toBe(c);
      }
    });

    it(`${f}: midpoints round to the even code, values just off a midpoint round to the nearer`, () => {
      const t = FP8_TABLES[f];
      for (let c = 0; c < 0x7f; c++) {
        const lo = t[c]!, hi = t[c + 1]!;
        if (!Number.isFinite(hi)) continue;
        const mid = (lo + hi) / 2;
        const even = c % 2 === 0 ? c : c + 1;
        expect(encodeFp8(mid, f), `between ${c} and ${c + 1}`).toBe(even);
        expect(encodeFp8(-mid, f)).toBe(0x80 | even);
        expect(encodeFp8(mid - (hi - lo) / 64, f)).toBe(c);
        expect(encodeFp8(mid + (hi - lo) / 64, f)).toBe(c + 1);
      }
    });
  }

  it("saturates beyond the largest finite value (infinities too) and keeps NaN", () => {
    expect(encodeFp8(1e6, "e4m3")).toBe(0x7e);
    expect(encodeFp8(-1e6, "e4m3")).toBe(0xfe);
    expect(encodeFp8(464, "e4m3")).toBe(0x7e); // would round to 480, past max
    expect(encodeFp8(Infinity, "e4m3")).toBe(0x7e);
    expect(encodeFp8(-Infinity, "e5m2")).toBe(0xfb);
    expect(encodeFp8(1e9, "e5m2")).toBe(0x7b);
    expect(E4M3_TABLE[encodeFp8(NaN, "e4m3")]).toBeNaN();
    expect(E5M2_TABLE[encodeFp8(NaN, "e5m2")]).toBeNaN();
    expect(encodeFp8(2 ** -11, "e4m3")).toBe(0); // a quarter of the smallest subnormal
    expect(encodeFp8(3 * 2 ** -11, "e4m3")).toBe(1);
  });

  it("the bit-pattern encoder agrees with the reference on 200,000 f32 patterns", () => {
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    const mismatches: string[] = [];
    for (const fmt of ["e4m3", "e5m2"] as const) {
      for (let b = 0, i = 0; i < 100_000; i++, b = (b + 42_949) >>> 0) {
        u[0] = b;
        if (Number.isNaN(f[0]) || encodeFp8Bits(b, fmt) === encodeFp8(f[0]!, fmt)) continue;
        mismatches.push(`${fmt} 0x${b.toString(16)}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect([...encodeFp8Array(Float32Array.from([1, -2, 0.5]), "e4m3", 0.5)]).toEqual([encodeFp8(2, "e4m3"), encodeFp8(-4, "e4m3"), encodeFp8(1, "e4m3")]);
  });
});

describe("fp8 weights (per-channel scales) and the fp8 plugin", () => {
  it("round trip: every weight within half an fp8 step of its row's scale", () => {
    const rows = 9, cols = 37;
    const w = randomMatrix(rows * cols, 7);
    const q = quantizeFp8(w, rows, cols);
    const back = dequantizeFp8(q);
    for (let r = 0; r < rows; r++) {
      let amax = 0;
      for (let p = 0; p < cols; p++) amax = Math.max(amax, Math.abs(w[r * cols + p]!));
      expect(q.scales[r]).toBeCloseTo(amax / 448, 6);
      for (let p = 0; p < cols; p++) {
        const v = w[r * cols + p]!;
        expect(Math.abs(back[r * cols + p]! - v)).toBeLessThanOrEqual(Math.abs(v) / 16 + q.scales[r]! * 2 ** -9 + 1e-12);
      }
    }
  });

  for (const [plugin, format] of [[fp8QuantPlugin, "e4m3"], [fp8E5m2QuantPlugin, "e5m2"]] as const) {
    it(`${plugin.name}: kernel equals dequantize-then-f64 on odd shapes`, async () => {
      for (const { n, m } of ODD_SHAPES) {
        const k = 45;
        const w = randomMatrix(m * k, m + 1), x = randomMatrix(n * k, n + 100);
        const { out, method } = await runLinear(plugin, f32Tensor("blk.0.attn_q.weight", w, k, m), x, n);
        const ref = matmulF64(x, dequantizeFp8(quantizeFp8(w, m, k, format)), n, k, m);
        expect(maxRelDiff(out, ref)).toBeLessThan(1e-6);
        expect(method.weightBytes).toBe(m * k + 4 * m);
      }
    });
  }
});
