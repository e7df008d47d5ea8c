/**
 * Differential checks against llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU build) on the same
 * GGUF files: the shared q8_0 file, and q4_0 / q4_k / q6_k files written by `llm quantize` (so
 * llama.cpp also reads our encoders' output). llama.cpp quantizes activations to 8 bits inside its
 * quantized dot products and we do not, so a greedy step whose top-2 margin is tiny may go either
 * way; where the two disagree, ours must be at such a near-tie and must pick the f32 golden's token.
 * Skipped where node-llama-cpp cannot load (it is a devDependency for benchmarks).
 */
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { modelPath } from "../../helpers/models-dir.ts";
import { goldenNames, readGolden } from "../../helpers/golden.ts";
import { directModel } from "../../helpers/direct-model.ts";
import { ggufQuantPlugin } from "../../../plugins/quant/gguf/index.ts";
import { loadCheckpoint } from "../../../src/loader/load-checkpoint.ts";
import { quantizeCheckpoint, type QuantizeTarget } from "../../../src/quant/gguf-quantize.ts";

type Greedy = (path: string, prompt: number[], n: number, threads: number) => Promise<{ generated: number[] }>;
let llamaCppGreedy: Greedy | null = null;
try {
  llamaCppGreedy = (await import("../../../bench/baseline/llama-cpp.ts")).llamaCppGreedy;
} catch {
  llamaCppGreedy = null;
}
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const dir = mkdtempSync(join(tmpdir(), "llm-llamacpp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function margin(row: Float32Array): number {
  let a = -Infinity, b = -Infinity;
  for (const v of row) { if (v > a) { b = a; a = v; } else if (v > b) b = v; }
  return a - b;
}

/** Our greedy ids vs llama.cpp's on every golden; returns per golden how many leading tokens agree. */
async function compare(path: string, n: number): Promise<Array<{ name: string; agree: number; margin: number; oursIsGolden: boolean }>> {
  const m = await directModel(path, { quant: ggufQuantPlugin });
  const out = [];
  for (const name of goldenNames()) {
    const g = readGolden(name);
    const lc = await llamaCppGreedy!(path, g.prompt_ids, n, 1);
    const { ids, logits } = await m.greedy(g.prompt_ids, n);
    let agree = 0;
    while (agree < n && lc.generated[agree] === ids[agree]) agree++;
    const goldenPrefix = ids.slice(0, agree + 1).every((t, i) => t === g.generated_ids[i]);
    out.push({ name, agree, margin: agree < n ? margin(logits[agree]!) : Infinity, oursIsGolden: goldenPrefix });
  }
  return out;
}

describe.skipIf(!llamaCppGreedy || isBun)("against llama.cpp on the same GGUF files", () => {
  it("q8_0 (shared file): the first 32 greedy tokens equal llama.cpp's, but at near-ties where ours keeps the f32 golden", async () => {
    const r = await compare(modelPath("stories260K", "stories260K-q8_0.gguf"), 32);
    expect(r.filter((x) => x.agree === 32).length).toBeGreaterThanOrEqual(7);
    for (const x of r.filter((x) => x.agree < 32)) {
      expect(x.margin, x.name).toBeLessThan(0.15);
      expect(x.oursIsGolden, x.name).toBe(true);
    }
  }, 300_000);

  it("files written by llm quantize (q4_0, q4_k, q6_k) run in llama.cpp: the first 16 greedy tokens agree on every golden", async () => {
    for (const t of ["q4_0", "q4_k", "q6_k"] as QuantizeTarget[]) {
      const out = join(dir, `s-${t}.gguf`);
      await quantizeCheckpoint(await loadCheckpoint(modelPath("stories260K", "stories260K-f32.gguf")), t, out);
      const r = await compare(out, 16);
      expect(r.map((x) => `${t} ${x.name}: ${x.agree}`)).toEqual(r.map((x) => `${t} ${x.name}: 16`));
    }
  }, 300_000);
});
