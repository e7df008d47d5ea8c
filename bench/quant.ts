/**
 * Decode speed and weight traffic per quantization, one JSON line per case, each with its ratio to
 * f32 measured in the same run:
 *   f32 (quant none), int8, int4 (g32), fp8 (online, from the f32 file), q8_0 and q4_0 (GGUF files
 *   made by `llm quantize`, computed in place by the gguf plugin).
 * Model: the SmolLM2-135M-shape random-weight GGUF (default) or stories260k (--model stories260k,
 * or any GGUF path). Decode: greedy, one sequence, `--tokens` steps after a short prompt; every
 * case is loaded first, then timed in `--rounds` interleaved rounds (the median is reported).
 * Usage: npx tsx bench/quant.ts [--model smollm2-135m|stories260k|PATH] [--tokens 16] [--rounds 3] [--cases f32,int8,...]
 */
import { basename } from "node:path";
import { cpus } from "node:os";
import { loadWithQuant } from "../src/quant/quality-suite.ts";
import { singleRequestInput } from "../src/runner/model-input.ts";
import { argmax } from "../src/quant/quality.ts";
import type { LoadedModel } from "../src/engine/load-model.ts";
import { quantizedCopy, randomF32Model } from "./quant-models.ts";
import { testModelsDir } from "./quant-paths.ts";

interface Case { name: string; quant: string; file: "f32" | "q8_0" | "q4_0" }

const CASES: Case[] = [
  { name: "f32", quant: "none", file: "f32" },
  { name: "int8", quant: "int8", file: "f32" },
  { name: "int4", quant: "int4", file: "f32" },
  { name: "fp8", quant: "fp8", file: "f32" },
  { name: "q8_0", quant: "gguf", file: "q8_0" },
  { name: "q4_0", quant: "gguf", file: "q4_0" },
];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** Seconds per decoded token over `steps` greedy steps (after a prompt of 4 tokens). */
async function decodeSecondsPerToken(m: LoadedModel, steps: number): Promise<number> {
  const blockSize = 16;
  const maxLen = 4 + steps + 1;
  const blocks = Math.ceil(maxLen / blockSize);
  const cache = m.attention.allocateKvCache(blocks + 1, blockSize);
  const blockIds = Array.from({ length: blocks }, (_, i) => i + 1);
  const vocab = m.config.vocabSize;
  let feed = [1, 5, 6, 7].map((t) => Math.min(t, vocab - 1));
  let pos = 0;
  let t0 = 0;
  for (let s = 0; s <= steps; s++) {
    if (s === 1) t0 = performance.now(); // step 0 is the prefill
    const out = m.model.forward(singleRequestInput(feed, pos, blockIds, blockSize), m.attention, cache);
    const row = (await m.model.backend.read(out, vocab)) as Float32Array;
    pos += feed.length;
    feed = [argmax(row)];
  }
  return (performance.now() - t0) / 1000 / steps;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const modelArg = arg("model", "smollm2-135m");
  const steps = Number(arg("tokens", "16"));
  const rounds = Number(arg("rounds", "3"));
  const only = arg("cases", CASES.map((c) => c.name).join(",")).split(",");
  const f32Path = modelArg === "smollm2-135m" ? await randomF32Model("smollm2-135m")
    : modelArg === "stories260k" ? `${testModelsDir()}/stories260K/stories260K-f32.gguf` : modelArg;
  const files = { f32: f32Path, q8_0: "", q4_0: "" };
  // Load every case first, then time them in interleaved rounds (median per case), so drift in
  // the machine's load spreads over all cases alike.
  const loaded: Array<{ c: Case; m: LoadedModel; loadS: number; spt: number[] }> = [];
  for (const c of CASES.filter((c) => only.includes(c.name))) {
    if (c.file !== "f32" && !files[c.file]) files[c.file] = await quantizedCopy(f32Path, c.file);
    const t0 = performance.now();
    const m = await loadWithQuant(files[c.file], c.quant);
    loaded.push({ c, m, loadS: (performance.now() - t0) / 1000, spt: [] });
    await decodeSecondsPerToken(m, 2); // warm-up (JIT)
  }
  for (let r = 0; r < rounds; r++) for (const l of loaded) l.spt.push(await decodeSecondsPerToken(l.m, steps));
  let base: { tokS: number; bytes: number } | null = null;
  for (const { c, m, loadS, spt } of loaded) {
    const tokS = 1 / median(spt);
    const bytes = m.model.weightBytes;
    if (c.name === "f32") base = { tokS, bytes };
    process.stdout.write(JSON.stringify({
      bench: "quant", model: basename(files[c.file]), case: c.name, quant: c.quant, decode_tokens: steps, rounds,
      decode_tok_s: +tokS.toFixed(3), weight_bytes_per_token: bytes,
      tok_s_ratio_vs_f32: base ? +(tokS / base.tokS).toFixed(3) : null,
      bytes_ratio_vs_f32: base ? +(bytes / base.bytes).toFixed(4) : null,
      weight_gb_s: +((bytes * tokS) / 1e9).toFixed(3), load_s: +loadS.toFixed(2),
      runtime: typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : `node ${process.version}`, cpu: cpus()[0]?.model ?? "cpu",
    }) + "\n");
  }
}

await main();
