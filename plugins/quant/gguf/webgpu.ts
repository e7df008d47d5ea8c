import type { LinearLayerInfo, LinearMethod } from "../../../src/plugin/types.ts";
import { GGMLType, type HostTensor } from "../../../src/loader/types.ts";
import { dequantize } from "../../../src/loader/gguf/dequantize.ts";
import { ggmlTypeName } from "../../../src/loader/gguf/ggml-types.ts";
import { HALF } from "../../../src/quant/half.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { F16_WEIGHTS, F32_WEIGHTS, Q4_0_WEIGHTS, Q8_0_WEIGHTS } from "../../backend/webgpu/kernels/matmul.wgsl.ts";
import { bytesToWords, webGpuLinear } from "../../backend/webgpu/weights.ts";

/** Tensor types the gguf plugin computes on under webgpu (Q8_0/Q4_0 stay quantized, F16 stays f16; BF16 runs as f32). */
export const WEBGPU_TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0];

/** Reasons the gguf plugin cannot run these tensors on webgpu. */
export function ggufWebGpuProblems(tensors: readonly HostTensor[]): string[] {
  const bad = tensors.find((t) => t.dims.length >= 2 && !WEBGPU_TYPES.includes(t.type));
  if (!bad) return [];
  return [`gguf on webgpu has kernels for ${WEBGPU_TYPES.map(ggmlTypeName).join(", ")}, not ${ggmlTypeName(bad.type)} (${bad.name}); run it with --backend cpu`];
}

/**
 * Splits GGML blocks (f16 scale, then `codeBytes` code bytes) into f32 scales and the code bytes as
 * u32 words: GPU storage is read in 4-byte words and a 34- or 18-byte block straddles them.
 */
function splitBlocks(data: Uint8Array, numBlocks: number, codeBytes: number): { scales: Float32Array; codes: Int32Array } {
  const stride = 2 + codeBytes;
  if (data.byteLength < numBlocks * stride) throw new Error(`tensor holds ${data.byteLength} bytes, expected ${numBlocks * stride}`);
  const scales = new Float32Array(numBlocks);
  const codes = new Uint8Array(numBlocks * codeBytes);
  for (let b = 0; b < numBlocks; b++) {
    const o = b * stride;
    scales[b] = HALF[data[o]! | (data[o + 1]! << 8)]!;
    codes.set(data.subarray(o + 2, o + stride), b * codeBytes);
  }
  return { scales, codes: bytesToWords(codes) };
}

/** A gguf linear layer on webgpu: Q8_0 and Q4_0 repacked once at upload, computed quantized; F16 kept f16; F32/BF16 as f32. */
export function createGgufLinearWebGpu(layer: LinearLayerInfo, backend: WebGpuBackend): LinearMethod {
  const { tensor, inFeatures: k, outFeatures: m } = layer;
  if (tensor.type === GGMLType.Q8_0 || tensor.type === GGMLType.Q4_0) {
    if (k % 32 !== 0) throw new Error(`${tensor.name}: row length ${k} is not a multiple of the ${ggmlTypeName(tensor.type)} block size 32`);
    const nb = k / 32;
    const q8 = tensor.type === GGMLType.Q8_0;
    const { scales, codes } = splitBlocks(tensor.data, m * nb, q8 ? 32 : 16);
    const w = [backend.upload(scales, [m * nb]), backend.upload(codes, [codes.length])];
    return webGpuLinear(backend, q8 ? Q8_0_WEIGHTS : Q4_0_WEIGHTS, w, k, m, nb);
  }
  if (!WEBGPU_TYPES.includes(tensor.type)) throw new Error(ggufWebGpuProblems([tensor])[0]);
  if (tensor.type === GGMLType.F16 && k % 4 === 0) {
    // Kept as f16 (the file's bytes as u32 words), widened inside the kernels.
    const words = bytesToWords(tensor.data.subarray(0, m * k * 2));
    return webGpuLinear(backend, F16_WEIGHTS, [backend.upload(words, [words.length])], k, m, 1);
  }
  return webGpuLinear(backend, F32_WEIGHTS, [backend.upload(dequantize(tensor), [m, k])], k, m, 1);
}
