/**
 * generation_config.json's extra EOS ids (LoadedModel.eosTokenIds): they stop a request like the
 * tokenizer's EOS, a request's own stop_token_ids do not replace them, and ignore_eos drops them
 * (vLLM's semantics).
 */
import { describe, expect, it } from "vitest";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import { loadTestModel } from "../helpers/engine.ts";
import { readGolden } from "../helpers/golden.ts";

async function run(engine: LLMEngine, prompt: number[], params: Record<string, unknown>) {
  engine.addRequest("r", prompt, { temperature: 0, maxTokens: 12, ...params });
  let ids: number[] = [];
  let finish: string | null = null;
  while (engine.hasUnfinishedRequests()) {
    for (const o of await engine.step()) {
      ids = ids.concat(o.outputs[0]!.tokenIds);
      finish = o.outputs[0]!.finishReason ?? finish;
    }
  }
  return { ids, finish };
}

describe("extra EOS ids from generation_config.json", () => {
  it("stop generation unless ignore_eos, whatever stop_token_ids the request brings", async () => {
    const loaded = await loadTestModel();
    const g = readGolden("stories260K_once_upon_a_time");
    const eos = g.generated_ids[4]!; // the 5th greedy token
    const withEos = { ...loaded, eosTokenIds: [eos] };
    const first = g.generated_ids.indexOf(eos);
    const a = await run(new LLMEngine(withEos, {}), g.prompt_ids, {});
    expect(a.ids).toEqual(g.generated_ids.slice(0, first + 1));
    expect(a.finish).toBe("stop");
    const b = await run(new LLMEngine(withEos, {}), g.prompt_ids, { stopTokenIds: [99999] });
    expect(b.ids).toEqual(g.generated_ids.slice(0, first + 1));
    const c = await run(new LLMEngine(withEos, {}), g.prompt_ids, { ignoreEos: true });
    expect(c.ids).toEqual(g.generated_ids.slice(0, 12));
    expect(c.finish).toBe("length");
  });
});
