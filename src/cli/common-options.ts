import { Option, type Command } from "commander";
import { readModelRegistry, resolveModelsDir, resolveRegistryFile } from "../config/models-dir.ts";
import { resolveModelSpec, type ModelSpec } from "../config/model-spec.ts";
import type { ModelRegistry } from "../config/models-registry.ts";
import type { EngineArgs } from "../engine/engine-args.ts";
import type { SamplingParams } from "../sampling/params.ts";
import { BUILTIN_PLUGINS } from "../plugin/builtin.ts";
import { PluginRegistry } from "../plugin/registry.ts";
import { bytes, collect, int, num } from "./parse-flags.ts";
import { KV_CACHE_DTYPES } from "../quant/kv-cache.ts";

/** --registry, --models-dir, --tokenizer: where models come from. */
export function addModelSourceOptions(cmd: Command): Command {
  return cmd
    .option("--registry <file>", "models.yaml to read (default: $LLM_REGISTRY or the one shipped with llm)")
    .option("--models-dir <dir>", "folder that models.yaml sources are relative to (default: $LLM_MODELS_DIR, else ../shared/models or ./models beside models.yaml)")
    .option("--tokenizer <file>", "tokenizer file for a llama2.c checkpoint given by path");
}

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option("--backend <name>", "backend plugin (cpu, webgpu)")
    .option("--threads <n>", "threads for the cpu backend's kernels (default: all available cores)", int("--threads", 1))
    .option("--attention <name>", "attention plugin: paged, flashinfer, flex")
    .option("--quant <name>", "quantization plugin: auto, none, gguf, int8, int8-dynamic, int4 (g32), int4-g64, int4-g128, fp8, fp8-e5m2")
    .option("--plugin <module>", "load a third-party plugin from a path or package (repeatable)", collect)
    .option("--explain", "print why each plugin was chosen or rejected (stderr)")
    .option("--max-model-len <n>", "context length to serve (default: the model's)", int("--max-model-len", 1))
    .option("--max-num-seqs <n>", "most sequences per step", int("--max-num-seqs", 1))
    .option("--max-num-batched-tokens <n>", "token budget per step", int("--max-num-batched-tokens", 1))
    .option("--block-size <n>", "KV cache block size in tokens", int("--block-size", 1))
    .option("--kv-cache-memory <size>", "KV cache memory budget, e.g. 256MiB", bytes("--kv-cache-memory"))
    .addOption(new Option("--kv-cache-dtype <dtype>", "KV cache storage: auto (f32), f16 (halves, llama.cpp's default), or int8 / fp8 (e4m3) with a scale per token and head").choices([...KV_CACHE_DTYPES]))
    .option("--enable-prefix-caching", "reuse KV blocks of shared prompt prefixes (default on)")
    .option("--no-enable-prefix-caching", "disable prefix caching")
    .addOption(new Option("--scheduling-policy <policy>", "fcfs or priority").choices(["fcfs", "priority"]));
}

export function addSamplingOptions(cmd: Command): Command {
  return cmd
    .option("--temperature <t>", "0 = greedy", num("--temperature"))
    .option("--top-p <p>", "nucleus sampling mass in (0, 1]", num("--top-p"))
    .option("--top-k <k>", "keep the k most likely tokens (0 = off)", int("--top-k", -1))
    .option("--min-p <p>", "drop tokens below p times the top probability", num("--min-p"))
    .option("--repetition-penalty <r>", "penalise tokens seen in prompt or output (1 = off)", num("--repetition-penalty"))
    .option("--presence-penalty <p>", "penalise tokens already generated, once", num("--presence-penalty"))
    .option("--frequency-penalty <p>", "penalise tokens by how often they were generated", num("--frequency-penalty"))
    .option("--seed <n>", "random seed (same seed, same text on every runtime)", int("--seed"))
    .option("-n, --max-tokens <n>", "most new tokens", int("--max-tokens", 1))
    .option("--stop <text>", "stop when this text is generated (repeatable)", collect)
    .option("--ignore-eos", "keep generating after the end-of-sequence token");
}

export interface CommonOpts {
  registry?: string; modelsDir?: string; tokenizer?: string;
  backend?: string; threads?: number; attention?: string; quant?: string; plugin?: string[]; explain?: boolean;
  maxModelLen?: number; maxNumSeqs?: number; maxNumBatchedTokens?: number; blockSize?: number; kvCacheMemory?: number; kvCacheDtype?: string;
  enablePrefixCaching?: boolean; schedulingPolicy?: "fcfs" | "priority";
  temperature?: number; topP?: number; topK?: number; minP?: number; repetitionPenalty?: number;
  presencePenalty?: number; frequencyPenalty?: number; seed?: number; maxTokens?: number; stop?: string[]; ignoreEos?: boolean;
  json?: boolean; verbose?: boolean;
}

export function loadRegistry(o: CommonOpts): { registry: ModelRegistry; modelsDir: string } {
  const file = resolveRegistryFile(o.registry);
  return { registry: readModelRegistry(file), modelsDir: resolveModelsDir(o.modelsDir, file) };
}

export function resolveSpec(name: string | undefined, o: CommonOpts): ModelSpec {
  const { registry, modelsDir } = loadRegistry(o);
  return resolveModelSpec(name, registry, modelsDir, o.tokenizer ? { tokenizer: o.tokenizer } : {});
}

export async function pluginRegistry(o: CommonOpts): Promise<PluginRegistry> {
  const r = PluginRegistry.withBuiltins(BUILTIN_PLUGINS);
  for (const m of o.plugin ?? []) await r.registerModule(m);
  return r;
}

export function engineArgsFrom(o: CommonOpts, spec: ModelSpec): Partial<EngineArgs> {
  return {
    maxModelLen: o.maxModelLen ?? spec.maxModelLen, maxNumSeqs: o.maxNumSeqs, maxNumBatchedTokens: o.maxNumBatchedTokens,
    blockSize: o.blockSize, kvCacheMemory: o.kvCacheMemory ?? spec.kvCacheMemory, enablePrefixCaching: o.enablePrefixCaching,
    policy: o.schedulingPolicy,
  };
}

/** Flags over models.yaml defaults over built-in defaults. */
export function samplingFrom(o: CommonOpts, spec: ModelSpec): Partial<SamplingParams> {
  const flags: Partial<SamplingParams> = {
    temperature: o.temperature, topP: o.topP, topK: o.topK, minP: o.minP, repetitionPenalty: o.repetitionPenalty,
    presencePenalty: o.presencePenalty, frequencyPenalty: o.frequencyPenalty, seed: o.seed, maxTokens: o.maxTokens,
    stop: o.stop, ignoreEos: o.ignoreEos,
  };
  const out: Partial<SamplingParams> = { ...spec.sampling };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
