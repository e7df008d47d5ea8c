import type { QuantPlugin } from "../../../src/plugin/types.ts";
import { INT4_GROUP_SIZES, int4GroupProblem, quantizeInt4 } from "../../../src/quant/int4.ts";
import { QuantizationError } from "../../../src/quant/errors.ts";
import { f32Linear, floatWeights, onlineQuantCheck, type OutputHeadPolicy, type QuantLinearMethod } from "../../../src/quant/online.ts";
import { outputHeadLinear } from "../int8/output-head.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { int4Matmul } from "./cpu-kernels.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { createInt4LinearWebGpu } from "./webgpu.ts";

export interface Int4Options {
  /** Input features per (scale, zero point) group: 32, 64 or 128. */
  groupSize: number;
  /**
   * A layer whose row length the group size does not divide (stories260K's ffn_down: 172): "f32"
   * keeps it unquantized, with a note on the linear (the default); "error" refuses the model.
   */
  onIndivisible?: "f32" | "error";
  /** The output head: int8 per-channel by default (see OutputHeadPolicy). */
  head?: OutputHeadPolicy;
  /** Pick each group's range by a small squared-error search (default false: plain min-max). */
  search?: boolean;
  /** Registry name (default int4, int4-g64, int4-g128). */
  name?: string;
}

/** Registry name of a group size: int4 (32), int4-g64, int4-g128. */
export function int4PluginName(groupSize: number): string {
  return groupSize === 32 ? "int4" : `int4-g${groupSize}`;
}

/**
 * int4 weight-only quantization at load: group-wise, asymmetric with integer zero points, two
 * codes per byte (layout in src/quant/int4.ts).
 */
export function makeInt4Plugin(opts: Int4Options): QuantPlugin {
  const { groupSize } = opts;
  if (!INT4_GROUP_SIZES.includes(groupSize)) {
    throw new QuantizationError(`int4 group size ${groupSize} is not supported; supported: ${INT4_GROUP_SIZES.join(", ")}`);
  }
  const name = opts.name ?? int4PluginName(groupSize);
  const head = opts.head ?? "int8";
  return {
    kind: "quant",
    name,
    description: `int4 weight-only, groups of ${groupSize}, asymmetric (scale + zero point); quantized at load from f32/f16/bf16`,
    check: (backend, tensors) => onlineQuantCheck(name, backend, tensors, ["cpu", "webgpu"]),
    createLinear(layer, backend): QuantLinearMethod {
      if (backend.name === "webgpu") return createInt4LinearWebGpu(layer, backend as WebGpuBackend, { ...opts, name, head });
      const { inFeatures: k, outFeatures: m } = layer;
      const w = floatWeights(name, layer);
      const headMethod = outputHeadLinear(head, name, layer, w, backend);
      if (headMethod) return headMethod;
      const problem = int4GroupProblem(k, groupSize);
      if (problem) {
        if (opts.onIndivisible === "error") throw new QuantizationError(`${layer.name}: ${problem}`);
        return f32Linear(layer, w, backend, `${layer.name} kept f32: ${problem}`);
      }
      const q = quantizeInt4(w, m, k, groupSize, { search: opts.search ?? false });
      const matmul = int4Matmul(backend, q); // WebAssembly SIMD128 when the cpu backend has it, else JS
      return {
        inFeatures: k,
        outFeatures: m,
        weightBytes: q.packed.byteLength + q.scales.byteLength + q.zeros.byteLength,
        scheme: `int4 g${groupSize}`,
        apply: (x, out, n) => matmul(f32(out), f32(x), n),
      };
    },
  };
}

export const int4QuantPlugin: QuantPlugin = makeInt4Plugin({ groupSize: 32 });
export const int4G64QuantPlugin: QuantPlugin = makeInt4Plugin({ groupSize: 64 });
export const int4G128QuantPlugin: QuantPlugin = makeInt4Plugin({ groupSize: 128 });
