import { describe, expect, it } from "vitest";
import { BLOCK_CODECS, dequantizeBlocks } from "../../../src/quant/ggml/decode.ts";
import { encodeGgml } from "../../../src/quant/ggml/encode.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { dequantize } from "../../../src/loader/gguf/dequantize.ts";
import { ggufQuantPlugin } from "../../../plugins/quant/gguf/index.ts";
import { bytesTensor, cpuBackend, matmulF64, maxRelDiff, ODD_SHAPES, randomMatrix, runLinear } from "./helpers.ts";
import { matmulQ8ActF64 } from "../backend/q8-activation-reference.ts";

const F16_ONE = 0x3c00, F16_HALF = 0x3800, F16_QUARTER = 0x3400;

function putHalf(b: Uint8Array, at: number, h: number): void {
  b[at] = h & 0xff;
  b[at + 1] = h >>> 8;
}

describe("GGML block layouts, decoded from hand-built blocks", () => {
  it("Q4_0: low nibbles are elements 0..15, high nibbles 16..31, value d * (q - 8)", () => {
    const b = new Uint8Array(18);
    putHalf(b, 0, F16_HALF);
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const y = dequantizeBlocks(GGMLType.Q4_0, b, 32);
    for (let j = 0; j < 16; j++) {
      expect(y[j]).toBe(0.5 * (j - 8));
      expect(y[16 + j]).toBe(0.5 * (7 - j));
    }
  });

  it("Q4_K: 6-bit scales and mins (get_scale_min_k4 packing), chunk c = sub-blocks 2c (low) and 2c + 1 (high)", () => {
    const sc = [1, 2, 3, 4, 44, 45, 46, 47], mn = [0, 1, 2, 3, 54, 55, 56, 57];
    const b = new Uint8Array(144);
    putHalf(b, 0, F16_ONE);
    putHalf(b, 2, F16_HALF);
    for (let j = 0; j < 4; j++) {
      b[4 + j] = sc[j]! | ((sc[j + 4]! >> 4) << 6);
      b[4 + j + 4] = mn[j]! | ((mn[j + 4]! >> 4) << 6);
      b[4 + j + 8] = (sc[j + 4]! & 15) | ((mn[j + 4]! & 15) << 4);
    }
    for (let c = 0; c < 4; c++) for (let l = 0; l < 32; l++) b[16 + 32 * c + l] = (l % 16) | ((15 - (l % 16)) << 4);
    const y = dequantizeBlocks(GGMLType.Q4_K, b, 256);
    for (let s = 0; s < 8; s++) {
      for (let l = 0; l < 32; l++) {
        const q = s % 2 === 0 ? l % 16 : 15 - (l % 16);
        expect(y[32 * s + l], `sub-block ${s} element ${l}`).toBe(1 * sc[s]! * q - 0.5 * mn[s]!);
      }
    }
  });

  it("Q6_K: ql low 4 bits, qh high 2 bits, int8 scale per 16 weights, value d * scale * (q - 32)", () => {
    const q = Array.from({ length: 256 }, (_, i) => (i * 7) % 64);
    const scales = Array.from({ length: 16 }, (_, s) => s - 8);
    const b = new Uint8Array(210);
    for (let h = 0; h < 2; h++) {
      for (let l = 0; l < 32; l++) {
        const [i0, i1, i2, i3] = [128 * h + l, 128 * h + l + 32, 128 * h + l + 64, 128 * h + l + 96];
        b[64 * h + l] = (q[i0]! & 15) | ((q[i2]! & 15) << 4);
        b[64 * h + l + 32] = (q[i1]! & 15) | ((q[i3]! & 15) << 4);
        b[128 + 32 * h + l] = (q[i0]! >> 4) | ((q[i1]! >> 4) << 2) | ((q[i2]! >> 4) << 4) | ((q[i3]! >> 4) << 6);
      }
    }
    for (let s = 0; s < 16; s++) b[192 + s] = scales[s]! & 0xff;
    putHalf(b, 208, F16_QUARTER);
    const y = dequantizeBlocks(GGMLType.Q6_K, b, 256);
    for (let i = 0; i < 256; i++) expect(y[i], `element ${i}`).toBe(0.25 * scales[i >> 4]! * (q[i]! - 32));
  });
});

