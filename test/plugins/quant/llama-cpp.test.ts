/**
 * Differential checks against llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU build) on the same
 * GGUF files: the shared q8_0 file, and q4_0 / q4_k / q6_k files written by `llm quantize` (so
 * llama.cpp also reads our encoders' output). Both quantize activations to 8 bits inside Q8_0 and
 * Q4_0 products, with different rounding details (llama.cpp's x86 path: id = 127 / amax, halves to
 * even, fused multiply-adds; it also quantizes activations for Q4_K / Q6_K and we do not). Ours runs
 * with --kv-cache-dtype f16, the same cache type as llama.cpp's default, which also makes our cpu
 * attention run in half precision as llama.cpp's CPU flash attention does (node-llama-cpp's default
 * flash attention "auto" turns it on for the CPU). A greedy step whose top-2 margin is tiny may still
 * go either way; where the two disagree, ours must be at such a near-tie, and keep the f32 golden's
 * token unless the f32 model is itself at a near-tie there.
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

/**
 * Our greedy ids vs llama.cpp's on every golden: per golden how many leading tokens agree, our
 * top-2 margin at the first disagreement, the f32 model's margin on the same prefix, and whether
 * our tokens up to there are the f32 golden's.
 */
async function compare(path: string, n: number): Promise<Array<{ name: string; agree: number; margin: number; f32Margin: number; oursIsGolden: boolean }>> {
  const m = await directModel(path, { quant: ggufQuantPlugin, kvCacheDtype: "f16" });
  const f32 = await directModel(modelPath("stories260K", "stories260K-f32.gguf"));
  const out = [];
  for (const name of goldenNames()) {
    const g = readGolden(name);
    const lc = await llamaCppGreedy!(path, g.prompt_ids, n, 1);
    const { ids, logits } = await m.greedy(g.prompt_ids, n);
    let agree = 0;
    while (agree < n && lc.generated[agree] === ids[agree]) agree++;
    const goldenPrefix = ids.slice(0, agree + 1).every((t, i) => t === g.generated_ids[i]);
    const f32Margin = agree < n ? margin((await f32.greedy([...g.prompt_ids, ...ids.slice(0, agree)], 1)).logits[0]!) : Infinity;
    out.push({ name, agree, margin: agree < n ? margin(logits[agree]!) : Infinity, f32Margin, oursIsGolden: goldenPrefix });
  }
  return out;
}

describe.skipIf(!llamaCppGreedy || isBun)("against llama.cpp on the same GGUF files", () => {
  it("q8_0 (shared file): the first 32 greedy tokens equal llama.cpp's, but at near-ties (keeping the f32 golden unless it is a near-tie too)", async () => {
    const r = await compare(modelPath("stories260K", "stories260K-q8_0.gguf"), 32);
    // 8 of 8 measured with the f16 cache (6 of 8 with an f32 one: the_sun parted at step 22, our margin
    // 0.074; she_was_happy at step 0, f32 margin 0.022). Over 160 tokens, 5 of 8 (2 of 8 with f32).
    expect(r.filter((x) => x.agree === 32).length).toBeGreaterThanOrEqual(8);
    for (const x of r.filter((x) => x.agree < 32)) {
      expect(x.margin, x.name).toBeLessThan(0.15);
      if (!x.oursIsGolden) expect(x.f32Margin, `${x.name}: ours leaves the f32 golden only at an f32 near-tie`).toBeLessThan(0.05);
    }
  }, 300_000);

  it("files written by llm quantize (q4_0, q4_k, q6_k) run in llama.cpp: the first 16 greedy tokens agree on every golden, but at near-ties", async () => {
    for (const t of ["q4_0", "q4_k", "q6_k"] as QuantizeTarget[]) {
      const out = join(dir, `s-${t}.gguf`);
      await quantizeCheckpoint(await loadCheckpoint(modelPath("stories260K", "stories260K-f32.gguf")), t, out);
      const r = await compare(out, 16);
      // Or they part at a near-tie of ours, the f32 model at a near-tie too where ours leaves its golden.
      // All 16 agree on every golden for the three files measured with the f16 cache (with an f32 cache
      // she_was_happy parted at step 0, f32 margin 0.022: q4_0 ours 0.020; q6_k, all Q8_0 fallback rows, 0.066).
      const tie = (x: (typeof r)[number]) => x.margin < 0.15 && (x.oursIsGolden || x.f32Margin < 0.05);
      expect(r.map((x) => `${t} ${x.name}: ${x.agree === 16 || tie(x) ? "agree" : `parts at ${x.agree} (margin ${x.margin.toFixed(3)}, f32 ${x.f32Margin.toFixed(3)})`}`)).toEqual(r.map((x) => `${t} ${x.name}: agree`));
    }
  }, 300_000);
});
