import type { AttentionShape, Backend, DeviceTensor, KVCache } from "../../../src/plugin/types.ts";

/** Bytes of f32 K and V per token over all layers. */
export function f32KvBytesPerToken(shape: AttentionShape): number {
  return 2 * shape.numLayers * shape.numKvHeads * shape.headDim * 4;
}

/** The f32 paged KV cache the cpu attention plugins share: K and V per layer as [numBlocks, blockSize, numKvHeads, headDim]. */
export function allocateF32KvCache(backend: Backend, shape: AttentionShape, numBlocks: number, blockSize: number): KVCache {
  const dims = [numBlocks, blockSize, shape.numKvHeads, shape.headDim];
  const layers: Array<readonly [DeviceTensor, DeviceTensor]> = [];
  for (let l = 0; l < shape.numLayers; l++) layers.push([backend.empty(dims), backend.empty(dims)]);
  return { numBlocks, blockSize, layers, bytesPerToken: f32KvBytesPerToken(shape) };
}
