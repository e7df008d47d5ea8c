import type { LinearLayerInfo } from "../../../src/plugin/types.ts";
import { int4GroupProblem, quantizeInt4 } from "../../../src/quant/int4.ts";
import { QuantizationError } from "../../../src/quant/errors.ts";
import { floatWeights, isOutputHead, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { F32_WEIGHTS, INT4_WEIGHTS } from "../../backend/webgpu/kernels/matmul.wgsl.ts";
import { bytesToWords, webGpuLinear } from "../../backend/webgpu/weights.ts";
import { int8LinearWebGpu } from "../int8/webgpu.ts";

export interface Int4WebGpuOptions {
  name: string;
  groupSize: number;
  head: OutputHeadPolicy;
  onIndivisible?: "f32" | "error";
  search?: boolean;
}

/**
 * int4 group layout on webgpu: the packed nibbles uploaded as u32 words, scales and zero points as
 * f32, dequantized inside the matmul kernels. The output head follows the plugin's head policy
 * (int8 per-channel, f32, or int4 like the rest), as on the cpu backend.
 */
export function createInt4LinearWebGpu(layer: LinearLayerInfo, backend: WebGpuBackend, o: Int4WebGpuOptions): QuantLinearMethod {
  const { inFeatures: k, outFeatures: m } = layer;
  const w = floatWeights(o.name, layer);
  const f32 = (note: string) => webGpuLinear(backend, F32_WEIGHTS, [backend.upload(w, [m, k])], k, m, 1, { scheme: "f32", note });
  if (o.head !== "same" && isOutputHead(layer.name)) {
    const note = `${layer.name}: output head kept ${o.head} by ${o.name} (head policy "${o.head}")`;
    return o.head === "f32" ? f32(note) : int8LinearWebGpu(layer, w, backend, note);
  }
  const problem = int4GroupProblem(k, o.groupSize);
  if (problem) {
    if (o.onIndivisible === "error") throw new QuantizationError(`${layer.name}: ${problem}`);
    return f32(`${layer.name} kept f32: ${problem}`);
  }
  const q = quantizeInt4(w, m, k, o.groupSize, { search: o.search ?? false });
  const zeros = Float32Array.from(q.zeros);
  const weights = [backend.upload(bytesToWords(q.packed), [q.packed.byteLength / 4]), backend.upload(q.scales, [q.scales.length]), backend.upload(zeros, [zeros.length])];
  return webGpuLinear(backend, INT4_WEIGHTS, weights, k, m, k / o.groupSize, { scheme: `int4 g${o.groupSize}` });
}
