import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** $LLM_MODELS_DIR, else ../shared/models beside the repository (as the tests look). */
export function testModelsDir(): string {
  if (process.env.LLM_MODELS_DIR) return resolve(process.env.LLM_MODELS_DIR);
  const d = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "shared", "models");
  if (!existsSync(d)) throw new Error(`models not found: set LLM_MODELS_DIR (looked in ${d})`);
  return d;
}
