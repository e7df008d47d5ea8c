import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LlmError } from "../util/errors.ts";
import { parseModelRegistry, type ModelRegistry } from "./models-registry.ts";

/** The repository/package root (this file is src/config/models-dir.ts). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Where models.yaml's relative sources live, first match wins:
 * --models-dir, $LLM_MODELS_DIR, ../shared/models beside the registry's folder (this project's test
 * models), else a `models/` folder beside the registry.
 */
export function resolveModelsDir(flag: string | undefined, registryFile: string, env: Record<string, string | undefined> = process.env): string {
  if (flag) return resolve(flag);
  if (env.LLM_MODELS_DIR) return resolve(env.LLM_MODELS_DIR);
  const base = dirname(resolve(registryFile));
  const shared = join(base, "..", "shared", "models");
  return existsSync(shared) ? shared : join(base, "models");
}

/** models.yaml: --registry, $LLM_REGISTRY, else the one at the package root. */
export function resolveRegistryFile(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  return resolve(flag ?? env.LLM_REGISTRY ?? join(PACKAGE_ROOT, "models.yaml"));
}

export function readModelRegistry(file: string): ModelRegistry {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new LlmError(`${file}: ${code === "ENOENT" ? "registry file not found" : (e as Error).message}`, 1);
  }
  return parseModelRegistry(text, file);
}
