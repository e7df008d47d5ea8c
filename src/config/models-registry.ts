import { parseDocument } from "yaml";
import { parseHubRef } from "../hub/repo-ref.ts";
import { LlmError } from "../util/errors.ts";
import type { SamplingParams } from "../sampling/params.ts";

/** "hf": a Hugging Face model folder (config.json, safetensors, tokenizer.json). */
export type ModelFormat = "gguf" | "llama2c" | "hf";
export const MODEL_FORMATS: readonly ModelFormat[] = ["gguf", "llama2c", "hf"];

export interface PluginChoice {
  backend?: string;
  attention?: string;
  quant?: string;
  /** `attention: { name: flex, mod: sliding_window, window: 4096 }`: everything but name, for that plugin. */
  attentionOptions?: Record<string, unknown>;
}

/** One models.yaml entry, validated. Paths are as written (relative to the models directory). */
export interface ModelEntry {
  id: string;
  source: string;
  format: ModelFormat;
  tokenizer?: string;
  description?: string;
  sampling: Partial<SamplingParams>;
  plugins: PluginChoice;
  maxModelLen?: number;
  kvCacheMemory?: number;
}

export interface ModelRegistry {
  file: string;
  defaultId: string;
  models: ModelEntry[];
}

const ENTRY_KEYS = ["id", "source", "format", "tokenizer", "description", "sampling", "plugins", "max_model_len", "kv_cache_memory"];
const SAMPLING_KEYS: Record<string, keyof SamplingParams> = {
  temperature: "temperature", top_p: "topP", top_k: "topK", min_p: "minP",
  repetition_penalty: "repetitionPenalty", presence_penalty: "presencePenalty", frequency_penalty: "frequencyPenalty",
  seed: "seed", max_tokens: "maxTokens", stop: "stop", stop_token_ids: "stopTokenIds",
};
const PLUGIN_KEYS = ["backend", "attention", "quant"];

/** "64MiB", "1.5 GiB", "512MB", or a number of bytes. */
export function parseByteSize(v: unknown, what: string): number {
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return Math.floor(v);
  const m = typeof v === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(v) : null;
  if (!m) throw new LlmError(`${what}: invalid size ${JSON.stringify(v)}; accepted: bytes or a number with KiB, MiB, GiB, KB, MB, GB`, 2);
  const unit = (m[2] ?? "B").toLowerCase();
  const mult: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Math.floor(Number(m[1]) * mult[unit]!);
}

/** Parse and validate models.yaml text. Every error names the file, the entry and the key. */
export function parseModelRegistry(text: string, file: string): ModelRegistry {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new LlmError(`${file}: malformed YAML${line}: ${e.message.split("\n")[0]}`, 1);
  }
  const root = doc.toJS() as unknown;
  const fail = (msg: string): never => { throw new LlmError(`${file}: ${msg}`, 1); };
  if (!isObj(root)) return fail("expected a mapping with keys 'default' and 'models'");
  for (const k of Object.keys(root)) if (k !== "default" && k !== "models") fail(`unknown top-level key '${k}'; accepted: default, models`);
  if (!Array.isArray(root.models) || root.models.length === 0) fail("'models' must be a non-empty list of entries");
  const models = (root.models as unknown[]).map((raw, i) => parseEntry(raw, i, fail));
  const ids = new Set<string>();
  for (const m of models) {
    if (ids.has(m.id)) fail(`duplicate model id '${m.id}'`);
    ids.add(m.id);
  }
  const defaultId = root.default === undefined ? models[0]!.id : String(root.default);
  if (!ids.has(defaultId)) fail(`default '${defaultId}' is not a model id; ids: ${[...ids].join(", ")}`);
  return { file, defaultId, models };
}

