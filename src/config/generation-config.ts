import { join } from "node:path";
import type { SamplingParams } from "../sampling/params.ts";
import { readJsonFile } from "../tokenizer/hf/load-folder.ts";
import { ModelFileError } from "../util/errors.ts";

/**
 * Sampling defaults from a Hugging Face folder's generation_config.json, as vLLM reads them
 * (`--generation-config auto`): temperature, top_p, top_k, min_p, repetition_penalty and
 * max_new_tokens, which rank below models.yaml `sampling` and request/CLI values; eos_token_id (an
 * id or a list) gives extra end-of-sequence ids, which stop generation like the tokenizer's EOS
 * and are ignored with ignore_eos (vLLM adds them to every request's stop ids unless ignore_eos).
 * `do_sample` is ignored, as in vLLM.
 */
export function readGenerationConfig(dir: string): GenerationConfig {
  const path = join(dir, "generation_config.json");
  const raw = readJsonFile(path);
  if (raw === undefined) return { sampling: {}, eosTokenIds: [] };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ModelFileError(path, "expected a JSON object");
  return generationDefaults(raw as Record<string, unknown>, path);
}

const NUMBER_KEYS: Record<string, keyof SamplingParams> = {
  temperature: "temperature", top_p: "topP", top_k: "topK", min_p: "minP",
  repetition_penalty: "repetitionPenalty", max_new_tokens: "maxTokens",
};

export interface GenerationConfig {
  /** Sampling defaults. */
  sampling: Partial<SamplingParams>;
  /** End-of-sequence ids besides the tokenizer's (Llama 3: <|eot_id|>, <|eom_id|>). */
  eosTokenIds: number[];
}

export function generationDefaults(o: Record<string, unknown>, path: string): GenerationConfig {
  const out: Partial<SamplingParams> = {};
  let eosTokenIds: number[] = [];
  for (const [key, field] of Object.entries(NUMBER_KEYS)) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ModelFileError(path, `'${key}' should be a number`);
    (out as Record<string, number>)[field] = v;
  }
  const eos = o.eos_token_id;
  if (eos !== undefined && eos !== null) {
    const ids = Array.isArray(eos) ? eos : [eos];
    if (!ids.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new ModelFileError(path, "'eos_token_id' should be a token id or a list of them");
    eosTokenIds = ids as number[];
  }
  return { sampling: out, eosTokenIds };
}
