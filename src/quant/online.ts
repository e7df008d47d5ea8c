/**
 * Shared pieces of the plugins that quantize float weights while loading (int8, int4, fp8):
 * the check() they share, reading a layer's weights as f32, and the f32 fallback linear.
 */
import { dequantize } from "../loader/gguf/dequantize.ts";
import { ggmlTypeName } from "../loader/gguf/ggml-types.ts";
import { GGMLType, type HostTensor } from "../loader/types.ts";
import type { Backend, LinearLayerInfo, LinearMethod } from "../plugin/types.ts";
import { QuantizationError } from "./errors.ts";

/** Weight types an online-quantizing plugin reads. */
export const FLOAT_WEIGHT_TYPES: readonly GGMLType[] = [GGMLType.F32, GGMLType.F16, GGMLType.BF16];

/** A linear layer as a quant plugin made it, with what it did (for --explain, tests and benches). */
export interface QuantLinearMethod extends LinearMethod {
  /** "int4 g32", "int8 per-channel", "f32", ... */
  readonly scheme: string;
  /** Why the layer was not quantized as asked (set only on a fallback). */
  readonly note?: string;
}

function unreadable(plugin: string, t: HostTensor): string {
  return `${plugin} quantizes float weights at load and cannot read tensor type ${ggmlTypeName(t.type)} (${t.name}); ` +
    `readable: ${FLOAT_WEIGHT_TYPES.map(ggmlTypeName).join(", ")} (run block-quantized GGUF files with --quant gguf)`;
}

/**
 * What an online-quantizing plugin does with the output head (output.weight, or token_embd.weight
 * when the head is tied to the embedding): keep it f32 (vLLM leaves lm_head unquantized unless a
 * checkpoint says otherwise), quantize it to int8 per-channel (llama.cpp keeps the output tensor at
 * 6 to 8 bits in its 4-bit files), or quantize it like every other linear ("same").
 */
export type OutputHeadPolicy = "f32" | "int8" | "same";

export function isOutputHead(name: string): boolean {
  return name === "output.weight" || name === "token_embd.weight";
}

/** Reasons an online-quantizing plugin cannot load these tensors on this backend. */
export function onlineQuantCheck(plugin: string, backend: Backend, tensors: readonly HostTensor[], backends: readonly string[] = ["cpu"]): string[] {
  const reasons: string[] = [];
  if (!backends.includes(backend.name)) reasons.push(`${plugin} has no kernels for backend "${backend.name}" (has: ${backends.join(", ")})`);
  const bad = tensors.find((t) => t.dims.length >= 2 && !FLOAT_WEIGHT_TYPES.includes(t.type));
  if (bad) reasons.push(unreadable(plugin, bad));
  return reasons;
}

/** The layer's weights as f32 [outFeatures, inFeatures]; QuantizationError for a type it cannot read. */
export function floatWeights(plugin: string, layer: LinearLayerInfo): Float32Array {
  if (!FLOAT_WEIGHT_TYPES.includes(layer.tensor.type)) throw new QuantizationError(unreadable(plugin, layer.tensor));
  return dequantize(layer.tensor);
}

/** The unquantized linear, used where a scheme cannot take a layer (`note` says why). */
export function f32Linear(layer: LinearLayerInfo, w: Float32Array, backend: Backend, note?: string): QuantLinearMethod {
  const t = backend.upload(w, [layer.outFeatures, layer.inFeatures]);
  return {
    inFeatures: layer.inFeatures,
    outFeatures: layer.outFeatures,
    weightBytes: w.length * 4,
    scheme: "f32",
    ...(note ? { note } : {}),
    apply: (x, out, n) => backend.ops.matmul(out, x, t, n),
  };
}
