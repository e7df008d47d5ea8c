import { existsSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { hubCacheDir } from "../hub/cache-dir.ts";
import { resolveCached } from "../hub/pull.ts";
import { parseHubRef, type HubRef } from "../hub/repo-ref.ts";
import { UsageError } from "../util/errors.ts";
import type { SamplingParams } from "../sampling/params.ts";
import type { ModelFormat, ModelRegistry, PluginChoice } from "./models-registry.ts";

/** Everything needed to load one model, resolved to absolute paths. */
export interface ModelSpec {
  id: string;
  path: string;
  /** Forces the file format; absent means detect (a folder is a Hugging Face model). */
  format?: Exclude<ModelFormat, "hf">;
  tokenizerPath?: string;
  /**
   * Sampling defaults (models.yaml `sampling`). For a Hugging Face folder loadModel fills in
   * generation_config.json's defaults under these.
   */
  sampling: Partial<SamplingParams>;
  /** An hf:// source: pulled into the hub cache on first use (see ensureHubModel); `path` is its cached copy. */
  hub?: HubRef;
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
  const abs = (p: string) => (isAbsolute(p) ? p : join(modelsDir, p));
  const spec: ModelSpec = { id, path: "", sampling: { ...entry.sampling }, plugins: entry.plugins };
  if (entry.format !== "hf") spec.format = entry.format;
  if (entry.source.startsWith("hf://")) {
    spec.hub = parseHubRef(entry.source.slice(5));
    spec.path = cachedHubPath(spec.hub) ?? "";
  } else spec.path = abs(entry.source);
  if (opts.tokenizer) spec.tokenizerPath = resolve(opts.tokenizer);
  else if (entry.tokenizer) spec.tokenizerPath = abs(entry.tokenizer);
  if (entry.maxModelLen !== undefined) spec.maxModelLen = entry.maxModelLen;
  if (entry.kvCacheMemory !== undefined) spec.kvCacheMemory = entry.kvCacheMemory;
  return spec;
}

/** The cached copy of a hub model, or undefined when it has not been pulled (no network used). */
export function cachedHubPath(ref: HubRef): string | undefined {
  try {
    return resolveCached(ref, hubCacheDir()).path;
  } catch {
    return undefined;
  }
}

/** Whether a registry entry's files are present (for `llm models`): a model file, or a model folder. */
export function entryFilesPresent(spec: ModelSpec): { model: boolean; tokenizer: boolean | null } {
  const isFile = (p: string) => p !== "" && existsSync(p) && statSync(p).isFile();
  const isDir = (p: string) => p !== "" && existsSync(p) && statSync(p).isDirectory();
  return { model: isFile(spec.path) || isDir(spec.path), tokenizer: spec.tokenizerPath ? isFile(spec.tokenizerPath) : null };
}
