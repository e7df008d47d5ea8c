import { Command, CommanderError } from "commander";
import { LlmError } from "../util/errors.ts";
import { modelsCommand } from "./commands/models.ts";
import { runCommand } from "./commands/run.ts";
import { quantizeCommand } from "./commands/quantize.ts";
import { serveCommand } from "./commands/serve.ts";
import { attachBenchServe } from "./commands/bench-serve.ts";
import { genModelCommand } from "./commands/gen-model.ts";
import { benchCommand } from "./commands/bench.ts";
import { chatCommand } from "./commands/chat.ts";
import { pullCommand } from "./commands/pull.ts";

export function buildProgram(): Command {
  const program = new Command("llm")
    .description("an LLM inference engine in TypeScript: paged KV cache, continuous batching, plugins")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.addCommand(runCommand());
  program.addCommand(serveCommand());
  program.addCommand(chatCommand());
  program.addCommand(modelsCommand());
  program.addCommand(pullCommand());
  program.addCommand(quantizeCommand());
  program.addCommand(genModelCommand());
  program.addCommand(benchCommand());
  attachBenchServe(program);
  program.addHelpText("after", `
Examples:
  llm run "Once upon a time"                 run the default model (stories260k)
  llm run stories260k "The cat" -n 32 --temperature 0
  llm models                                 list models.yaml entries and whether their files are present
  llm pull HuggingFaceTB/SmolLM2-135M        download a model from the Hugging Face hub into the cache

Exit codes: 0 ok, 1 runtime or model-file error, 2 usage error.`);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Entry point: exit 0 ok, 1 runtime error, 2 usage error; one line per error, stack only with --verbose. */
export async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes("--verbose") || argv.includes("-v");
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") process.exit(0);
      process.exit(e.exitCode === 0 ? 0 : 2);
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`llm: error: ${msg.split("\n")[0]}${msg.includes("\n") ? "\n" + msg.split("\n").slice(1).join("\n") : ""}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
    process.exit(e instanceof LlmError ? e.exitCode : 1);
  }
}
