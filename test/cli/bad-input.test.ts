import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { writeGGUF } from "../helpers/gguf-writer.ts";
import { tempDir, tinyLlamaGGUF, tinyLlamaMetadata, tinyLlamaTensors, writeTemp } from "../helpers/tiny-gguf.ts";

const dir = tempDir();
const real = () => readFileSync(modelPath("stories260K", "stories260K-f32.gguf"));

/** One line on stderr that names `file` and contains `problem`; no stack trace; the exit code. */
async function expectCliError(args: string[], code: 1 | 2, ...needles: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split("\n");
  expect(lines.length, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const n of needles) expect(r.stderr).toContain(n);
  expect(r.stdout).toBe("");
  return r;
}

function gguf(name: string, bytes: Uint8Array): string {
  return writeTemp(dir, name, bytes);
}

describe("llm run: bad input gives one clear line and an exit code", () => {
  it("unknown model id (usage error, lists the ids)", async () => {
    await expectCliError(["run", "no-such-model", "hi"], 2, "unknown model 'no-such-model'", "stories260k");
  });
  it("missing file", async () => {
    const p = `${dir}/absent.gguf`;
    await expectCliError(["run", p, "hi"], 1, p, "file not found");
  });
  it("empty file", async () => {
    const p = gguf("empty.gguf", new Uint8Array(0));
    await expectCliError(["run", p, "hi"], 1, p, "empty file");
  });
  it("wrong magic", async () => {
    const b = real().subarray(0, 4096).slice();
    b.set([0x42, 0x41, 0x44, 0x21], 0);
    const p = gguf("magic.gguf", b);
    await expectCliError(["run", p, "hi"], 1, p, "GGUF");
  });
  it("unsupported GGUF version", async () => {
    const p = gguf("v1.gguf", writeGGUF({ version: 1 }));
    await expectCliError(["run", p, "hi"], 1, p, "unsupported GGUF version 1");
  });
  it("truncated header", async () => {
    const p = gguf("trunc.gguf", real().subarray(0, 1000));
    await expectCliError(["run", p, "hi"], 1, p, "past end of file");
  });
  it("a tensor whose data runs past the end of the file", async () => {
    const full = tinyLlamaGGUF();
    const p = gguf("past-end.gguf", full.subarray(0, full.length - 40));
    await expectCliError(["run", p, "hi"], 1, p, "past end");
  });
  it("an unknown tensor type", async () => {
    const tensors = tinyLlamaTensors();
    tensors[2] = { ...tensors[2]!, type: 99 };
    const p = gguf("type99.gguf", writeGGUF({ metadata: tinyLlamaMetadata(), tensors }));
    await expectCliError(["run", p, "hi"], 1, p, "unknown type 99");
  });
  it("a dimension whose byte size overflows (no absurd allocation)", async () => {
    const tensors = tinyLlamaTensors();
    tensors[2] = { name: "blk.0.attn_q.weight", type: 0, dims: [2 ** 40, 2 ** 40], data: new Uint8Array(64) };
    const p = gguf("overflow.gguf", writeGGUF({ metadata: tinyLlamaMetadata(), tensors }));
    await expectCliError(["run", p, "hi"], 1, p, "blk.0.attn_q.weight");
  });
  it("a missing required metadata key", async () => {
    const p = gguf("nokey.gguf", tinyLlamaGGUF({ omit: ["llama.block_count"] }));
    await expectCliError(["run", p, "hi"], 1, p, "llama.block_count");
  });
  it("a missing tokenizer", async () => {
    const p = gguf("notok.gguf", tinyLlamaGGUF({ omit: ["tokenizer.ggml.tokens"] }));
    await expectCliError(["run", p, "hi"], 1, p, "tokenizer.ggml.tokens");
  });
  it("malformed models.yaml", async () => {
    const reg = writeTemp(dir, "bad.yaml", "default: a\nmodels:\n  - id: a\n    source: [unclosed\n");
    await expectCliError(["run", "a", "hi", "--registry", reg], 1, reg, "malformed YAML");
  });
  it("models.yaml entry with an unknown key, naming the entry", async () => {
    const reg = writeTemp(dir, "unknown-key.yaml", "models:\n  - id: m1\n    source: x.gguf\n    format: gguf\n    colour: blue\n");
    await expectCliError(["run", "m1", "hi", "--registry", reg], 1, "model 'm1'", "unknown key 'colour'");
  });
  it("models.yaml entry missing a field, naming the entry", async () => {
    const reg = writeTemp(dir, "missing-field.yaml", "models:\n  - id: m2\n    format: gguf\n");
    await expectCliError(["run", "m2", "hi", "--registry", reg], 1, "model 'm2'", "missing required field 'source'");
  });
  it("models.yaml entry whose file is missing", async () => {
    const reg = writeTemp(dir, "missing-file.yaml", "models:\n  - id: m3\n    source: nowhere/m3.gguf\n    format: gguf\n");
    await expectCliError(["run", "m3", "hi", "--registry", reg], 1, "m3.gguf", "file not found");
  });
  it("a bad flag value (usage error)", async () => {
    await expectCliError(["run", "stories260k", "hi", "--top-p", "abc"], 2, "--top-p");
    await expectCliError(["run", "stories260k", "hi", "--top-p", "1.5"], 2, "top_p");
  });
  it("a prompt longer than the context is refused, never truncated", async () => {
    await expectCliError(["run", "stories260k", "hello ".repeat(600)], 2, "max_model_len 512");
  });
  it("--verbose adds the stack trace", async () => {
    const r = await runCli(["run", `${dir}/absent.gguf`, "hi", "--verbose"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});
