/**
 * The README example: a custom flex mod in a plugin module, named from models.yaml with a
 * parameter, and the same mod written as an expression in models.yaml; run through the CLI.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";
import { readGolden } from "../../helpers/golden.ts";
import { tempDir, writeTemp } from "../../helpers/tiny-gguf.ts";
import { REPO_ROOT } from "../../helpers/models-dir.ts";

const MODELS_YAML = `
models:
  - id: stories260k-near
    source: stories260K/stories260K-f32.gguf
    format: gguf
    plugins:
      attention: { name: flex-custom, mod: distance_penalty, slope: 0.05 }

  - id: stories260k-near-expr     # the same mod as an expression: no module needed
    source: stories260K/stories260K-f32.gguf
    format: gguf
    plugins:
      attention: { name: flex, score_mod: "score - slope * abs(q_idx - kv_idx)", params: { slope: 0.05 } }

  - id: stories260k-window        # a built-in mod with a parameter
    source: stories260K/stories260K-f32.gguf
    format: gguf
    plugins:
      attention: { name: flex, mod: sliding_window, window: 4096 }
`;

describe("README: a custom flex mod used from models.yaml", () => {
  const registry = writeTemp(tempDir(), "models.yaml", MODELS_YAML);
  const plugin = join(REPO_ROOT, "test", "plugins", "attention", "fixtures", "my-flex.ts");
  const g = readGolden("stories260K_once_upon_a_time");
  const ids = async (args: string[]) => {
    const r = await runCli(["run", ...args, g.prompt, "--registry", registry, "--temperature", "0", "-n", "32", "--ignore-eos", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split("\n").pop()!).generated_token_ids as number[];
  };

  it("the module's mod and the expression give the same tokens, different from plain attention; a 4096 window changes nothing here", async () => {
    const custom = await ids(["stories260k-near", "--plugin", plugin]);
    const expr = await ids(["stories260k-near-expr"]);
    expect(expr).toEqual(custom);
    expect(custom.slice(0, g.generated_ids.length)).not.toEqual(g.generated_ids.slice(0, 32));
    expect((await ids(["stories260k-window"])).slice(0, g.generated_ids.length)).toEqual(g.generated_ids.slice(0, 32));
  });

  it("without --plugin, the entry's plugin is unknown and the error lists the available ones", async () => {
    const r = await runCli(["run", "stories260k-near", "hi", "--registry", registry, "-n", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown attention "flex-custom"; available: paged, flashinfer, flex/);
  });
});
