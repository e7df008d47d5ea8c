import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseByteSize, parseModelRegistry } from "../../src/config/models-registry.ts";
import { resolveModelSpec } from "../../src/config/model-spec.ts";
import { REPO_ROOT } from "../helpers/models-dir.ts";

const ok = (extra = "") => `default: a\nmodels:\n  - id: a\n    source: x/a.gguf\n    format: gguf\n${extra}`;

describe("models.yaml", () => {
  it("the shipped registry parses, defaults to stories260k", () => {
    const r = parseModelRegistry(readFileSync(join(REPO_ROOT, "models.yaml"), "utf8"), "models.yaml");
    expect(r.defaultId).toBe("stories260k");
    expect(r.models.map((m) => m.id)).toContain("stories260k-llama2c");
  });
  it("reads sampling defaults, plugins, sizes; hf:// sources validate", () => {
    const r = parseModelRegistry(ok("    sampling: { temperature: 0.5, top_p: 0.9, stop: [\"\\n\"], stop_token_ids: [1] }\n    plugins: { backend: cpu, attention: paged, quant: gguf }\n    max_model_len: 256\n    kv_cache_memory: 64MiB\n  - id: b\n    source: hf://org/repo/file.gguf\n    format: gguf\n"), "f.yaml");
    expect(r.models[0]!.sampling).toEqual({ temperature: 0.5, topP: 0.9, stop: ["\n"], stopTokenIds: [1] });
    expect(r.models[0]!.plugins).toEqual({ backend: "cpu", attention: "paged", quant: "gguf" });
    expect(r.models[0]!.kvCacheMemory).toBe(64 * 1024 * 1024);
    expect(r.models[1]!.source).toBe("hf://org/repo/file.gguf");
  });
  const bad: Array<[string, string, RegExp]> = [
    ["malformed", "models: [\n", /f\.yaml: malformed YAML/],
    ["unknown top key", ok() + "extra: 1\n", /unknown top-level key 'extra'/],
    ["unknown entry key", ok("    colour: red\n"), /model 'a': unknown key 'colour'; accepted: id, source/],
    ["missing source", "models:\n  - id: a\n    format: gguf\n", /model 'a': missing required field 'source'/],
    ["bad format", "models:\n  - id: a\n    source: a\n    format: onnx\n", /model 'a': format 'onnx' not supported; accepted: gguf, llama2c/],
    ["llama2c without tokenizer", "models:\n  - id: a\n    source: a.bin\n    format: llama2c\n", /llama2c models need a 'tokenizer'/],
    ["unknown sampling key", ok("    sampling: { temp: 1 }\n"), /unknown sampling key 'temp'/],
    ["unknown default", "default: zz\n" + ok().slice("default: a\n".length), /default 'zz' is not a model id/],
    ["duplicate id", ok() + "  - id: a\n    source: b\n    format: gguf\n", /duplicate model id 'a'/],
    ["bad size", ok("    kv_cache_memory: lots\n"), /invalid size "lots"/],
    ["bad scheme", "models:\n  - id: a\n    source: s3://x\n    format: gguf\n", /source scheme not supported/],
  ];
  for (const [name, text, re] of bad) it(`rejects: ${name}`, () => expect(() => parseModelRegistry(text, "f.yaml")).toThrow(re));

  it("unknown ids list the available ones; paths bypass the registry", () => {
    const r = parseModelRegistry(ok(), "f.yaml");
    expect(() => resolveModelSpec("nope", r, "/m")).toThrow(/unknown model 'nope'; available: a/);
    expect(resolveModelSpec(undefined, r, "/m").path).toBe(join("/m", "x/a.gguf"));
    expect(resolveModelSpec("./some/file.gguf", r, "/m").id).toBe("file.gguf");
  });
  it("byte sizes", () => {
    expect(parseByteSize("1.5 GiB", "x")).toBe(1.5 * 1024 ** 3);
    expect(parseByteSize(4096, "x")).toBe(4096);
    expect(() => parseByteSize("-3", "x")).toThrow(/accepted/);
  });
});
