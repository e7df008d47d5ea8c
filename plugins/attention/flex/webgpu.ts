/**
 * FlexAttention on the webgpu backend: the mods compiled to WGSL (wgsl-kernel.ts) over the f32
 * paged KV cache resident on the GPU (the layout paged and flashinfer use). plan() uploads one i32
 * metadata buffer per step; forward() records the cache write and one attention dispatch per layer.
 * Array params of the mods (ALiBi slopes, document ids, bias tables) are uploaded once.
 */
import type { AttentionImpl, AttentionShape, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import type { Binding } from "../../backend/webgpu/command-stream.ts";
import { gpuTensor } from "../../backend/webgpu/tensor.ts";
import { F32PagedWebGpuAttention, type StepPlan } from "../paged/webgpu.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";
import { FLEX_MAX_HEAD_DIM, flexWgsl, type FlexWgsl } from "./wgsl-kernel.ts";

/** Why flex cannot serve `shape` on webgpu with these mods (empty when it can). */
export function flexWebGpuProblems(shape: AttentionShape, mods: { score?: ScoreMod; mask?: MaskMod }, causal: boolean): string[] {
  const reasons: string[] = [];
  if (shape.headDim > FLEX_MAX_HEAD_DIM) reasons.push(`flex on webgpu supports head size up to ${FLEX_MAX_HEAD_DIM} (got ${shape.headDim})`);
  try {
    flexWgsl(mods.score, mods.mask, causal);
  } catch (e) {
    reasons.push((e as Error).message);
  }
  return reasons;
}

export class FlexAttentionWebGpu extends F32PagedWebGpuAttention implements AttentionImpl {
  readonly wgsl: FlexWgsl;
  private readonly modParams: DeviceTensor | null;

  constructor(shape: AttentionShape, backend: WebGpuBackend, mods: { score?: ScoreMod; mask?: MaskMod }, causal: boolean) {
    super(shape, backend, true); // each request's sequence length: the non-causal mods read it
    this.wgsl = flexWgsl(mods.score, mods.mask, causal);
    const vals = this.wgsl.modParams;
    this.modParams = vals.length ? backend.upload(vals, [vals.length]) : null;
  }

  forward(layer: number, q: DeviceTensor, k: DeviceTensor, v: DeviceTensor, cache: KVCache, metadata: unknown, out: DeviceTensor): void {
    const { batch: b, meta } = metadata as StepPlan;
    const { numHeads, numKvHeads, headDim, smScale } = this.shape;
    const n = b.numTokens;
    if (n === 0) return;
    const [kc, vc] = this.writeCache(layer, k, v, cache, meta, n);
    const g = gpuTensor;
    const bindings: Binding[] = [{ tensor: g(out), write: true }, { tensor: g(q) }, { tensor: g(kc) }, { tensor: g(vc) }, { tensor: g(meta) }];
    if (this.modParams) bindings.push({ tensor: g(this.modParams) });
    this.backend.dispatch(
      this.wgsl.kernel, [n, numHeads, numKvHeads, headDim, b.blockSize, b.maxBlocksPerReq, b.numReqs, smScale, Infinity],
      bindings, n * numHeads,
    );
  }
}
