import type { AttentionShape } from "../plugin/types.ts";
import type { LlamaConfig } from "./config.ts";

/** The attention facts of a model config (scale, windows, soft-cap) as plugins read them. */
export function attentionShapeOf(config: LlamaConfig): AttentionShape {
  const shape: AttentionShape = {
    numLayers: config.numLayers,
    numHeads: config.numHeads,
    numKvHeads: config.numKvHeads,
    headDim: config.headDim,
    smScale: config.smScale,
    slidingWindow: config.slidingWindow,
  };
  if (config.layerSlidingWindows) shape.layerSlidingWindows = config.layerSlidingWindows;
  if (config.attnSoftCap !== null) shape.logitsSoftCap = config.attnSoftCap;
  return shape;
}
