/**
 * Hugging Face `architectures` class names and the GGUF `general.architecture` llama.cpp's
 * converter (convert_hf_to_gguf.py) writes for each. Mistral converts to "llama".
 */
export const HF_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "llama",
  Qwen2ForCausalLM: "qwen2",
  Qwen3ForCausalLM: "qwen3",
  Gemma2ForCausalLM: "gemma2",
  Gemma3ForCausalLM: "gemma3",
  Phi3ForCausalLM: "phi3",
};

export function supportedHfArchitectures(): string[] {
  return Object.keys(HF_ARCHITECTURES);
}

/** GGUF architectures whose RoPE rotates (x[i], x[i + d/2]) (llama.cpp's LLAMA_ROPE_TYPE_NEOX). */
export const NEOX_ROPE_ARCHITECTURES: readonly string[] = ["qwen2", "qwen3", "gemma2", "gemma3", "phi3"];
