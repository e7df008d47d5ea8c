import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { f32 } from "../../../plugins/backend/cpu/tensor.ts";
import { wasmSimdAvailable, type WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { fp8E5m2QuantPlugin, fp8QuantPlugin } from "../../../plugins/quant/fp8/index.ts";
import { ggufQuantPlugin } from "../../../plugins/quant/gguf/index.ts";
import { int4G128QuantPlugin, int4G64QuantPlugin, int4QuantPlugin } from "../../../plugins/quant/int4/index.ts";
import { int8DynamicQuantPlugin, int8QuantPlugin, makeInt8Plugin } from "../../../plugins/quant/int8/index.ts";
import { GGMLType, type HostTensor } from "../../../src/loader/types.ts";
import type { QuantPlugin } from "../../../src/plugin/types.ts";
import { encodeGgml } from "../../../src/quant/ggml/encode.ts";
import { bytesTensor, f32Tensor, maxRelDiff, randomMatrix } from "./helpers.ts";

/** Runs the plugin's linear on `backend`; counts the wasm kernel calls it made. */
function run(plugin: QuantPlugin, backend: CpuBackend, t: HostTensor, x: Float32Array, n: number): { out: Float32Array; wasmCalls: number } {
  const k = t.dims[0]!, m = t.dims[1]!;
  let wasmCalls = 0;
  const wasm = backend.wasm as (WasmKernels & { matmulPlaced: WasmKernels["matmulPlaced"] }) | null;
  if (wasm) {
    const real = wasm.matmulPlaced.bind(wasm);
    wasm.matmulPlaced = (...a) => { wasmCalls++; real(...a); };
  }
  const method = plugin.createLinear({ name: t.name, tensor: t, inFeatures: k, outFeatures: m }, backend);
  const out = backend.empty([n, m]);
  method.apply(backend.upload(x.slice(), [n, k]), out, n);
  return { out: f32(out).slice(), wasmCalls };
}

const bf16Tensor = (name: string, w: Float32Array, k: number, m: number): HostTensor => {
  const u = new Uint32Array(w.buffer, w.byteOffset, w.length), h = new Uint16Array(w.length);
  for (let i = 0; i < h.length; i++) h[i] = u[i]! >>> 16;
  return bytesTensor(name, GGMLType.BF16, new Uint8Array(h.buffer), k, m);
};

describe.skipIf(!wasmSimdAvailable())("quant plugins on the cpu backend: WebAssembly SIMD128 path vs the JS fallback", () => {
  const n = 3, k = 512, m = 37;
  const w = randomMatrix(m * k, 7, 0.05), x = randomMatrix(n * k, 8);
  const f32w = f32Tensor("blk.0.ffn_up.weight", w, k, m);
  const cases: Array<[string, QuantPlugin, HostTensor, number]> = [
    ["int8", int8QuantPlugin, f32w, 1e-5],
    ["int8-dynamic", int8DynamicQuantPlugin, f32w, 0], // integer dot products: the same bits
    ["int4", int4QuantPlugin, f32w, 1e-5],
    ["int4-g64", int4G64QuantPlugin, f32w, 1e-5],
    ["int4-g128", int4G128QuantPlugin, f32w, 1e-5],
    ["fp8", fp8QuantPlugin, f32w, 1e-5],
    ["fp8-e5m2", fp8E5m2QuantPlugin, f32w, 1e-5],
    ["int8 output head (head: int8)", makeInt8Plugin({ dynamic: false, head: "int8", name: "int8-h" }), f32Tensor("output.weight", w, k, m), 1e-5],
    ["gguf F16", ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", GGMLType.F16, encodeGgml(GGMLType.F16, w), k, m), 1e-5],
    ["gguf BF16", ggufQuantPlugin, bf16Tensor("blk.0.attn_q.weight", w, k, m), 1e-5],
    // Q8_0 and Q4_0: activations quantized to Q8_0, integer block dots, a pinned f32 order: the same bits.
    ["gguf Q8_0", ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", GGMLType.Q8_0, encodeGgml(GGMLType.Q8_0, w), k, m), 0],
    ["gguf Q4_0", ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", GGMLType.Q4_0, encodeGgml(GGMLType.Q4_0, w), k, m), 0],
    ["gguf Q4_K", ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", GGMLType.Q4_K, encodeGgml(GGMLType.Q4_K, w), k, m), 1e-5],
    ["gguf Q6_K", ggufQuantPlugin, bytesTensor("blk.0.attn_q.weight", GGMLType.Q6_K, encodeGgml(GGMLType.Q6_K, w), k, m), 1e-5],
  ];
  for (const [name, plugin, t, tol] of cases) {
    it(`${name}: the wasm kernel runs and agrees with the JS kernel (max rel. diff <= ${tol})`, () => {
      const wasmBe = new CpuBackend({ threads: 1 }), jsBe = new CpuBackend({ wasm: false });
      const a = run(plugin, wasmBe, t, x, n), b = run(plugin, jsBe, t, x, n);
      expect(a.wasmCalls).toBe(1);
      expect(b.wasmCalls).toBe(0);
      expect(maxRelDiff(a.out, b.out)).toBeLessThanOrEqual(tol);
      if (tol === 0) expect(Array.from(a.out)).toEqual(Array.from(b.out));
    });
  }

  it("gguf: F32 goes through the backend's matmul, not a placed-weights kernel; F16 rows of any length use the wasm kernel", () => {
    const be = new CpuBackend({ threads: 1 });
    expect(run(ggufQuantPlugin, be, f32w, x, n).wasmCalls).toBe(0); // F32 goes through the backend's matmul
    const k2 = 40, t = bytesTensor("blk.0.attn_q.weight", GGMLType.F16, encodeGgml(GGMLType.F16, w.subarray(0, k2 * m)), k2, m);
    expect(run(ggufQuantPlugin, be, t, x.subarray(0, n * k2), n).wasmCalls).toBe(1); // F16: any row length
  });
});
