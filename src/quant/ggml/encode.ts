/**
 * f32 rows → GGML tensor bytes for every type `llm quantize` writes: F32, F16, Q8_0 (the loader's
 * encoders) and Q4_0, Q4_K, Q6_K (llama.cpp's reference quantizers, rewritten here).
 */
import { encodeTensorData } from "../../loader/gguf/encode.ts";
import { GGMLType } from "../../loader/types.ts";
import { quantizeQ4_0 } from "./q4_0.ts";
import { quantizeQ4_K } from "./q4_k.ts";
import { quantizeQ6_K } from "./q6_k.ts";

export const GGML_QUANTIZE_TYPES: readonly GGMLType[] = [GGMLType.F32, GGMLType.F16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K];

/** The bytes of `values` (whole rows) stored as `type`. */
export function encodeGgml(type: GGMLType, values: Float32Array): Uint8Array {
  switch (type) {
    case GGMLType.Q4_0: return quantizeQ4_0(values);
    case GGMLType.Q4_K: return quantizeQ4_K(values);
    case GGMLType.Q6_K: return quantizeQ6_K(values);
    case GGMLType.F32: case GGMLType.F16: case GGMLType.Q8_0: {
      const b = encodeTensorData(type, values);
      // encodeTensorData returns a view of an f32 input; copy so the caller owns the bytes.
      return type === GGMLType.F32 ? b.slice() : b;
    }
    default:
      throw new RangeError(`cannot quantize to ${GGMLType[type] ?? type}; supported: ${GGML_QUANTIZE_TYPES.map((t) => GGMLType[t]).join(", ")}`);
  }
}
