import { Command, Option } from "commander";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { checkRandomModelShape, RANDOM_MODEL_PRESETS, RANDOM_WEIGHT_TYPES, writeRandomModel, type RandomModelShape, type RandomWeightType } from "../../model/random-model.ts";
import { writeTinyArchGGUF, writeTinyArchHfFolder } from "../../model/random-arch-model.ts";
import { TINY_ARCHS, type TinyArch } from "../../model/tiny-arch-shapes.ts";
import { UsageError } from "../../util/errors.ts";
import { int, num } from "../parse-flags.ts";

interface GenModelOpts {
  output: string;
  type: RandomWeightType;
  seed: number;
  dim?: number; numLayers?: number; numHeads?: number; numKvHeads?: number; ffnDim?: number; vocabSize?: number;
  contextLength?: number; ropeTheta?: number; rmsEps?: number; tieEmbeddings?: boolean;
  json?: boolean;
  arch?: string;
  format: "gguf" | "hf";
}

const SHAPE_FLAGS = ["dim", "numLayers", "numHeads", "numKvHeads", "ffnDim", "vocabSize", "contextLength", "ropeTheta", "rmsEps", "tieEmbeddings"] as const;

/** --arch / --format hf: the tiny random model of an architecture (the tests' shape), as GGUF or a Hugging Face folder. */
async function genArchModel(preset: string, o: GenModelOpts): Promise<void> {
  const arch = (o.arch ?? "llama") as TinyArch;
  if (!TINY_ARCHS.includes(arch)) throw new UsageError(`unknown --arch "${o.arch}"; available: ${TINY_ARCHS.join(", ")}`);
  const given = SHAPE_FLAGS.filter((k) => o[k] !== undefined);
  if (preset !== "tiny" || given.length) throw new UsageError(`--arch/--format hf write the fixed tiny test shape of each architecture; drop ${preset !== "tiny" ? `the preset "${preset}"` : `--${given[0]!.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`}`);
  if (o.type !== "f32" && o.type !== "f16") throw new UsageError(`--arch/--format hf models are written as f32 or f16 (got --type ${o.type})`);
  const path = resolve(o.output);
  if (!existsSync(dirname(path))) throw new UsageError(`cannot write ${path}: folder ${dirname(path)} does not exist`);
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (o.format === "gguf" && isDir) throw new UsageError(`cannot write ${path}: it is a folder; give a file name`);
  if (o.format === "hf" && existsSync(path) && !isDir) throw new UsageError(`cannot write ${path}: it is a file; --format hf writes a folder`);
  const dtype = o.type === "f16" ? "F16" : "F32";
  if (o.format === "hf") await writeTinyArchHfFolder(path, arch, o.seed, { dtype });
  else await writeTinyArchGGUF(path, arch, o.seed, dtype);
  process.stderr.write(`gen-model: wrote tiny ${arch} (${o.format}, ${o.type}, seed ${o.seed}) to ${path}\n`);
  if (o.json) process.stdout.write(JSON.stringify({ path, arch, format: o.format, type: o.type, seed: o.seed }) + "\n");
}

/** The preset with the flags' overrides applied. */
export function shapeFrom(preset: string, o: GenModelOpts): RandomModelShape {
  const base = RANDOM_MODEL_PRESETS[preset];
  if (!base) throw new UsageError(`unknown preset "${preset}"; available: ${Object.keys(RANDOM_MODEL_PRESETS).join(", ")}`);
  const pick = <K extends keyof RandomModelShape>(k: K, v: RandomModelShape[K] | undefined) => (v === undefined ? base[k] : v);
  return {
    dim: pick("dim", o.dim), numLayers: pick("numLayers", o.numLayers), numHeads: pick("numHeads", o.numHeads),
    numKvHeads: pick("numKvHeads", o.numKvHeads), hiddenDim: pick("hiddenDim", o.ffnDim), vocabSize: pick("vocabSize", o.vocabSize),
    contextLength: pick("contextLength", o.contextLength), ropeTheta: pick("ropeTheta", o.ropeTheta), rmsEps: pick("rmsEps", o.rmsEps),
    tiedEmbeddings: pick("tiedEmbeddings", o.tieEmbeddings),
  };
}

async function genModelAction(preset: string, o: GenModelOpts): Promise<void> {
  if (o.arch !== undefined || o.format === "hf") return genArchModel(preset, o);
  const shape = shapeFrom(preset, o);
  checkRandomModelShape(shape, o.type);
  const path = resolve(o.output);
  if (!existsSync(dirname(path))) throw new UsageError(`cannot write ${path}: folder ${dirname(path)} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`cannot write ${path}: it is a folder; give a file name`);
  const t0 = performance.now();
  const tty = process.stderr.isTTY;
  const mib = (b: number) => (b / 1048576).toFixed(1);
  process.stderr.write(`gen-model: ${preset} (dim ${shape.dim}, ${shape.numLayers} layers, ${shape.numHeads}/${shape.numKvHeads} heads, FFN ${shape.hiddenDim}, vocab ${shape.vocabSize}), ${o.type}, seed ${o.seed} → ${path}\n`);
  let lastPct = -1;
  const { bytes, params } = await writeRandomModel(path, {
    shape, type: o.type, seed: o.seed, name: `random-${preset}-${o.type}`,
    onProgress: (p) => {
      const pct = Math.floor((p.written / p.total) * 100);
      if (tty) process.stderr.write(`\r[${p.index + 1}/${p.count}] ${mib(p.written)}/${mib(p.total)} MiB ${p.tensor}\x1b[K`);
      else if (p.total >= 32 * 1048576 && pct >= lastPct + 25) process.stderr.write(`gen-model: ${pct}% (${p.index + 1}/${p.count} tensors)\n`);
      if (pct >= lastPct + 25) lastPct = pct;
    },
  });
  const secs = (performance.now() - t0) / 1000;
  if (tty) process.stderr.write("\r\x1b[K");
  process.stderr.write(`gen-model: wrote ${path}: ${mib(bytes)} MiB, ${(params / 1e6).toFixed(1)}M parameters, in ${secs.toFixed(1)} s\n`);
  if (o.json) {
    process.stdout.write(JSON.stringify({ path, preset, type: o.type, seed: o.seed, bytes, params, shape, elapsed_s: Math.round(secs * 100) / 100 }) + "\n");
  }
}

/** `llm gen-model [preset] -o out.gguf`: a random-weight Llama GGUF of a given shape. */
export function genModelCommand(): Command {
  const cmd = new Command("gen-model")
    .description("write a random-weight Llama GGUF of a given shape (for benchmarks and tests; it generates gibberish)")
    .argument("[preset]", `shape preset: ${Object.keys(RANDOM_MODEL_PRESETS).join(", ")}`, "tiny")
    .requiredOption("-o, --output <file>", "the .gguf file to write (overwritten)")
    .addOption(new Option("--type <type>", "matrix storage type (norms stay f32)").choices(Object.keys(RANDOM_WEIGHT_TYPES)).default("f32"))
    .option("--seed <n>", "weight seed (same seed, same file)", int("--seed", 0), 0)
    .option("--dim <n>", "embedding size", int("--dim", 1))
    .option("--num-layers <n>", "decoder layers", int("--num-layers", 1))
    .option("--num-heads <n>", "attention heads", int("--num-heads", 1))
    .option("--num-kv-heads <n>", "key/value heads (grouped-query attention)", int("--num-kv-heads", 1))
    .option("--ffn-dim <n>", "feed-forward (intermediate) size", int("--ffn-dim", 1))
    .option("--vocab-size <n>", "vocabulary size (at least 260)", int("--vocab-size", 1))
    .option("--context-length <n>", "context length in the metadata", int("--context-length", 1))
    .option("--rope-theta <x>", "RoPE frequency base", num("--rope-theta"))
    .option("--rms-eps <x>", "RMSNorm epsilon", num("--rms-eps"))
    .option("--tie-embeddings", "output head shares the token embedding")
    .option("--no-tie-embeddings", "write a separate output.weight")
    .option("--json", "print one JSON line (path, size, parameters, shape) on stdout")
    .option("--arch <name>", `write the tiny test model of an architecture instead: ${TINY_ARCHS.join(", ")}`)
    .addOption(new Option("--format <format>", "gguf file, or hf: a Hugging Face folder (config.json + model.safetensors); hf implies --arch llama").choices(["gguf", "hf"]).default("gguf"));
  cmd.addHelpText("after", `
Presets:
  smollm2-135m   dim 576, 30 layers, 9/3 heads, FFN 1536, vocab 49152, tied, context 2048, theta 1e5
  llama-1b       dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, untied, context 131072, theta 5e5
  tiny           dim 64, 2 layers, 4/2 heads, FFN 128, vocab 512, tied, context 512

Examples:
  llm gen-model smollm2-135m --type q8_0 -o smollm2-135m-q8_0.gguf
  llm gen-model tiny --num-layers 4 --vocab-size 1024 -o tiny.gguf
  llm run ./tiny.gguf "hello" -n 16
  llm gen-model --arch gemma2 -o tiny-gemma2.gguf
  llm gen-model --arch qwen3 --format hf -o tiny-qwen3/`);
  return cmd.action(genModelAction);
}
