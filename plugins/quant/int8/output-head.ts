import type { Backend, LinearLayerInfo } from "../../../src/plugin/types.ts";
import { quantizeInt8 } from "../../../src/quant/int8.ts";
import { f32Linear, isOutputHead, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { int8Matmul } from "./cpu-kernels.ts";

/** int8 per-channel weight-only linear over f32 weights [out, in]. */
export function int8Linear(layer: LinearLayerInfo, w: Float32Array, note?: string, backend?: Backend): QuantLinearMethod {
  const { inFeatures: k, outFeatures: m } = layer;
  const q = quantizeInt8(w, m, k);
  const matmul = int8Matmul(backend, q.q, q.scales, k, m, false);
  return {
    inFeatures: k,
    outFeatures: m,
    weightBytes: q.q.byteLength + q.scales.byteLength,
    scheme: "int8 per-channel",
    ...(note ? { note } : {}),
    apply: (x, out, n) => matmul(f32(out), f32(x), n),
  };
}

/** The output head under `policy`, or null when the layer is not the head or the policy is "same". */
export function outputHeadLinear(policy: OutputHeadPolicy, plugin: string, layer: LinearLayerInfo, w: Float32Array, backend: Backend): QuantLinearMethod | null {
  if (policy === "same" || !isOutputHead(layer.name)) return null;
  const note = `${layer.name}: output head kept ${policy} by ${plugin} (head policy "${policy}")`;
  return policy === "f32" ? f32Linear(layer, w, backend, note) : int8Linear(layer, w, note, backend);
}
