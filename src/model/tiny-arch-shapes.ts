/**
 * Tiny shapes, one per supported architecture (and Mistral), for random-weight test models that
 * exercise each architecture's features: separate head_dim, biases, q/k norms, small sliding
 * windows and soft-caps, local/global RoPE bases, fused weights, tied and untied outputs.
 */
export type TinyArch = "llama" | "llama3" | "mistral" | "qwen2" | "qwen3" | "gemma2" | "gemma3" | "phi3";
export const TINY_ARCHS: readonly TinyArch[] = ["llama", "llama3", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"];

export interface TinyArchShape {
  /** GGUF general.architecture. */
  ggufArch: string;
  /** config.json architectures[0] and model_type. */
  hfArch: string;
  modelType: string;
  dim: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  hiddenDim: number;
  vocabSize: number;
  contextLength: number;
  ropeTheta: number;
  rmsEps: number;
  tied: boolean;
  /** Mistral's (HF only: llama.cpp's converter drops it) or Gemma's local-layer window. */
  slidingWindow?: number;
  attnSoftCap?: number;
  finalSoftCap?: number;
  ropeLocalTheta?: number;
  /** Llama 3.1-style rope scaling (config.json rope_scaling, rope_type "llama3"). */
  llama3Scaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };
}

const base = { dim: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, hiddenDim: 128, vocabSize: 512, contextLength: 256, ropeTheta: 10000, rmsEps: 1e-6, tied: false };

export const TINY_ARCH_SHAPES: Readonly<Record<TinyArch, TinyArchShape>> = {
  llama: { ...base, ggufArch: "llama", hfArch: "LlamaForCausalLM", modelType: "llama", rmsEps: 1e-5 },
  llama3: {
    ...base, ggufArch: "llama", hfArch: "LlamaForCausalLM", modelType: "llama", rmsEps: 1e-5, ropeTheta: 500000, tied: true,
    // An original context of 64 puts the 8 frequencies of a 16-wide head in all three bands.
    llama3Scaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 },
  },
  mistral: { ...base, ggufArch: "llama", hfArch: "MistralForCausalLM", modelType: "mistral", tied: false, slidingWindow: 64 },
  qwen2: { ...base, ggufArch: "qwen2", hfArch: "Qwen2ForCausalLM", modelType: "qwen2", ropeTheta: 1000000, tied: true },
  qwen3: { ...base, ggufArch: "qwen3", hfArch: "Qwen3ForCausalLM", modelType: "qwen3", headDim: 32, ropeTheta: 1000000, tied: true },
  gemma2: { ...base, ggufArch: "gemma2", hfArch: "Gemma2ForCausalLM", modelType: "gemma2", headDim: 32, tied: true, slidingWindow: 4, attnSoftCap: 1, finalSoftCap: 5 },
  gemma3: { ...base, ggufArch: "gemma3", hfArch: "Gemma3ForCausalLM", modelType: "gemma3_text", numLayers: 6, headDim: 32, tied: true, slidingWindow: 4, ropeTheta: 1000000, ropeLocalTheta: 10000 },
  phi3: { ...base, ggufArch: "phi3", hfArch: "Phi3ForCausalLM", modelType: "phi3", rmsEps: 1e-5 },
};
