import type { AttentionPlugin } from "../../../src/plugin/types.ts";
import { PagedAttentionCpu } from "./cpu.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { PagedAttentionWebGpu, pagedWebGpuProblems } from "./webgpu.ts";

/** The reference PagedAttention: simple and exact; the oracle other attention plugins are held to. */
export const pagedAttentionPlugin: AttentionPlugin = {
  kind: "attention",
  name: "paged",
  description: "reference PagedAttention over block tables (exact; causal, GQA, sliding window per layer, logit soft-cap)",
  check(shape, backend) {
    const reasons: string[] = [];
    if (backend.name === "webgpu") reasons.push(...pagedWebGpuProblems(shape));
    else if (backend.name !== "cpu") reasons.push(`paged has no implementation for backend "${backend.name}" (has: cpu, webgpu)`);
    if (shape.numHeads % shape.numKvHeads !== 0) reasons.push(`head count ${shape.numHeads} is not a multiple of KV head count ${shape.numKvHeads}`);
    if (shape.layerSlidingWindows && shape.layerSlidingWindows.length !== shape.numLayers) {
      reasons.push(`layerSlidingWindows has ${shape.layerSlidingWindows.length} entries for ${shape.numLayers} layers`);
    }
    const opts = Object.keys(shape.options ?? {});
    if (opts.length) reasons.push(`paged takes no attention options (got ${opts.join(", ")})`);
    return reasons;
  },
  create(shape, backend) {
    if (backend.name === "webgpu") return new PagedAttentionWebGpu(shape, backend as WebGpuBackend);
    return new PagedAttentionCpu(shape, backend);
  },
};
