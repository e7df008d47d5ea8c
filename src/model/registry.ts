import { HF_ARCHITECTURES } from "../loader/hf/architectures.ts";
import type { ModelCheckpoint } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";
import { gemma2Config, gemma3Config, llamaConfig, neoxConfig, phi3Config } from "./arch-configs.ts";
import type { LlamaConfig } from "./config.ts";

/**
 * How to read one architecture's hyperparameters. The forward pass is one decoder (llama.ts)
 * whose per-architecture features come from the config (activation, soft-caps, windows, scales)
 * and from which tensors the checkpoint holds (biases, q/k norms, post norms, fused weights).
 */
export interface ArchitectureSpec {
  /** GGUF general.architecture. */
  name: string;
  /** config.json `architectures` class names loaded as this architecture. */
  hfArchitectures: string[];
  config(ck: ModelCheckpoint, vocabSize: number): LlamaConfig;
}

const spec = (name: string, config: ArchitectureSpec["config"]): ArchitectureSpec => ({
  name,
  hfArchitectures: Object.entries(HF_ARCHITECTURES).filter(([, a]) => a === name).map(([hf]) => hf),
  config,
});

const ARCHITECTURES: readonly ArchitectureSpec[] = [
  spec("llama", llamaConfig),
  spec("qwen2", neoxConfig),
  spec("qwen3", neoxConfig),
  spec("gemma2", gemma2Config),
  spec("gemma3", gemma3Config),
  spec("phi3", phi3Config),
];

export function supportedArchitectures(): string[] {
  return ARCHITECTURES.map((a) => a.name);
}

/** The spec whose name or Hugging Face class is `name`, or undefined. */
export function findArchitecture(name: string): ArchitectureSpec | undefined {
  return ARCHITECTURES.find((a) => a.name === name || a.hfArchitectures.includes(name));
}

/** The architecture named by general.architecture; an unknown one is refused with the supported list. */
export function architectureOf(ck: ModelCheckpoint): ArchitectureSpec {
  const name = ck.metadata.get("general.architecture");
  if (name === undefined) throw new ModelFileError(ck.file, "missing required metadata key 'general.architecture'");
  const found = ARCHITECTURES.find((a) => a.name === name);
  if (!found) throw new ModelFileError(ck.file, `unsupported architecture '${String(name)}'; supported: ${supportedArchitectures().join(", ")}`);
  return found;
}
