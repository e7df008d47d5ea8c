import { Command } from "commander";
import { runLatency } from "../../bench/latency.ts";
import { runThroughput } from "../../bench/throughput.ts";
import { addEngineOptions, addModelSourceOptions, resolveSpec, type CommonOpts } from "../common-options.ts";
import { openEngine } from "../open-engine.ts";
import { int, num } from "../parse-flags.ts";

interface ThroughputOpts extends CommonOpts {
  numPrompts: number; inputLen: number; outputLen: number; maxConcurrency?: number; sharedPrefixLen: number; seed: number; temperature: number;
}
interface LatencyOpts extends CommonOpts {
  batchSize: number; inputLen: number; outputLen: number; numIters: number; numItersWarmup: number; seed: number; temperature: number;
}

function common(cmd: Command): Command {
  cmd
    .argument("[model]", "models.yaml id or a path to a .gguf / llama2.c .bin file (default: the registry's default)")
    .option("--input-len <n>", "prompt tokens per request (random token ids)", int("--input-len", 1), 128)
    .option("--output-len <n>", "generated tokens per request (EOS ignored)", int("--output-len", 1), 64)
    .option("--seed <n>", "seed of the random prompts and of sampling", int("--seed", 0), 0)
    .option("--temperature <t>", "sampling temperature (0 = greedy)", num("--temperature"), 1)
    .option("--json", "print the result as one JSON line on stdout (always on; kept for vLLM's flag)")
    .option("-v, --verbose", "model facts on stderr; stack traces on errors");
  addEngineOptions(cmd);
  addModelSourceOptions(cmd);
  return cmd.exitOverride();
}

const ms = (x: number) => x.toFixed(1);

function throughputCommand(): Command {
  const cmd = new Command("throughput")
    .description("offline throughput: many random prompts through the engine, at most --max-concurrency at once")
    .option("--num-prompts <n>", "requests to run", int("--num-prompts", 1), 32)
    .option("--max-concurrency <n>", "most requests in flight (default: all)", int("--max-concurrency", 1))
    .option("--shared-prefix-len <n>", "prompt tokens every prompt shares at its start (for prefix caching)", int("--shared-prefix-len", 0), 0);
  common(cmd).addHelpText("after", `
Prints one JSON line: model, plugins, elapsed_s, requests_per_s, output_tok_per_s, total_tok_per_s,
ttft_ms / itl_ms / e2e_ms {p50, p90, p99, mean}, prefix_cache_hit_rate, peak_kv_usage, num_preemptions.

Examples:
  llm bench throughput stories260k --num-prompts 64 --max-concurrency 16
  llm bench throughput ./model.gguf --input-len 32 --output-len 16 --num-prompts 8
  llm bench throughput stories260k --shared-prefix-len 96 --no-enable-prefix-caching`);
  return cmd.action(async (model: string | undefined, o: ThroughputOpts) => {
    const spec = resolveSpec(model, o);
    const engine = await openEngine(spec, o);
    const r = await runThroughput(engine, spec.id, {
      numPrompts: o.numPrompts, inputLen: o.inputLen, outputLen: o.outputLen, sharedPrefixLen: o.sharedPrefixLen, seed: o.seed, temperature: o.temperature,
      ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
    });
    process.stderr.write(`throughput: ${r.num_prompts} requests in ${r.elapsed_s} s: ${r.output_tok_per_s} output tok/s, ${r.total_tok_per_s} total tok/s; ` +
      `TTFT p50 ${ms(r.ttft_ms.p50)} ms, ITL p50 ${ms(r.itl_ms.p50)} ms; prefix cache hits ${(r.prefix_cache_hit_rate * 100).toFixed(1)}%\n`);
    process.stdout.write(JSON.stringify(r) + "\n");
  });
}

function latencyCommand(): Command {
  const cmd = new Command("latency")
    .description("latency of one batch end to end, repeated; with prefill and decode rates")
    .option("--batch-size <n>", "requests per batch", int("--batch-size", 1), 1)
    .option("--num-iters <n>", "measured iterations", int("--num-iters", 1), 3)
    .option("--num-iters-warmup <n>", "iterations run first and not measured", int("--num-iters-warmup", 0), 1);
  common(cmd).addHelpText("after", `
Prints one JSON line: avg_latency_s, percentiles {10..99} (s), avg_ttft_ms, prefill_tok_per_s, decode_tok_per_s.

Examples:
  llm bench latency stories260k --batch-size 8 --input-len 64 --output-len 32
  llm bench latency ./model.gguf --input-len 32 --output-len 8 --num-iters 2`);
  return cmd.action(async (model: string | undefined, o: LatencyOpts) => {
    const spec = resolveSpec(model, o);
    const engine = await openEngine(spec, o);
    const r = await runLatency(engine, spec.id, {
      batchSize: o.batchSize, inputLen: o.inputLen, outputLen: o.outputLen, numIters: o.numIters, numItersWarmup: o.numItersWarmup, seed: o.seed, temperature: o.temperature,
    });
    process.stderr.write(`latency: batch ${r.batch_size}, avg ${r.avg_latency_s} s; prefill ${r.prefill_tok_per_s} tok/s, decode ${r.decode_tok_per_s} tok/s\n`);
    process.stdout.write(JSON.stringify(r) + "\n");
  });
}

/** `llm bench throughput|latency [model]`: vLLM-style benchmarks, one JSON line each. */
export function benchCommand(): Command {
  return new Command("bench")
    .description("benchmarks in the style of vLLM's: throughput and latency; each prints one JSON line")
    .addCommand(throughputCommand())
    .addCommand(latencyCommand());
}
