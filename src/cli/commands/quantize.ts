import { Command } from "commander";
import { resolve } from "node:path";
import { ggmlTypeName } from "../../loader/gguf/ggml-types.ts";
import { loadCheckpoint } from "../../loader/load-checkpoint.ts";
import { parseQuantizeTarget, QUANTIZE_TARGETS, quantizeCheckpoint } from "../../quant/gguf-quantize.ts";
import { addModelSourceOptions, resolveSpec, type CommonOpts } from "../common-options.ts";

interface QuantizeOpts extends CommonOpts {
  to: string;
  output: string;
}

async function quantizeAction(model: string, o: QuantizeOpts): Promise<void> {
  const target = parseQuantizeTarget(o.to);
  const spec = resolveSpec(model, o);
  const out = resolve(o.output);
  const t0 = performance.now();
  const ck = await loadCheckpoint(spec.path, { ...(spec.format ? { format: spec.format } : {}), ...(spec.tokenizerPath ? { tokenizerPath: spec.tokenizerPath } : {}) });
  process.stderr.write(`quantize: ${spec.path} → ${out} (${target})\n`);
  const tty = process.stderr.isTTY;
  const { bytes, plan } = await quantizeCheckpoint(ck, target, out, (p) => {
    if (tty) process.stderr.write(`\r[${p.index + 1}/${p.count}] ${p.tensor}\x1b[K`);
  });
  if (tty) process.stderr.write("\r\x1b[K");
  const counts = new Map<string, number>();
  for (const p of plan) counts.set(ggmlTypeName(p.to), (counts.get(ggmlTypeName(p.to)) ?? 0) + 1);
  const exceptions = plan.filter((p) => p.reason);
  for (const p of exceptions) process.stderr.write(`quantize: ${p.name}: ${p.reason}\n`);
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`quantize: wrote ${out}: ${(bytes / 1048576).toFixed(2)} MiB, tensors ${[...counts].map(([t, n]) => `${t} ×${n}`).join(", ")}, in ${secs.toFixed(1)} s\n`);
  if (o.json) {
    process.stdout.write(JSON.stringify({
      path: out, type: target, bytes, tensor_types: Object.fromEntries(counts),
      exceptions: exceptions.map((p) => ({ name: p.name, type: ggmlTypeName(p.to), reason: p.reason })), elapsed_s: Math.round(secs * 100) / 100,
    }) + "\n");
  }
}

/** `llm quantize <model> --to q4_0 -o out.gguf`: write a GGUF with block-quantized weights. */
export function quantizeCommand(): Command {
  const cmd = new Command("quantize")
    .description("write a GGUF copy of a model with its 2-D weights quantized (metadata copied, norms f32)")
    .argument("<model>", "models.yaml id or a path to a .gguf / llama2.c .bin file")
    .requiredOption("--to <type>", `weight type: ${Object.keys(QUANTIZE_TARGETS).join(", ")}`)
    .requiredOption("-o, --output <file>", "the .gguf file to write (overwritten)")
    .option("--json", "print one JSON line (path, bytes, tensor types, exceptions) on stdout");
  addModelSourceOptions(cmd);
  cmd.addHelpText("after", `
Rules: a 4-bit target (q4_0, q4_k) writes the output head as Q6_K (Q8_0 when its rows are not a
multiple of 256), like llama.cpp; k-quant rows that are not a multiple of 256 fall back to Q4_0 (for
q4_k) or Q8_0 (for q6_k); rows that are not a multiple of 32 stay F32. Every exception is listed.

Examples:
  llm quantize stories260k --to q8_0 -o stories260K-q8_0.gguf
  llm quantize ./smollm2-135m-f32.gguf --to q4_k -o smollm2-135m-q4_k.gguf
  llm run ./smollm2-135m-q4_k.gguf "hello" -n 16`);
  return cmd.action(quantizeAction);
}
