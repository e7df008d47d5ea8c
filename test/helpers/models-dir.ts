import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file is test/helpers/models-dir.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The shared test models directory: $LLM_MODELS_DIR, else ../shared/models beside the repository.
 * Tests read the real models, tokenizers and goldens from here; nothing is copied into the repo.
 */
export function testModelsDir(): string {
  const env = process.env.LLM_MODELS_DIR;
  if (env) return resolve(env);
  const d = resolve(REPO_ROOT, "..", "shared", "models");
  if (!existsSync(d)) throw new Error(`test models not found: set LLM_MODELS_DIR (looked in ${d})`);
  return d;
}

export function modelPath(...parts: string[]): string {
  return join(testModelsDir(), ...parts);
}
