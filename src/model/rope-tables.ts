import type { Backend, RopeTables } from "../plugin/types.ts";
import { dcos, dpow, dsin } from "../util/det-math.ts";

/**
 * cos/sin of pos * freqScale * theta^(-2i/rotDim) for pos < maxPositions, i < rotDim/2 (deterministic
 * math); freqScale < 1 is linear RoPE scaling (llama.cpp's rope_freq_scale = 1 / factor);
 * freqFactors divide each frequency (llama.cpp's rope_freqs / freq_factors, Llama 3.1+).
 */
export function buildRopeTables(
  backend: Backend, rotDim: number, theta: number, maxPositions: number, layout: "normal" | "neox",
  freqScale = 1, freqFactors: readonly number[] | null = null,
): RopeTables {
  const half = rotDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  const freqs = new Float64Array(half);
  for (let i = 0; i < half; i++) freqs[i] = freqScale / (dpow(theta, (2 * i) / rotDim) * (freqFactors?.[i] ?? 1));
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * freqs[i]!;
      cos[p * half + i] = dcos(a);
      sin[p * half + i] = dsin(a);
    }
  }
  return {
    layout,
    rotDim,
    maxPositions,
    cos: backend.upload(cos, [maxPositions, half]),
    sin: backend.upload(sin, [maxPositions, half]),
  };
}