describe("GGML encoders (llama.cpp reference quantizers) round-trip", () => {
  const cases: Array<[GGMLType, number]> = [[GGMLType.Q8_0, 0.01], [GGMLType.Q4_0, 0.13], [GGMLType.Q4_K, 0.1], [GGMLType.Q6_K, 0.025]];
  for (const [type, tol] of cases) {
    it(`${GGMLType[type]}: relative RMS error below ${tol}; the loader's dequantize reads it`, () => {
      const x = randomMatrix(1024, type);
      const bytes = encodeGgml(type, x);
      const c = BLOCK_CODECS.get(type)!;
      expect(bytes.length).toBe((1024 / c.blockSize) * c.typeSize);
      const y = dequantizeBlocks(type, bytes, 1024);
      let se = 0, ss = 0;
      for (let i = 0; i < x.length; i++) { se += (y[i]! - x[i]!) ** 2; ss += x[i]! ** 2; }
      expect(Math.sqrt(se / ss)).toBeLessThan(tol);
      expect(dequantize(bytesTensor("w", type, bytes, 256, 4))).toEqual(y);
    });
  }

  it("Q4_0 follows quantize_row_q4_0_ref: d = (signed max) / -8, codes trunc(x / d + 8.5) capped at 15", () => {
    const x = new Float32Array(32);
    for (let i = 0; i < 32; i++) x[i] = i - 16; // max magnitude -16 → d = 2
    const b = encodeGgml(GGMLType.Q4_0, x);
    expect(b[0] | (b[1]! << 8)).toBe(0x4000); // f16 2.0
    const y = dequantizeBlocks(GGMLType.Q4_0, b, 32);
    expect(y[0]).toBe(-16);
    expect(y[31]).toBe(14); // 15 / 2 + 8.5 = 16 → capped at 15 → (15 - 8) * 2
  });

  it("an all-zero block encodes to zeros in every format", () => {
    for (const type of [GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.Q8_0]) {
      expect([...dequantizeBlocks(type, encodeGgml(type, new Float32Array(256)), 256)].every((v) => v === 0)).toBe(true);
    }
  });

  it("rejects lengths that are not whole blocks and types it cannot encode", () => {
    expect(() => encodeGgml(GGMLType.Q4_K, new Float32Array(64))).toThrow(/Q4_K needs a multiple of 256 values, got 64/);
    expect(() => encodeGgml(GGMLType.Q4_0, new Float32Array(40))).toThrow(/Q4_0 needs a multiple of 32 values, got 40/);
    expect(() => encodeGgml(GGMLType.Q5_K, new Float32Array(256))).toThrow(/cannot quantize to Q5_K; supported: F32, F16, Q8_0, Q4_0, Q4_K, Q6_K/);
  });
});

describe("gguf plugin: products computed on the blocks", () => {
  for (const type of [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K]) {
    it(`${GGMLType[type]}: kernel equals dequantize-then-f64 on odd shapes`, async () => {
      for (const { n, m } of ODD_SHAPES) {
        const k = 512;
        const bytes = encodeGgml(type, randomMatrix(m * k, 50 + m));
        const x = randomMatrix(n * k, 60 + n);
        const { out, method } = await runLinear(ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", type, bytes, k, m), x, n);
        if (type === GGMLType.Q8_0 || type === GGMLType.Q4_0) {
          // Activations quantized to Q8_0 first: the f64 product of those same quantized rows.
          expect(maxRelDiff(out, matmulQ8ActF64(type === GGMLType.Q8_0 ? "q8_0" : "q4_0", x, bytes, n, k, m).value)).toBeLessThan(1e-6);
          // and within the activations' quantization error (0.038 measured: 1% of x are 6-sigma outliers) of the unquantized x.
          expect(maxRelDiff(out, matmulF64(x, dequantizeBlocks(type, bytes, m * k), n, k, m))).toBeLessThan(0.06);
        } else {
          expect(maxRelDiff(out, matmulF64(x, dequantizeBlocks(type, bytes, m * k), n, k, m))).toBeLessThan(1e-6);
        }
        expect(method.weightBytes).toBe(bytes.byteLength);
      }
    });
  }

  it("refuses tensor types it cannot compute on and other backends, listing what it supports", async () => {
    const backend = await cpuBackend();
    const t = bytesTensor("blk.0.ffn_up.weight", GGMLType.Q5_K, new Uint8Array(176), 256, 1);
    expect(ggufQuantPlugin.check(backend, [t])).toEqual([
      "gguf cannot compute on tensor type Q5_K (blk.0.ffn_up.weight); supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K",
    ]);
    expect(() => ggufQuantPlugin.createLinear({ name: t.name, tensor: t, inFeatures: 256, outFeatures: 1 }, backend)).toThrow(/cannot compute on tensor type Q5_K/);
    expect(ggufQuantPlugin.check({ ...backend, name: "metal" }, [])).toEqual([`gguf has no kernels for backend "metal" (has: cpu, webgpu)`]);
  });
});
