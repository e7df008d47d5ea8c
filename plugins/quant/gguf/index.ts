import type { LinearMethod, QuantPlugin } from "../../../src/plugin/types.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { dequantize } from "../../../src/loader/gguf/dequantize.ts";
import { f32 } from "../../backend/cpu/tensor.ts";
import { matmulF16, matmulQ8_0 } from "./cpu-kernels.ts";

const SUPPORTED = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0];

/** Computes on GGUF tensors as stored: Q8_0 and F16 weights stay in their block format in memory. */
export const ggufQuantPlugin: QuantPlugin = {
  kind: "quant",
  name: "gguf",
  description: "GGUF block formats used in place: Q8_0 and F16 (BF16 widened to f32)",
  check(backend, tensors) {
    const reasons: string[] = [];
    if (backend.name !== "cpu") reasons.push(`gguf has no kernels for backend "${backend.name}" (has: cpu)`);
    const bad = tensors.find((t) => !SUPPORTED.includes(t.type));
    if (bad) reasons.push(`gguf cannot compute on tensor type ${GGMLType[bad.type] ?? bad.type} (${bad.name}); supported: F32, F16, BF16, Q8_0`);
    return reasons;
  },
  createLinear(layer, backend): LinearMethod {
    const { tensor, inFeatures: k, outFeatures: m } = layer;
    const base = { inFeatures: k, outFeatures: m };
    if (tensor.type === GGMLType.Q8_0) {
      const bytes = tensor.data; // used in place: a view into the loaded file
      return { ...base, weightBytes: bytes.byteLength, apply: (x, out, n) => matmulQ8_0(f32(out), f32(x), bytes, n, k, m) };
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
