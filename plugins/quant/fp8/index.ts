import type { QuantPlugin } from "../../../src/plugin/types.ts";
import type { Fp8Format } from "../../../src/quant/fp8.ts";
import { quantizeFp8 } from "../../../src/quant/fp8-matrix.ts";
import { floatWeights, onlineQuantCheck, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import { outputHeadLinear } from "../int8/output-head.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { fp8Matmul } from "./cpu-kernels.ts";

/**
 * fp8 weight-only quantization at load: e4m3 (`fp8`, as vLLM's fp8 weights) or e5m2 (`fp8-e5m2`)
 * codes with one f32 scale per output channel (src/quant/fp8-matrix.ts). Encoding rounds to
 * nearest even with saturation; decoding is a table, so the CPU results are exact. The output head
 * is int8 per-channel by default (`head`, see OutputHeadPolicy).
 */
export function makeFp8Plugin(format: Fp8Format, opts: { head?: OutputHeadPolicy; name?: string } = {}): QuantPlugin {
  const name = opts.name ?? (format === "e4m3" ? "fp8" : "fp8-e5m2");
  const head = opts.head ?? "int8";
  return {
    kind: "quant",
    name,
    description: `fp8 ${format} weight-only, per-channel scales; quantized at load from f32/f16/bf16`,
    check: (backend, tensors) => onlineQuantCheck(name, backend, tensors),
    createLinear(layer, backend): QuantLinearMethod {
      const { inFeatures: k, outFeatures: m } = layer;
      const wf = floatWeights(name, layer);
      const headMethod = outputHeadLinear(head, name, layer, wf, backend);
      if (headMethod) return headMethod;
      const w = quantizeFp8(wf, m, k, format);
      const matmul = fp8Matmul(backend, w); // WebAssembly SIMD128 when the cpu backend has it, else JS
      return {
        inFeatures: k,
        outFeatures: m,
        weightBytes: w.codes.byteLength + w.scales.byteLength,
        scheme: `fp8 ${format} per-channel`,
        apply: (x, out, n) => matmul(f32(out), f32(x), n),
      };
    },
  };
}

export const fp8QuantPlugin: QuantPlugin = makeFp8Plugin("e4m3");
export const fp8E5m2QuantPlugin: QuantPlugin = makeFp8Plugin("e5m2");
