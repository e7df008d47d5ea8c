import type { AttentionPlugin } from "../../../src/plugin/types.ts";
import { PagedAttentionCpu } from "./cpu.ts";

/** The reference PagedAttention: simple and exact; the oracle other attention plugins are held to. */
export const pagedAttentionPlugin: AttentionPlugin = {
  kind: "attention",
  name: "paged",
  description: "reference PagedAttention over block tables (exact; causal, GQA, sliding window)",
  check(shape, backend) {
    const reasons: string[] = [];
    if (backend.name !== "cpu") reasons.push(`paged has no implementation for backend "${backend.name}" (has: cpu)`);
    if (shape.numHeads % shape.numKvHeads !== 0) reasons.push(`head count ${shape.numHeads} is not a multiple of KV head count ${shape.numKvHeads}`);
    if (shape.logitsSoftCap) reasons.push(`paged has no logits soft-cap (${shape.logitsSoftCap}); use flashinfer or flex`);
    const opts = Object.keys(shape.options ?? {});
    if (opts.length) reasons.push(`paged takes no attention options (got ${opts.join(", ")})`);
    return reasons;
  },
  create(shape, backend) {
    return new PagedAttentionCpu(shape, backend);
  },
};
