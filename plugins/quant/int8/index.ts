import type { QuantPlugin } from "../../../src/plugin/types.ts";
import { quantizeInt8 } from "../../../src/quant/int8.ts";
import { floatWeights, onlineQuantCheck, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import { outputHeadLinear } from "./output-head.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { int8Matmul } from "./cpu-kernels.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { createInt8LinearWebGpu } from "./webgpu.ts";

/**
 * int8 quantization at load, symmetric, one scale per output channel (src/quant/int8.ts).
 * - `int8`: weight-only; activations stay f32.
 * - `int8-dynamic`: activations are quantized per token at every call (scale = max|x| / 127) and
 *   multiplied by the int8 weights with integer dot products (like torchao's
 *   int8_dynamic_activation_int8_weight).
 * The output head stays f32 by default (`head`, see OutputHeadPolicy).
 */
export function makeInt8Plugin(opts: { dynamic: boolean; head?: OutputHeadPolicy; name?: string }): QuantPlugin {
  const name = opts.name ?? (opts.dynamic ? "int8-dynamic" : "int8");
  const head = opts.head ?? "f32";
  return {
    kind: "quant",
    name,
    description: opts.dynamic
      ? "int8 weights (per-channel) × int8 activations (per-token, dynamic), integer dot products; quantized at load"
      : "int8 weight-only, per-channel symmetric; quantized at load from f32/f16/bf16",
    check: (backend, tensors) => onlineQuantCheck(name, backend, tensors, opts.dynamic ? ["cpu"] : ["cpu", "webgpu"]),
    createLinear(layer, backend): QuantLinearMethod {
      if (backend.name === "webgpu" && !opts.dynamic) return createInt8LinearWebGpu(layer, backend as WebGpuBackend, { name, head });
      const { inFeatures: k, outFeatures: m } = layer;
      const wf = floatWeights(name, layer);
      const headMethod = outputHeadLinear(head, name, layer, wf, backend);
      if (headMethod) return headMethod;
      const w = quantizeInt8(wf, m, k);
      const base = { inFeatures: k, outFeatures: m, weightBytes: w.q.byteLength + w.scales.byteLength };
      // WebAssembly SIMD128 on the cpu backend when it has it (weights placed once), else plain JS.
      const matmul = int8Matmul(backend, w.q, w.scales, k, m, opts.dynamic);
      const scheme = opts.dynamic ? "int8 per-channel × int8 per-token" : "int8 per-channel";
      return { ...base, scheme, apply: (x, out, n) => matmul(f32(out), f32(x), n) };
    },
  };
}

export const int8QuantPlugin: QuantPlugin = makeInt8Plugin({ dynamic: false });
export const int8DynamicQuantPlugin: QuantPlugin = makeInt8Plugin({ dynamic: true });
