import { resolveModelSpec } from "../../src/config/model-spec.ts";
import { readModelRegistry } from "../../src/config/models-dir.ts";
import type { EngineArgs } from "../../src/engine/engine-args.ts";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import { loadModel, type LoadedModel } from "../../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../src/plugin/registry.ts";
import { join } from "node:path";
import { REPO_ROOT, testModelsDir } from "./models-dir.ts";

const cache = new Map<string, Promise<LoadedModel>>();

/** Load a models.yaml entry once per test file (the weights are read-only; engines own their caches). */
export function loadTestModel(id = "stories260k", opts: { maxModelLen?: number } = {}): Promise<LoadedModel> {
  const key = `${id}:${opts.maxModelLen ?? ""}`;
  if (!cache.has(key)) {
    const registry = readModelRegistry(join(REPO_ROOT, "models.yaml"));
    const spec = resolveModelSpec(id, registry, testModelsDir());
    cache.set(key, loadModel(spec, PluginRegistry.withBuiltins(BUILTIN_PLUGINS), opts));
  }
  return cache.get(key)!;
}

export async function testEngine(args: Partial<EngineArgs> = {}, id = "stories260k"): Promise<LLMEngine> {
  return new LLMEngine(await loadTestModel(id), args);
}
