import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { CHATML_TEMPLATE, ChatTemplate, encodeChatPrompt } from "../../src/server/chat-template.ts";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import { runCli } from "../helpers/cli.ts";
import { modelPath } from "../helpers/models-dir.ts";

describe("llm run --chat", () => {
  it("sends the prompt as a user turn (after --system) through the chat template", async () => {
    const r = await runCli(["run", "stories260k", "Once upon a time", "--chat", "--system", "Be kind.", "--json", "-n", "4", "--temperature", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { prompt_token_ids: number[]; generated_token_ids: number[] };
    // stories260K has no template of its own: ChatML is the fallback.
    const ckpt = await loadCheckpoint(modelPath("stories260K", "stories260K-f32.gguf"));
    const tok = createTokenizer(ckpt.metadata);
    const text = new ChatTemplate(CHATML_TEMPLATE, "fallback", "", "").render(
      [{ role: "system", content: "Be kind." }, { role: "user", content: "Once upon a time" }], true);
    expect(out.prompt_token_ids).toEqual(encodeChatPrompt(tok, text));
    expect(out.generated_token_ids.length).toBeGreaterThan(0);
  });

  it("refuses a --chat-template file that does not exist", async () => {
    const r = await runCli(["run", "stories260k", "hi", "--chat-template", "no-such.jinja"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--chat-template no-such.jinja: cannot read it");
  });
});
