import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import type { MetadataValue } from "../loader/types.ts";
import type { Tokenizer } from "../tokenizer/types.ts";
import { UsageError } from "../util/errors.ts";
import { badRequest } from "./errors.ts";
import type { ChatMessage } from "./chat-messages.ts";

/** The fallback for models without a template of their own (ChatML, as vLLM's and llama.cpp's examples use). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** Named fallback templates for `--chat-template NAME`. */
export const NAMED_TEMPLATES: Readonly<Record<string, string>> = { chatml: CHATML_TEMPLATE };

/** Where the template came from: the model's metadata, a file or name given on the command line, or the fallback. */
export type TemplateOrigin = "model" | "file" | "named" | "fallback";

/** A compiled Jinja chat template with the model's special tokens bound. */
export class ChatTemplate {
  private readonly template: Template;

  constructor(readonly source: string, readonly origin: TemplateOrigin, readonly bosToken: string, readonly eosToken: string) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new UsageError(`chat template (${origin}) does not parse: ${(e as Error).message}`);
    }
  }

  /** The prompt text for these messages; a template's raise_exception becomes a 400. */
  render(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
    try {
      return this.template.render({
        messages, add_generation_prompt: addGenerationPrompt, bos_token: this.bosToken, eos_token: this.eosToken,
      });
    } catch (e) {
      throw badRequest(`the chat template could not render these messages: ${(e as Error).message}`, "messages");
    }
  }
}

/**
 * The template to serve: `--chat-template` (a file path, or a name from NAMED_TEMPLATES), else the
 * model's own (GGUF `tokenizer.chat_template`; for a Hugging Face folder, tokenizerForCheckpoint puts
 * tokenizer_config.json's template under that key), else ChatML.
 */
export function resolveChatTemplate(metadata: ReadonlyMap<string, MetadataValue>, tokenizer: Tokenizer, override?: string): ChatTemplate {
  const bos = tokenizer.bosId !== null ? tokenizer.idToPiece(tokenizer.bosId) : "";
  const eos = tokenizer.eosId !== null ? tokenizer.idToPiece(tokenizer.eosId) : "";
  if (override !== undefined) {
    const named = NAMED_TEMPLATES[override];
    if (named !== undefined) return new ChatTemplate(named, "named", bos, eos);
    let text: string;
    try {
      text = readFileSync(override, "utf8");
    } catch (e) {
      throw new UsageError(`--chat-template ${override}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a file or one of: ${Object.keys(NAMED_TEMPLATES).join(", ")}`);
    }
    return new ChatTemplate(text, "file", bos, eos);
  }
  const own = metadata.get("tokenizer.chat_template");
  if (typeof own === "string" && own.trim() !== "") return new ChatTemplate(own, "model", bos, eos);
  return new ChatTemplate(CHATML_TEMPLATE, "fallback", bos, eos);
}

/**
 * Tokenize a rendered chat prompt: special-token text (e.g. "<s>", "<|im_start|>") maps to those
 * tokens, and BOS is prepended when the vocabulary wants it and the template did not write it
 * (as llama.cpp's server does).
 */
export function encodeChatPrompt(tokenizer: Tokenizer, text: string): number[] {
  const ids = tokenizer.encode(text, { parseSpecial: true });
  if (tokenizer.addBos && tokenizer.bosId !== null && ids[0] !== tokenizer.bosId) ids.unshift(tokenizer.bosId);
  return ids;
}
