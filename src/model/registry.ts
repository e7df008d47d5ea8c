import type { ModelCheckpoint } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";
import { llamaConfigFromMetadata, type LlamaConfig } from "./config.ts";

/** How to read one architecture's hyperparameters; the forward pass is the Llama decoder for all listed here. */
export interface ArchitectureSpec {
  name: string;
  config(ck: ModelCheckpoint, vocabSize: number): LlamaConfig;
}

const ARCHITECTURES: readonly ArchitectureSpec[] = [
  // GGUF llama files store Q/K permuted for llama.cpp's adjacent-pair ("normal") RoPE.
  { name: "llama", config: (ck, vocab) => llamaConfigFromMetadata(ck.metadata, vocab, ck.file, "normal") },
];

export function supportedArchitectures(): string[] {
  return ARCHITECTURES.map((a) => a.name);
}

/** The architecture named by general.architecture; an unknown one is refused with the supported list. */
export function architectureOf(ck: ModelCheckpoint): ArchitectureSpec {
  const name = ck.metadata.get("general.architecture");
  if (name === undefined) throw new ModelFileError(ck.file, "missing required metadata key 'general.architecture'");
  const spec = ARCHITECTURES.find((a) => a.name === name);
  if (!spec) throw new ModelFileError(ck.file, `unsupported architecture '${String(name)}'; supported: ${supportedArchitectures().join(", ")}`);
  return spec;
}
