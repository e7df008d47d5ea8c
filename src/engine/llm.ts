import type { SamplingParams } from "../sampling/params.ts";
import type { LLMEngine } from "./llm-engine.ts";
import type { RequestOutput } from "./request-output.ts";

/**
 * Offline batch inference (vLLM's `LLM.generate`): all prompts go in at once, continuous batching
 * runs them together, and the final outputs come back in prompt order.
 */
export class LLM {
  private nextId = 0;

  constructor(readonly engine: LLMEngine) {}

  async generate(prompts: ReadonlyArray<string | number[]>, params: Partial<SamplingParams> | ReadonlyArray<Partial<SamplingParams>> = {}): Promise<RequestOutput[]> {
    const ids = prompts.map((p, i) => {
      const id = `llm-${this.nextId++}`;
      const sp = Array.isArray(params) ? params[i] ?? {} : (params as Partial<SamplingParams>);
      this.engine.addRequest(id, p, sp, { outputKind: "final_only" });
      return id;
    });
    const results = new Map<string, RequestOutput>();
    while (this.engine.hasUnfinishedRequests()) {
      for (const o of await this.engine.step()) if (o.finished) results.set(o.requestId, o);
    }
    return ids.map((id) => results.get(id)!);
  }
}
