import type { AttentionPlugin } from "../../../src/plugin/types.ts";
import { FlashInferAttentionCpu } from "./cpu.ts";
import { resolveFlashInferOptions } from "./options.ts";

/**
 * FlashInfer's design on the cpu backend: plan/run split over a compressed page table, ragged
 * prefill (causal) merged with the paged context, split-KV decode with log-sum-exp merges, cascade
 * attention for shared prefixes; sliding window (window_left), logits soft-cap, sm_scale.
 */
export const flashInferAttentionPlugin: AttentionPlugin = {
  kind: "attention",
  name: "flashinfer",
  description: "FlashInfer-style plan/run: ragged prefill, split-KV decode, cascade shared prefixes (window, soft-cap)",
  check(shape, backend) {
    const reasons: string[] = [];
    if (backend.name !== "cpu") reasons.push(`flashinfer has no implementation for backend "${backend.name}" (has: cpu)`);
    if (shape.numHeads % shape.numKvHeads !== 0) reasons.push(`head count ${shape.numHeads} is not a multiple of KV head count ${shape.numKvHeads}`);
    if (shape.kvCacheDtype && shape.kvCacheDtype !== "auto") reasons.push(`flashinfer keeps an f32 KV cache; kv cache dtype ${shape.kvCacheDtype} is not supported (paged has it)`);
    if (shape.layerSlidingWindows?.some((w) => w !== shape.slidingWindow)) reasons.push(`flashinfer has one sliding window for all layers; per-layer windows (local/global layers) are not supported (paged has them)`);
    reasons.push(...resolveFlashInferOptions(shape).reasons);
    return reasons;
  },
  create(shape, backend) {
    const { options, reasons } = resolveFlashInferOptions(shape);
    if (reasons.length) throw new Error(reasons.join("; "));
    return new FlashInferAttentionCpu(shape, backend, options);
  },
};
