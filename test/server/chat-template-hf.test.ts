import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { MetadataValue } from "../../src/loader/types.ts";
import { encodeChatPrompt, resolveChatTemplate } from "../../src/server/chat-template.ts";
import { loadHfTokenizer } from "../../src/tokenizer/hf/load-folder.ts";
import { HF_TOKENIZER_PACKAGES } from "../helpers/hf-tokenizer-packages.ts";

// The chat templates of real tokenizer_config.json files, as `llm chat`/`serve`/`run --chat` get them
// (tokenizer.json folder → metadata tokenizer.chat_template → ChatTemplate), against the reference
// rendering: @huggingface/jinja on the file's own template with the file's own bos/eos tokens.
const CONVERSATION = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "What is 2+2?" },
  { role: "assistant", content: "4." },
  { role: "user", content: "And 3+3?" },
];

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return undefined;
}

for (const pkg of HF_TOKENIZER_PACKAGES) {
  describe(`chat template from tokenizer_config.json (${pkg.name})`, () => {
    const raw = JSON.parse(readFileSync(join(pkg.dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    const hf = loadHfTokenizer(pkg.dir);
    const metadata = new Map<string, MetadataValue>();
    if (hf.chatTemplate !== undefined) metadata.set("tokenizer.chat_template", hf.chatTemplate);
    const template = resolveChatTemplate(metadata, hf.tokenizer);
    const reference = (addGenerationPrompt: boolean): string => {
      const ctx: Record<string, unknown> = { messages: CONVERSATION, add_generation_prompt: addGenerationPrompt };
      const bos = tokenText(raw.bos_token);
      const eos = tokenText(raw.eos_token);
      if (bos !== undefined) ctx.bos_token = bos;
      if (eos !== undefined) ctx.eos_token = eos;
      return new Template(raw.chat_template as string).render(ctx);
    };

    it("is the model's own template", () => {
      expect(template.origin).toBe("model");
      expect(template.source).toBe(raw.chat_template);
    });

    for (const gen of [true, false]) {
      it(`renders a multi-turn conversation with a system prompt as the reference does (add_generation_prompt ${gen})`, () => {
        const text = template.render(CONVERSATION, gen);
        expect(text).toBe(reference(gen));
        expect(text).toContain("You are a terse assistant.");
        expect(text).toContain("And 3+3?");
      });
    }

    it("tokenizes the rendered prompt with its special tokens and BOS exactly once", () => {
      const ids = encodeChatPrompt(hf.tokenizer, template.render(CONVERSATION, true));
      const bos = hf.tokenizer.bosId;
      if (bos !== null && hf.tokenizer.addBos) expect(ids.filter((id) => id === bos)).toHaveLength(1);
      expect(ids.some((id) => hf.tokenizer.isControl(id))).toBe(true);
    });
  });
}
