import { Command, InvalidArgumentError } from "commander";
import { runServeBench } from "../../bench/serve.ts";
import { int } from "../parse-flags.ts";

interface BenchServeOpts {
  baseUrl: string; model?: string; numPrompts: number; requestRate: number; inputLen: number; outputLen: number;
  seed: number; promptFormat: "ids" | "text"; maxConcurrency?: number; temperature: number; apiKey?: string;
}

/** --request-rate: a number > 0, or inf. */
export function parseRequestRate(v: string): number {
  if (v === "inf" || v === "Infinity") return Infinity;
  const n = Number(v);
  if (v.trim() === "" || !(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`--request-rate must be a number > 0 or inf, got "${v}"`);
  return n;
}

function format(v: string): "ids" | "text" {
  if (v !== "ids" && v !== "text") throw new InvalidArgumentError(`--prompt-format must be ids or text, got "${v}"`);
  return v;
}

/** `llm bench serve`: vLLM's serving benchmark against a running OpenAI-compatible server. */
export function benchServeCommand(): Command {
  const cmd = new Command("serve")
    .description("serving benchmark against a running server: Poisson arrivals of streamed completions; one JSON line")
    .option("--base-url <url>", "the server's root URL", "http://127.0.0.1:8000")
    .option("--model <name>", "model name to request (default: the server's first)")
    .option("--num-prompts <n>", "requests to send", int("--num-prompts", 1), 100)
    .option("--request-rate <r>", "requests per second, Poisson arrivals (inf = all at once)", parseRequestRate, Infinity)
    .option("--max-concurrency <n>", "most requests in flight (default: no limit)", int("--max-concurrency", 1))
    .option("--input-len <n>", "prompt tokens per request (random token ids)", int("--input-len", 1), 32)
    .option("--output-len <n>", "tokens generated per request (ignore_eos)", int("--output-len", 1), 32)
    .option("--prompt-format <f>", "ids (token-id list prompts) or text (the ids detokenized)", format, "ids")
    .option("--temperature <t>", "sampling temperature", Number, 0)
    .option("--seed <n>", "seed for prompts and arrival times", int("--seed", 0), 0)
    .option("--api-key <key>", "bearer token (default: $LLM_API_KEY)")
    .exitOverride();
  cmd.addHelpText("after", `
Prints one JSON line: requests_per_s, output_tok_per_s, total_tok_per_s, ttft_ms / itl_ms / tpot_ms / e2e_ms
{p50, p90, p99, mean}, completed, failed.

Examples:
  llm serve stories260k --port 8000 &
  llm bench serve --base-url http://127.0.0.1:8000 --request-rate 20 --num-prompts 200
  llm bench serve --request-rate inf --input-len 64 --output-len 64 --prompt-format text`);
  return cmd.action(async (o: BenchServeOpts) => {
    const r = await runServeBench({ ...o, apiKey: o.apiKey ?? (process.env.LLM_API_KEY || undefined) });
    process.stderr.write(`bench serve: ${r.completed}/${r.num_prompts} ok in ${r.duration_s} s at rate ${r.request_rate}: ${r.requests_per_s} req/s, ` +
      `${r.output_tok_per_s} output tok/s; TTFT p50 ${r.ttft_ms.p50} ms, ITL p50 ${r.itl_ms.p50} ms\n`);
    process.stdout.write(JSON.stringify(r) + "\n");
  });
}

/** Put `serve` under the program's `bench` command (creating `bench` when it is not there). */
export function attachBenchServe(program: Command): void {
  let bench = program.commands.find((c) => c.name() === "bench");
  if (!bench) program.addCommand((bench = new Command("bench").description("benchmarks in the style of vLLM's").exitOverride()));
  bench.addCommand(benchServeCommand());
}
