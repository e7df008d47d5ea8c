import type { LinearMethod, QuantPlugin } from "../../../src/plugin/types.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { dequantize } from "../../../src/loader/gguf/dequantize.ts";

const READABLE = [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0];

/** Unquantized linear layers: weights held as f32 (f16/bf16/q8_0 files are widened at load). */
export const noneQuantPlugin: QuantPlugin = {
  kind: "quant",
  name: "none",
  description: "f32 weights; f16, bf16 and q8_0 tensors are dequantized to f32 at load",
  check(_backend, tensors) {
    const bad = tensors.filter((t) => !READABLE.includes(t.type));
    return bad.length ? [`none cannot read tensor type ${GGMLType[bad[0]!.type] ?? bad[0]!.type} (${bad[0]!.name}); readable: F32, F16, BF16, Q8_0`] : [];
  },
  createLinear(layer, backend): LinearMethod {
    const w = backend.upload(dequantize(layer.tensor), [layer.outFeatures, layer.inFeatures]);
    return {
      inFeatures: layer.inFeatures,
      outFeatures: layer.outFeatures,
      weightBytes: layer.inFeatures * layer.outFeatures * 4,
      apply(x, out, numRows) {
        backend.ops.matmul(out, x, w, numRows);
      },
    };
  },
};
