/** Builds small llama2.c checkpoints for tests: float k of the weights holds the value k. */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** Negative: untied classifier (wcls follows the freq_cis tables). */
  vocabSize: number;
  seqLen: number;
}

export function llama2cFloatCount(h: Llama2cHeader): number {
  const vocab = Math.abs(h.vocabSize);
  const headSize = h.dim / h.nHeads;
  const kvDim = headSize * h.nKvHeads;
  const perLayer = 2 * h.dim + 2 * h.dim * h.dim + 2 * kvDim * h.dim + 3 * h.hiddenDim * h.dim;
  return vocab * h.dim * (h.vocabSize < 0 ? 2 : 1) + h.nLayers * perLayer + h.dim + h.seqLen * headSize;
}

/** Header + `floats` f32 values (default: exactly what the header implies). */
export function makeLlama2c(h: Llama2cHeader, floats = llama2cFloatCount(h)): Uint8Array {
  const bytes = new Uint8Array(28 + 4 * floats);
  const v = new DataView(bytes.buffer);
  [h.dim, h.hiddenDim, h.nLayers, h.nHeads, h.nKvHeads, h.vocabSize, h.seqLen].forEach((x, i) => v.setInt32(4 * i, x, true));
  for (let k = 0; k < floats; k++) v.setFloat32(28 + 4 * k, k, true);
  return bytes;
}

export const TINY: Llama2cHeader = { dim: 8, hiddenDim: 12, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 10, seqLen: 6 };
