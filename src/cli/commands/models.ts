import { Command } from "commander";
import { entryFilesPresent, resolveModelSpec } from "../../config/model-spec.ts";
import { addModelSourceOptions, loadRegistry, type CommonOpts } from "../common-options.ts";

/** `llm models`: the registry's entries and whether each one's files are present. */
export function modelsCommand(): Command {
  const cmd = new Command("models")
    .description("list the models in models.yaml and whether their files are present")
    .option("--json", "print the list as JSON");
  addModelSourceOptions(cmd);
  cmd.addHelpText("after", `
Examples:
  llm models
  llm models --models-dir ~/models --json
  LLM_REGISTRY=./my-models.yaml llm models`);
  return cmd.action((o: CommonOpts) => {
    const { registry, modelsDir } = loadRegistry(o);
    const rows = registry.models.map((m) => {
      const spec = resolveModelSpec(m.id, registry, modelsDir);
      const present = entryFilesPresent(spec);
      const ok = present.model && present.tokenizer !== false;
      return { id: m.id, default: m.id === registry.defaultId, format: m.format, source: m.source, path: spec.path, present: ok, description: m.description ?? "" };
    });
    if (o.json) {
      process.stdout.write(JSON.stringify({ registry: registry.file, models_dir: modelsDir, models: rows }) + "\n");
      return;
    }
    process.stdout.write(`registry: ${registry.file}\nmodels dir: ${modelsDir}\n\n`);
    const w = Math.max(...rows.map((r) => r.id.length)) + 2;
    for (const r of rows) {
      const mark = r.present ? "present" : "missing";
      process.stdout.write(`${r.default ? "*" : " "} ${r.id.padEnd(w)}${r.format.padEnd(9)}${mark.padEnd(9)}${r.source}\n`);
    }
    process.stdout.write("\n* default model\n");
  });
}
