import type { LinearMethod, QuantPlugin } from "../../../src/plugin/types.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { dequantize } from "../../../src/loader/gguf/dequantize.ts";
import { ggmlTypeName } from "../../../src/loader/gguf/ggml-types.ts";
import { BLOCK_CODECS } from "../../../src/quant/ggml/decode.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { matmulF16, matmulQ4_0, matmulQ8_0, wasmGgufMatmul } from "./cpu-kernels.ts";
import { q8Activations, quantizeRowsQ8_0, type Q8Activations } from "./q8-activation.ts";
import { blockScratch, matmulBlocks, type BlockScratch } from "./block-kernels.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { createGgufLinearWebGpu, ggufWebGpuProblems } from "./webgpu.ts";

const SUPPORTED = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K];
const SUPPORTED_NAMES = SUPPORTED.map(ggmlTypeName).join(", ");

/**
 * Computes on GGUF tensors as stored: Q8_0, Q4_0, Q4_K, Q6_K and F16 weights stay in their file
 * format in memory (views into the loaded file) and are decoded a block at a time inside the dot
 * products (WebAssembly SIMD128 kernels on the cpu backend when it has them, copied once into its
 * wasm memory; JS otherwise). BF16 is used in place by the wasm kernel, else as f32; F32 as f32.
 */
export const ggufQuantPlugin: QuantPlugin = {
  kind: "quant",
  name: "gguf",
  description: `GGUF block formats used in place: Q8_0, Q4_0, Q4_K, Q6_K and F16 (BF16 too with WebAssembly SIMD, else widened to f32)`,
  check(backend, tensors) {
    const reasons: string[] = [];
    if (backend.name === "webgpu") reasons.push(...ggufWebGpuProblems(tensors));
    else if (backend.name !== "cpu") reasons.push(`gguf has no kernels for backend "${backend.name}" (has: cpu, webgpu)`);
    const bad = tensors.find((t) => !SUPPORTED.includes(t.type));
    if (bad) reasons.push(`gguf cannot compute on tensor type ${ggmlTypeName(bad.type)} (${bad.name}); supported: ${SUPPORTED_NAMES}`);
    return reasons;
  },
  createLinear(layer, backend): LinearMethod {
    const { tensor, inFeatures: k, outFeatures: m } = layer;
    const base = { inFeatures: k, outFeatures: m };
    if (backend.name === "webgpu") return createGgufLinearWebGpu(layer, backend as WebGpuBackend);
    if (!SUPPORTED.includes(tensor.type)) {
      throw new Error(`gguf cannot compute on tensor type ${ggmlTypeName(tensor.type)} (${tensor.name}); supported: ${SUPPORTED_NAMES}`);
    }
    // WebAssembly SIMD128 on the cpu backend: the weights are copied once into its wasm memory (Q8_0/Q4_0
    // regrouped into 8-column groups, see plugins/backend/cpu/wasm/q8act.ts; the C addon reads them as stored).
    const simd = wasmGgufMatmul(backend, tensor.type, tensor.data, k, m);
    if (simd) return { ...base, weightBytes: tensor.data.byteLength, apply: (x, out, n) => simd(f32(out), f32(x), n) };
    if ((tensor.type === GGMLType.Q8_0 || tensor.type === GGMLType.Q4_0) && k % 32 === 0) {
      // Activations quantized to Q8_0 per call (the contract the wasm and native kernels follow too).
      const bytes = tensor.data, kernel = tensor.type === GGMLType.Q8_0 ? matmulQ8_0 : matmulQ4_0; // used in place: a view into the loaded file
      let act: Q8Activations | undefined;
      return {
        ...base,
        weightBytes: bytes.byteLength,
        apply(x, out, n) {
          act = q8Activations(n, k, act);
          quantizeRowsQ8_0(f32(x), act);
          kernel(f32(out), act, bytes, m);
        },
      };
    }
    const codec = BLOCK_CODECS.get(tensor.type);
    if (codec) {
      if (k % codec.blockSize !== 0) throw new Error(`${tensor.name}: row length ${k} is not a multiple of the ${ggmlTypeName(tensor.type)} block size ${codec.blockSize}`);
      const bytes = tensor.data;
      let scratch: BlockScratch | undefined;
      return {
        ...base,
        weightBytes: bytes.byteLength,
        apply(x, out, n) {
          scratch = blockScratch(codec, n, scratch);
          matmulBlocks(f32(out), f32(x), bytes, n, k, m, codec, scratch);
        },
      };
    }
    if (tensor.type === GGMLType.F16) {
      const d = tensor.data.byteOffset % 2 === 0 ? tensor.data : tensor.data.slice();
      const halfs = new Uint16Array(d.buffer, d.byteOffset, d.byteLength / 2);
      return { ...base, weightBytes: halfs.byteLength, apply: (x, out, n) => matmulF16(f32(out), f32(x), halfs, n, k, m) };
    }
    const w = backend.upload(dequantize(tensor), [m, k]);
    return { ...base, weightBytes: k * m * 4, apply: (x, out, n) => backend.ops.matmul(out, x, w, n) };
  },
};
