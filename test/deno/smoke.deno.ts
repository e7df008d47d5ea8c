// Deno smoke test (deno test does not run vitest files): the real CLI under Deno reproduces goldens.
// Run: deno test -A --no-check test/deno/smoke.deno.ts
import { assertEquals } from "./assert.ts";

const repo = new URL("../../", import.meta.url).pathname;
const modelsDir = Deno.env.get("LLM_MODELS_DIR") ?? `${repo}../shared/models`;

async function llm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}bin/llm.js`, ...args],
    env: { LLM_MODELS_DIR: modelsDir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function golden(name: string) {
  return JSON.parse(Deno.readTextFileSync(`${modelsDir}/golden/${name}.json`));
}

Deno.test("deno: llm run prints the run.c golden text", async () => {
  const g = golden("stories260K_once_upon_a_time");
  const r = await llm(["run", "stories260k", g.prompt, "--temperature", "0", "-n", "64"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout, g.run_c_stdout + "\n");
});

Deno.test("deno: llama2.c checkpoint, --json ids equal the golden ids (long_200 stops on BOS)", async () => {
  const g = golden("stories260K_long_200");
  const r = await llm(["run", "stories260k-llama2c", g.prompt, "--temperature", "0", "-n", "200", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assertEquals(out.prompt_token_ids, g.prompt_ids);
  assertEquals(out.generated_token_ids, g.generated_ids);
});

Deno.test("deno: a seeded sampled run gives the same text as on Node", async () => {
  const args = ["run", "stories260k", "The cat", "--seed", "7", "-n", "40", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.9"];
  const r = await llm(args);
  assertEquals(r.code, 0, r.stderr);
  const node = await new Deno.Command("node", { args: [`${repo}bin/llm.js`, ...args], env: { LLM_MODELS_DIR: modelsDir }, stdout: "piped" }).output();
  assertEquals(r.stdout, new TextDecoder().decode(node.stdout));
});

Deno.test("deno: unknown model exits 2 with one line", async () => {
  const r = await llm(["run", "no-such-model", "hi"]);
  assertEquals(r.code, 2);
  assertEquals(r.stderr.trim().split("\n").length, 1);
});
