import type { DeviceTensor, LinearMethod } from "../../../src/plugin/types.ts";
import type { WebGpuBackend } from "./backend.ts";
import type { WeightFormat } from "./kernels/matmul.wgsl.ts";
import { enqueueLinear } from "./ops.ts";

/** Copies bytes into a new Int32Array (u32 words for the GPU), zero-padded to whole words. */
export function bytesToWords(bytes: Uint8Array): Int32Array {
  const words = new Int32Array(Math.ceil(bytes.byteLength / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/**
 * A LinearMethod over weights already on the GPU in `fmt` (the buffers `fmt` binds, in order).
 * nb = blocks (or groups) per row, as the format's w4() reads it.
 */
export function webGpuLinear(
  backend: WebGpuBackend, fmt: WeightFormat, weights: readonly DeviceTensor[], k: number, m: number, nb: number,
  extra: { scheme?: string; note?: string } = {},
): LinearMethod & { scheme: string; note?: string } {
  const weightBytes = weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  return {
    inFeatures: k,
    outFeatures: m,
    weightBytes,
    scheme: extra.scheme ?? `${fmt.name} (webgpu)`,
    ...(extra.note ? { note: extra.note } : {}),
    apply: (x, out, n) => enqueueLinear(backend, fmt, out, x, weights, n, k, m, nb),
  };
}
