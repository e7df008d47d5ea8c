import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelFileError } from "../../util/errors.ts";
import type { Tokenizer } from "../types.ts";
import { tokenizerFromJson } from "./from-tokenizer-json.ts";
import { readTokenizerConfig, TokenizerConfigError, type TokenizerConfig } from "./tokenizer-config.ts";

/** What a Hugging Face model folder says about tokenizing and chatting. */
export interface HfTokenizerFiles {
  tokenizer: Tokenizer;
  /** tokenizer_config.json, when the folder has one. */
  config: TokenizerConfig | null;
  /** The chat template: tokenizer_config.json's, else a chat_template.jinja / chat_template.json file. */
  chatTemplate: string | undefined;
}

/** Reads and parses a JSON file of the folder; undefined when absent, ModelFileError when malformed. */
export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ModelFileError(path, `cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelFileError(path, `not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Loads tokenizer.json (required) and tokenizer_config.json (optional) from a model folder, with
 * the chat template from tokenizer_config.json or, as newer transformers saves it, from
 * chat_template.jinja or chat_template.json. `padTo`: see tokenizerFromJson.
 */
export function loadHfTokenizer(dir: string, opts: { padTo?: number } = {}): HfTokenizerFiles {
  const tokPath = join(dir, "tokenizer.json");
  const raw = readJsonFile(tokPath);
  if (raw === undefined) {
    throw new ModelFileError(dir, "no tokenizer.json in this folder (supported: a Hugging Face tokenizer.json with BPE; tokenizer.model alone is not)");
  }
  const cfgPath = join(dir, "tokenizer_config.json");
  const rawCfg = readJsonFile(cfgPath);
  let config: TokenizerConfig | null = null;
  if (rawCfg !== undefined) {
    try {
      config = readTokenizerConfig(rawCfg);
    } catch (e) {
      if (e instanceof TokenizerConfigError) throw new ModelFileError(cfgPath, e.message);
      throw e;
    }
  }
  const tokenizer = tokenizerFromJson(raw, config, tokPath, opts);
  let chatTemplate = config?.chatTemplate;
  if (chatTemplate === undefined && existsSync(join(dir, "chat_template.jinja"))) {
    chatTemplate = readFileSync(join(dir, "chat_template.jinja"), "utf8");
  }
  if (chatTemplate === undefined) {
    const ct = readJsonFile(join(dir, "chat_template.json"));
    if (typeof ct === "object" && ct !== null && typeof (ct as { chat_template?: unknown }).chat_template === "string") {
      chatTemplate = (ct as { chat_template: string }).chat_template;
    }
  }
  return { tokenizer, config, chatTemplate };
}
