/**
 * The flex attention plugin: FlexAttention's score/mask mods, compiled into the kernel, over the
 * paged KV cache. The built-in `flex` serves models as they are (causal, plus the model's sliding
 * window and soft-cap); models.yaml can add mods (spec.ts), and createFlexPlugin() makes a
 * variant with mods of your own (register it with --plugin or PluginRegistry.register).
 */
import type { AttentionPlugin, AttentionShape } from "../../../src/plugin/types.ts";
import { causal, slidingWindow, tanhSoftCap } from "./builtins.ts";
import type { WebGpuBackend } from "../../backend/webgpu/backend.ts";
import { FlexAttentionCpu } from "./cpu.ts";
import { and, compose, type MaskMod, type ScoreMod } from "./mods.ts";
import { BUILTIN_MODS, parseFlexOptions, type NamedMod } from "./spec.ts";
import { FlexAttentionWebGpu, flexWebGpuProblems } from "./webgpu.ts";

export interface FlexPluginConfig {
  name?: string;
  description?: string;
  /** Mods applied to every model this plugin serves (after the model's own soft-cap / window). */
  scoreMod?: ScoreMod;
  maskMod?: MaskMod;
  /** Extra mods models.yaml may name (beside the built-ins). */
  mods?: Readonly<Record<string, NamedMod>>;
  /** And the mask with causal (default true: the engine generates left to right). */
  causal?: boolean;
}

function resolve(shape: AttentionShape, cfg: FlexPluginConfig): { score?: ScoreMod; mask?: MaskMod; qBlockSize: number } {
  const named = { ...BUILTIN_MODS, ...cfg.mods };
  const opts = parseFlexOptions(shape, named);
  const isCausal = cfg.causal !== false;
  if (isCausal && opts.nonCausal.length) {
    throw new Error(`flex: mod ${opts.nonCausal.join(", ")} attends to later positions, which a causal engine with chunked prefill cannot serve (use it through createFlexPlugin({ causal: false }) or flexAttention())`);
  }
  const masks = [
    ...(isCausal ? [causal()] : []),
    ...(shape.slidingWindow !== null ? [slidingWindow(shape.slidingWindow)] : []),
    ...(cfg.maskMod ? [cfg.maskMod] : []),
    ...(opts.mask ? [opts.mask] : []),
  ];
  const scores = [
    ...(shape.logitsSoftCap ? [tanhSoftCap(shape.logitsSoftCap)] : []),
    ...(cfg.scoreMod ? [cfg.scoreMod] : []),
    ...(opts.score ? [opts.score] : []),
  ];
  const out: { score?: ScoreMod; mask?: MaskMod; qBlockSize: number } = { qBlockSize: opts.qBlockSize };
  if (masks.length) out.mask = and(...masks);
  if (scores.length) out.score = compose(...scores);
  return out;
}

export function createFlexPlugin(cfg: FlexPluginConfig = {}): AttentionPlugin {
  return {
    kind: "attention",
    name: cfg.name ?? "flex",
    description: cfg.description ?? "FlexAttention: score/mask mods compiled into the kernel (JavaScript on cpu, WGSL on webgpu), over the paged cache",
    check(shape, backend) {
      const reasons: string[] = [];
      const onGpu = backend.name === "webgpu";
      if (backend.name !== "cpu" && !onGpu) reasons.push(`flex has no implementation for backend "${backend.name}" (has: cpu, webgpu)`);
      if (shape.numHeads % shape.numKvHeads !== 0) reasons.push(`head count ${shape.numHeads} is not a multiple of KV head count ${shape.numKvHeads}`);
      if (shape.kvCacheDtype && shape.kvCacheDtype !== "auto") reasons.push(`flex keeps an f32 KV cache; kv cache dtype ${shape.kvCacheDtype} is not supported (paged has it)`);
      if (shape.layerSlidingWindows?.some((w) => w !== shape.slidingWindow)) reasons.push(`flex has one sliding window for all layers; per-layer windows (local/global layers) are not supported (paged has them)`);
      try {
        const mods = resolve(shape, cfg);
        // Compiles the kernel: expression errors surface here.
        if (onGpu) reasons.push(...flexWebGpuProblems(shape, mods, cfg.causal !== false));
        else new FlexAttentionCpu(shape, backend, mods, mods.qBlockSize);
      } catch (e) {
        reasons.push((e as Error).message);
      }
      return reasons;
    },
    create(shape, backend) {
      const mods = resolve(shape, cfg);
      if (backend.name === "webgpu") return new FlexAttentionWebGpu(shape, backend as WebGpuBackend, mods, cfg.causal !== false);
      return new FlexAttentionCpu(shape, backend, mods, mods.qBlockSize);
    },
  };
}

export const flexAttentionPlugin: AttentionPlugin = createFlexPlugin();

export { and, compose, maskMod, or, scoreMod, type MaskMod, type MaskModFn, type ModParams, type ScoreMod, type ScoreModFn } from "./mods.ts";
export { alibi, alibiSlopes, causal, causalSlidingWindow, documentMask, prefixLm, relativePositionBias, slidingWindow, tanhSoftCap } from "./builtins.ts";
export { compileFlex, flexAttention, type FlexDims } from "./dense.ts";
export { BUILTIN_MODS, type NamedMod } from "./spec.ts";
