/**
 * Whether the webgpu tests run here. They are skipped, with the reason printed, under Bun (the Dawn
 * binding aborts there: see plugins/backend/webgpu/gpu-api.ts) and where no adapter is found;
 * with LLM_REQUIRE_WEBGPU=1 (set by .ci/run) a missing adapter fails the tests instead.
 */
import { webgpuBackendPlugin } from "../../../../plugins/backend/webgpu/index.ts";
import { runtimeName } from "../../../../plugins/backend/webgpu/gpu-api.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { WebGpuBackend as Backend } from "../../../../plugins/backend/webgpu/backend.ts";
import type { AttentionPlugin, AttentionShape } from "../../../../src/plugin/types.ts";
import type { AttnCase } from "../../attention/cases.ts";
import { runAttentionCase } from "../../attention/run-paged-case.ts";

export async function webgpuSkipReason(file: string): Promise<string | null> {
  const reasons = await webgpuBackendPlugin.probe();
  if (!reasons.length) return null;
  if (runtimeName() !== "bun" && process.env.LLM_REQUIRE_WEBGPU === "1") {
    throw new Error(`LLM_REQUIRE_WEBGPU=1 but the webgpu backend cannot run: ${reasons.join("; ")}`);
  }
  console.log(`${file}: webgpu tests skipped: ${reasons.join("; ")}`);
  return reasons.join("; ");
}

export function openWebGpu(): Promise<WebGpuBackend> {
  return Backend.create();
}

/** Deterministic values in [-scale, scale). */
export function seeded(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Setup then step of an attention conformance case through `plugin` on the GPU (layer 1 of 2); the step's output. */
export function runAttentionOnGpu(gpu: WebGpuBackend, plugin: AttentionPlugin, c: AttnCase, shape: AttentionShape): Promise<Float32Array> {
  return runAttentionCase(gpu, plugin, c, shape);
}
