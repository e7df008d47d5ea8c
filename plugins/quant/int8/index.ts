import type { QuantPlugin } from "../../../src/plugin/types.ts";
import { quantizeInt8, quantizeRowsInt8 } from "../../../src/quant/int8.ts";
import { floatWeights, onlineQuantCheck, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import { outputHeadLinear } from "./output-head.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { matmulInt8, matmulInt8Dynamic } from "./cpu-kernels.ts";

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
    check: (backend, tensors) => onlineQuantCheck(name, backend, tensors),
    createLinear(layer, backend): QuantLinearMethod {
      const { inFeatures: k, outFeatures: m } = layer;
      const wf = floatWeights(name, layer);
      const headMethod = outputHeadLinear(head, name, layer, wf, backend);
      if (headMethod) return headMethod;
      const w = quantizeInt8(wf, m, k);
      const base = { inFeatures: k, outFeatures: m, weightBytes: w.q.byteLength + w.scales.byteLength };
      if (!opts.dynamic) {
        return { ...base, scheme: "int8 per-channel", apply: (x, out, n) => matmulInt8(f32(out), f32(x), w.q, w.scales, n, k, m) };
      }
      let xq = new Int8Array(0), xs = new Float32Array(0);
      return {
        ...base,
        scheme: "int8 per-channel × int8 per-token",
        apply(x, out, n) {
          if (xq.length < n * k) { xq = new Int8Array(n * k); xs = new Float32Array(n); }
          quantizeRowsInt8(f32(x), n, k, xq, xs);
          matmulInt8Dynamic(f32(out), xq, xs, w.q, w.scales, n, k, m);
        },
      };
    },
  };
}

export const int8QuantPlugin: QuantPlugin = makeInt8Plugin({ dynamic: false });
export const int8DynamicQuantPlugin: QuantPlugin = makeInt8Plugin({ dynamic: true });
