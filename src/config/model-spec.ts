import { existsSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../util/errors.ts";
import type { SamplingParams } from "../sampling/params.ts";
import type { ModelFormat, ModelRegistry, PluginChoice } from "./models-registry.ts";

/** Everything needed to load one model, resolved to absolute paths. */
export interface ModelSpec {
  id: string;
  path: string;
  format?: ModelFormat;
  tokenizerPath?: string;
  sampling: Partial<SamplingParams>;
  plugins: PluginChoice;
  maxModelLen?: number;
  kvCacheMemory?: number;
}

/** True when `name` should be read as a file path rather than a registry id. */
export function looksLikePath(name: string): boolean {
  return name.includes("/") || name.includes("\\") || /\.(gguf|bin)$/i.test(name) || existsSync(name);
}

/**
 * A models.yaml id, or a path to a GGUF file or llama2.c checkpoint (no registry entry needed,
 * like `llama-cli -m`). Undefined means the registry's default entry.
 */
export function resolveModelSpec(
  name: string | undefined,
  registry: ModelRegistry,
  modelsDir: string,
  opts: { tokenizer?: string } = {},
): ModelSpec {
  if (name !== undefined && looksLikePath(name)) {
    const path = resolve(name);
    const spec: ModelSpec = { id: basename(path), path, sampling: {}, plugins: {} };
    if (opts.tokenizer) spec.tokenizerPath = resolve(opts.tokenizer);
    return spec;
  }
  const id = name ?? registry.defaultId;
  const entry = registry.models.find((m) => m.id === id);
  if (!entry) {
    throw new UsageError(`unknown model '${id}'; available: ${registry.models.map((m) => m.id).join(", ")} (or pass a path to a .gguf or llama2.c .bin file)`);
  }
  if (entry.source.startsWith("hf://")) {
    throw new UsageError(`model '${id}': hf:// sources need \`llm pull\`, which is not available yet; download the file and use a relative path`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : join(modelsDir, p));
  const spec: ModelSpec = {
    id,
    path: abs(entry.source),
    format: entry.format,
    sampling: entry.sampling,
    plugins: entry.plugins,
  };
  if (opts.tokenizer) spec.tokenizerPath = resolve(opts.tokenizer);
  else if (entry.tokenizer) spec.tokenizerPath = abs(entry.tokenizer);
  if (entry.maxModelLen !== undefined) spec.maxModelLen = entry.maxModelLen;
  if (entry.kvCacheMemory !== undefined) spec.kvCacheMemory = entry.kvCacheMemory;
  return spec;
}

/** Whether a registry entry's files are present (for `llm models`). */
export function entryFilesPresent(spec: ModelSpec): { model: boolean; tokenizer: boolean | null } {
  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
  return { model: isFile(spec.path), tokenizer: spec.tokenizerPath ? isFile(spec.tokenizerPath) : null };
}
