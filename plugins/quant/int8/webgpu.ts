import type { LinearLayerInfo } from "../../../src/plugin/types.ts";
import { quantizeInt8 } from "../../../src/quant/int8.ts";
import { floatWeights, isOutputHead, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { F32_WEIGHTS, INT8_WEIGHTS } from "../../backend/webgpu/kernels/matmul.wgsl.ts";
import { bytesToWords, webGpuLinear } from "../../backend/webgpu/weights.ts";

/** int8 per-channel weight-only linear on webgpu over f32 weights [out, in] (f32 when in % 4 != 0). */
export function int8LinearWebGpu(layer: LinearLayerInfo, w: Float32Array, backend: WebGpuBackend, note?: string): QuantLinearMethod {
  const { inFeatures: k, outFeatures: m } = layer;
  if (k % 4 !== 0) {
    return webGpuLinear(backend, F32_WEIGHTS, [backend.upload(w, [m, k])], k, m, 1, { scheme: "f32", note: `${layer.name} kept f32: row length ${k} is not a multiple of 4` });
  }
  const q = quantizeInt8(w, m, k);
  const codes = bytesToWords(new Uint8Array(q.q.buffer, q.q.byteOffset, q.q.byteLength));
  const weights = [backend.upload(q.scales, [m]), backend.upload(codes, [codes.length])];
  return webGpuLinear(backend, INT8_WEIGHTS, weights, k, m, 1, { scheme: "int8 per-channel", ...(note ? { note } : {}) });
}

/** The `int8` (weight-only) plugin's linear on webgpu, with its output-head policy (f32 by default). */
export function createInt8LinearWebGpu(layer: LinearLayerInfo, backend: WebGpuBackend, o: { name: string; head: OutputHeadPolicy }): QuantLinearMethod {
  const { inFeatures: k, outFeatures: m } = layer;
  const w = floatWeights(o.name, layer);
  if (o.head === "f32" && isOutputHead(layer.name)) {
    const note = `${layer.name}: output head kept f32 by ${o.name} (head policy "f32")`;
    return webGpuLinear(backend, F32_WEIGHTS, [backend.upload(w, [m, k])], k, m, 1, { scheme: "f32", note });
  }
  return int8LinearWebGpu(layer, w, backend);
}
