/**
 * Model files the quant benches run on, made on demand under .bench-out/quant/ (git-ignored): the
 * SmolLM2-135M-shape random-weight f32 GGUF (`llm gen-model smollm2-135m`) and its q8_0 / q4_0
 * copies (`llm quantize`).
 */
import { existsSync, mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCheckpoint } from "../src/loader/load-checkpoint.ts";
import { RANDOM_MODEL_PRESETS, writeRandomModel } from "../src/model/random-model.ts";
import { quantizeCheckpoint, type QuantizeTarget } from "../src/quant/gguf-quantize.ts";

export const BENCH_DIR = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", ".bench-out", "quant");

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** The f32 random model of `preset` (seed 0), generated if missing. */
export async function randomF32Model(preset = "smollm2-135m"): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `${preset}-f32.gguf`);
  if (!existsSync(path)) {
    log(`generating ${path}`);
    await writeRandomModel(path, { shape: RANDOM_MODEL_PRESETS[preset]!, type: "f32", seed: 0, name: `random-${preset}-f32` });
  }
  return path;
}

/** `f32Path` quantized to `target`, written under .bench-out/quant/ (never beside the source), made if missing. */
export async function quantizedCopy(f32Path: string, target: QuantizeTarget): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, basename(f32Path).replace(/(-f32)?\.gguf$/i, "") + `-${target}.gguf`);
  if (!existsSync(path)) {
    log(`quantizing ${path}`);
    await quantizeCheckpoint(await loadCheckpoint(f32Path), target, path);
  }
  return path;
}
