/**
 * Quantized linears on webgpu (gguf Q8_0 / Q4_0 kept quantized on the GPU, F16 kept f16, int4
 * group layout, int8 per-channel) against an f64 product over the dequantized weights, on the
 * matrix-vector (n <= 8) and tiled paths. Tolerance 1e-5 x max|out|: the weights are identical,
 * only the f32 summation order differs. Plus the plugins' check() reasons on webgpu.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { ggufQuantPlugin } from "../../../../plugins/quant/gguf/index.ts";
import { int4G64QuantPlugin, int4QuantPlugin } from "../../../../plugins/quant/int4/index.ts";
import { int8DynamicQuantPlugin, int8QuantPlugin } from "../../../../plugins/quant/int8/index.ts";
import { fp8QuantPlugin } from "../../../../plugins/quant/fp8/index.ts";
import { dequantize } from "../../../../src/loader/gguf/dequantize.ts";
import { GGMLType } from "../../../../src/loader/types.ts";
import { encodeGgml } from "../../../../src/quant/ggml/encode.ts";
import { dequantizeInt4, quantizeInt4 } from "../../../../src/quant/int4.ts";
import { dequantizeInt8, quantizeInt8 } from "../../../../src/quant/int8.ts";
import type { QuantPlugin } from "../../../../src/plugin/types.ts";
import { bytesTensor, f32Tensor, matmulF64, maxRelDiff, randomMatrix } from "../../quant/helpers.ts";
import { openWebGpu, webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("quant.test.ts");
const SHAPES = [{ n: 1, m: 5 }, { n: 3, m: 67 }, { n: 11, m: 70 }, { n: 40, m: 9 }];

describe.skipIf(skip !== null)("quantized linears on webgpu", () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => { gpu = await openWebGpu(); });
  afterAll(() => gpu?.dispose());

  async function run(plugin: QuantPlugin, name: string, tensor: ReturnType<typeof f32Tensor>, x: Float32Array, n: number): Promise<Float32Array> {
    const k = tensor.dims[0]!, m = tensor.dims[1]!;
    const method = plugin.createLinear({ name, tensor, inFeatures: k, outFeatures: m }, gpu);
    const out = gpu.empty([n, m]);
    method.apply(gpu.upload(x, [n, k]), out, n);
    return (await gpu.read(out)) as Float32Array;
  }

  for (const [label, type] of [["Q8_0", GGMLType.Q8_0], ["Q4_0", GGMLType.Q4_0]] as const) {
    it(`gguf ${label}: quantized on the GPU, matches the dequantized f64 product`, async () => {
      const k = 96;
      for (const { n, m } of SHAPES) {
        const t = bytesTensor("blk.0.attn_q.weight", type, encodeGgml(type, randomMatrix(k * m, m)), k, m);
        const x = randomMatrix(n * k, n + 100);
        const got = await run(ggufQuantPlugin, t.name, t, x, n);
        expect(maxRelDiff(got, matmulF64(x, dequantize(t), n, k, m)), `n=${n} m=${m}`).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it("gguf F16: kept f16 on the GPU (two halves per word), matches the widened f64 product", async () => {
    const k = 64;
    for (const { n, m } of SHAPES) {
      const t = bytesTensor("blk.0.attn_q.weight", GGMLType.F16, encodeGgml(GGMLType.F16, randomMatrix(k * m, m)), k, m);
      const x = randomMatrix(n * k, n + 100);
      const got = await run(ggufQuantPlugin, t.name, t, x, n);
      expect(maxRelDiff(got, matmulF64(x, dequantize(t), n, k, m)), `n=${n} m=${m}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it("int4 (groups of 32 and 64): the group layout dequantized in the kernels; head int8 per-channel", async () => {
    const k = 128;
    for (const [plugin, g] of [[int4QuantPlugin, 32], [int4G64QuantPlugin, 64]] as const) {
      for (const { n, m } of SHAPES) {
        const w = randomMatrix(k * m, m + g);
        const x = randomMatrix(n * k, n);
        const got = await run(plugin, "blk.0.ffn_up.weight", f32Tensor("blk.0.ffn_up.weight", w, k, m), x, n);
        const ref = matmulF64(x, dequantizeInt4(quantizeInt4(w, m, k, g)), n, k, m);
        expect(maxRelDiff(got, ref), `g=${g} n=${n} m=${m}`).toBeLessThanOrEqual(1e-5);
      }
    }
    const m = 33, n = 2, w = randomMatrix(k * m, 5), x = randomMatrix(n * k, 6);
    const head = await run(int4QuantPlugin, "output.weight", f32Tensor("output.weight", w, k, m), x, n);
    const q = quantizeInt8(w, m, k);
    expect(maxRelDiff(head, matmulF64(x, dequantizeInt8(q), n, k, m))).toBeLessThanOrEqual(1e-5);
  });

  it("int8 weight-only: per-channel codes on the GPU; the output head stays f32 (the plugin's default)", async () => {
    const k = 68;
    for (const { n, m } of SHAPES) {
      const w = randomMatrix(k * m, m + 3), x = randomMatrix(n * k, n);
      const got = await run(int8QuantPlugin, "blk.0.ffn_up.weight", f32Tensor("blk.0.ffn_up.weight", w, k, m), x, n);
      expect(maxRelDiff(got, matmulF64(x, dequantizeInt8(quantizeInt8(w, m, k)), n, k, m)), `n=${n} m=${m}`).toBeLessThanOrEqual(1e-5);
    }
    const m = 9, n = 2, w = randomMatrix(k * m, 1), x = randomMatrix(n * k, 2);
    const head = await run(int8QuantPlugin, "output.weight", f32Tensor("output.weight", w, k, m), x, n);
    expect(maxRelDiff(head, matmulF64(x, w, n, k, m))).toBeLessThanOrEqual(1e-5);
  });

  it("int4 keeps a layer whose row length the group does not divide in f32 (as on cpu)", async () => {
    const k = 44, m = 9, n = 2, w = randomMatrix(k * m, 1), x = randomMatrix(n * k, 2);
    const got = await run(int4QuantPlugin, "blk.0.ffn_down.weight", f32Tensor("blk.0.ffn_down.weight", w, k, m), x, n);
    expect(maxRelDiff(got, matmulF64(x, w, n, k, m))).toBeLessThanOrEqual(1e-5);
  });

  it("check() on webgpu: gguf refuses Q4_K/Q6_K with the reason; int8-dynamic and fp8 refuse webgpu; int4 and int8 accept", () => {
    const q4k = bytesTensor("blk.0.attn_q.weight", GGMLType.Q4_K, encodeGgml(GGMLType.Q4_K, randomMatrix(256 * 2, 1)), 256, 2);
    expect(ggufQuantPlugin.check(gpu, [q4k]).join()).toMatch(/gguf on webgpu has kernels for F32, F16, BF16, Q8_0, Q4_0, not Q4_K/);
    const f = f32Tensor("blk.0.attn_q.weight", randomMatrix(64, 1), 32, 2);
    expect(ggufQuantPlugin.check(gpu, [f])).toEqual([]);
    expect(int8DynamicQuantPlugin.check(gpu, [f]).join()).toMatch(/has no kernels for backend "webgpu" \(has: cpu\)/);
    expect(int8QuantPlugin.check(gpu, [f])).toEqual([]);
    expect(fp8QuantPlugin.check(gpu, [f]).join()).toMatch(/has no kernels for backend "webgpu"/);
    expect(int4QuantPlugin.check(gpu, [f])).toEqual([]);
  });
});
