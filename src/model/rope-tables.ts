import type { Backend, RopeTables } from "../plugin/types.ts";
import { dcos, dpow, dsin } from "../util/det-math.ts";

/** cos/sin of pos * theta^(-2i/rotDim) for pos < maxPositions, i < rotDim/2 (deterministic math). */
export function buildRopeTables(backend: Backend, rotDim: number, theta: number, maxPositions: number, layout: "normal" | "neox"): RopeTables {
  const half = rotDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  const freqs = new Float64Array(half);
  for (let i = 0; i < half; i++) freqs[i] = 1 / dpow(theta, (2 * i) / rotDim);
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