function parseEntry(raw: unknown, index: number, fail: (m: string) => never): ModelEntry {
  if (!isObj(raw)) return fail(`models[${index}] must be a mapping`);
  const name = typeof raw.id === "string" ? `model '${raw.id}'` : `models[${index}]`;
  for (const k of Object.keys(raw)) if (!ENTRY_KEYS.includes(k)) fail(`${name}: unknown key '${k}'; accepted: ${ENTRY_KEYS.join(", ")}`);
  const str = (k: string, required: boolean): string | undefined => {
    const v = raw[k];
    if (v === undefined || v === null) return required ? fail(`${name}: missing required field '${k}'`) : undefined;
    if (typeof v !== "string" || v.length === 0) fail(`${name}: '${k}' must be a non-empty string`);
    return v as string;
  };
  const id = str("id", true)!;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(id)) fail(`${name}: id may contain letters, digits, '.', '_', ':' and '-'`);
  const source = str("source", true)!;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith("hf://")) fail(`${name}: source scheme not supported in '${source}'; accepted: a path or hf://org/repo[:file][@revision]`);
  let hubFile: string | undefined;
  if (source.startsWith("hf://")) {
    try {
      hubFile = parseHubRef(source.slice(5)).file;
    } catch (e) {
      fail(`${name}: ${(e as Error).message}`);
    }
  }
  // hf:// sources may leave the format out: a folder is "hf", org/repo:x.gguf is "gguf".
  const hubDefault = source.startsWith("hf://") ? (hubFile?.endsWith(".gguf") ? "gguf" : hubFile === undefined ? "hf" : undefined) : undefined;
  const format = (str("format", hubDefault === undefined) ?? hubDefault)! as ModelFormat;
  if (!MODEL_FORMATS.includes(format)) fail(`${name}: format '${format}' not supported; accepted: ${MODEL_FORMATS.join(", ")}`);
  if (format === "llama2c" && raw.tokenizer === undefined) fail(`${name}: llama2c models need a 'tokenizer' file (tokenizer.bin)`);
  const entry: ModelEntry = { id, source, format, sampling: {}, plugins: {} };
  const tok = str("tokenizer", false);
  if (tok) entry.tokenizer = tok;
  const desc = str("description", false);
  if (desc) entry.description = desc;
  if (raw.sampling !== undefined) {
    if (!isObj(raw.sampling)) fail(`${name}: 'sampling' must be a mapping`);
    for (const [k, v] of Object.entries(raw.sampling as Record<string, unknown>)) {
      const key = SAMPLING_KEYS[k];
      if (!key) fail(`${name}: unknown sampling key '${k}'; accepted: ${Object.keys(SAMPLING_KEYS).join(", ")}`);
      if (key === "stop") {
        if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) fail(`${name}: sampling.stop must be a list of strings`);
      } else if (key === "stopTokenIds") {
        if (!Array.isArray(v) || !v.every((s) => Number.isInteger(s) && s >= 0)) fail(`${name}: sampling.stop_token_ids must be a list of token ids`);
      } else if (typeof v !== "number") fail(`${name}: sampling.${k} must be a number`);
      (entry.sampling as Record<string, unknown>)[key!] = v;
    }
  }
  if (raw.plugins !== undefined) {
    if (!isObj(raw.plugins)) fail(`${name}: 'plugins' must be a mapping`);
    for (const [k, v] of Object.entries(raw.plugins as Record<string, unknown>)) {
      if (!PLUGIN_KEYS.includes(k)) fail(`${name}: unknown plugins key '${k}'; accepted: ${PLUGIN_KEYS.join(", ")}`);
      if (k === "attention" && isObj(v)) {
        const { name: attn, ...options } = v;
        if (typeof attn !== "string" || attn.length === 0) fail(`${name}: plugins.attention must be a plugin name, or a mapping with 'name' and the plugin's options`);
        entry.plugins.attention = attn as string;
        if (Object.keys(options).length) entry.plugins.attentionOptions = options;
        continue;
      }
      if (typeof v !== "string") fail(`${name}: plugins.${k} must be a plugin name`);
      (entry.plugins as Record<string, string>)[k] = v as string;
    }
  }
  if (raw.max_model_len !== undefined) {
    if (!Number.isInteger(raw.max_model_len) || (raw.max_model_len as number) < 1) fail(`${name}: max_model_len must be a positive integer`);
    entry.maxModelLen = raw.max_model_len as number;
  }
  if (raw.kv_cache_memory !== undefined) entry.kvCacheMemory = parseByteSize(raw.kv_cache_memory, `${name}: kv_cache_memory`);
  return entry;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
