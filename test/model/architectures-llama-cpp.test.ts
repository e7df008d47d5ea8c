/**
 * Each architecture's tiny random GGUF against llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU
 * build): next-token probabilities at every position of a 12-token prompt (past the Gemma models'
 * 4-token window) from llama.cpp's controlledEvaluate against softmax of our logits. Tolerance:
 * |log p_ours - log p_llama.cpp| <= 5e-3 for every token of the 512-token vocabulary, and the same
 * top token. Measured 2026-11-27: llama 7.8e-4, gemma2 1.3e-3, gemma3 2.7e-3 (llama.cpp computes
 * GELU through an f16 table, so the two are not bit-equal). Features the tolerance catches, measured
 * on gemma2/3: no sliding window 1.4-1.5, one RoPE base for all layers 0.23, no attention soft-cap 0.022.
 * Skipped under Bun, where node-llama-cpp does not load, and where node-llama-cpp is absent.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeTinyArchGGUF } from "../../src/model/random-arch-model.ts";
import { TINY_ARCHS } from "../../src/model/tiny-arch-shapes.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";
import { archModel, softmax } from "./arch-helpers.ts";

type NodeLlamaCpp = typeof import("node-llama-cpp");
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
let nlc: NodeLlamaCpp | null = null;
if (!isBun) {
  try {
    nlc = await import("node-llama-cpp");
  } catch {
    nlc = null;
  }
}

const PROMPT = [1, 300, 301, 302, 400, 5, 77, 350, 360, 370, 380, 390];
const LOG_TOL = 5e-3;
const dir = tempDir("llm-arch-lc-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** llama.cpp's next-token probabilities after each prompt position (temperature 1, no truncation). */
async function llamaCppProbs(path: string): Promise<Map<number, number>[]> {
  const llama = await nlc!.getLlama({ gpu: false, build: "never", logLevel: "error" as never });
  const model = await llama.loadModel({ modelPath: path });
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const opts = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
    const res = await ctx.getSequence().controlledEvaluate(PROMPT.map((t) => [t, opts] as never));
    return PROMPT.map((_, i) => (res[i] as { next: { probabilities: Map<number, number> } }).next.probabilities);
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

describe.skipIf(!nlc)("architectures against llama.cpp on the same GGUF", () => {
  for (const arch of TINY_ARCHS) {
    it(`${arch}: next-token log-probabilities at all 12 positions within ${LOG_TOL}`, async () => {
      const path = join(dir, `${arch}.gguf`);
      await writeTinyArchGGUF(path, arch, 21);
      const lc = await llamaCppProbs(path);
      const ours = (await (await archModel(path)).logits(PROMPT, 1)).map(softmax);
      let worst = 0;
      for (let i = 0; i < PROMPT.length; i++) {
        expect(lc[i]!.size).toBe(512);
        for (const [t, p] of lc[i]!) worst = Math.max(worst, Math.abs(Math.log(p) - Math.log(ours[i]![t]!)));
        const ourTop = ours[i]!.indexOf(Math.max(...ours[i]!));
        expect(ourTop, `position ${i}`).toBe(lc[i]!.keys().next().value);
      }
      expect(worst, arch).toBeLessThanOrEqual(LOG_TOL);
    }, 120_000);
  }
});
