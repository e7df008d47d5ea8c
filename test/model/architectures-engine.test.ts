import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LLMEngine } from "../../src/engine/llm-engine.ts";
import { loadModel } from "../../src/engine/load-model.ts";
import { writeTinyArchGGUF } from "../../src/model/random-arch-model.ts";
import { TINY_ARCHS } from "../../src/model/tiny-arch-shapes.ts";
import { BUILTIN_PLUGINS } from "../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../src/plugin/registry.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";
import { archModel } from "./arch-helpers.ts";

const dir = tempDir("llm-arch-engine-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Greedy ids from the engine (continuous batching, paged KV cache) for one prompt. */
async function engineGreedy(path: string, prompt: number[], n: number, attention?: string): Promise<number[]> {
  const registry = PluginRegistry.withBuiltins(BUILTIN_PLUGINS);
  const loaded = await loadModel({ id: "t", path, sampling: {}, plugins: {} }, registry, attention ? { plugins: { attention } } : {});
  const engine = new LLMEngine(loaded, { maxNumSeqs: 2, blockSize: 4 });
  engine.addRequest("r", prompt, { temperature: 0, maxTokens: n, ignoreEos: true });
  const ids: number[] = [];
  while (engine.hasUnfinishedRequests()) for (const o of await engine.step()) ids.push(...o.outputs[0]!.tokenIds);
  return ids;
}

describe("architectures through loadModel and the engine", () => {
  for (const arch of TINY_ARCHS) {
    it(`${arch}: the engine's greedy tokens equal a direct greedy loop over the model`, async () => {
      const path = join(dir, `${arch}.gguf`);
      await writeTinyArchGGUF(path, arch, 31);
      const prompt = [1, 300, 301, 302, 400, 5, 77, 350];
      const got = await engineGreedy(path, prompt, 6);
      const m = await archModel(path);
      const want: number[] = [];
      const seq = [...prompt];
      for (let i = 0; i < 6; i++) {
        const [row] = await m.logits(seq);
        const best = row!.indexOf(Math.max(...row!));
        want.push(best);
        seq.push(best);
      }
      expect(got).toEqual(want);
    });
  }

  it("gemma2 (per-layer windows) is refused by attention plugins that cannot honour it, with the reason", async () => {
    const path = join(dir, "gemma2.gguf");
    await expect(engineGreedy(path, [1, 2, 3], 1, "flashinfer")).rejects.toThrow(/per-layer windows/);
  });
});
