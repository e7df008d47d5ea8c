import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.ts";
import { modelPath } from "../../helpers/models-dir.ts";
import { loadWithQuant } from "../../../src/quant/quality-suite.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-online-quant-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("online quantization at load (models.yaml quant: or --quant)", () => {
  it("models.yaml `quant: int4-g64` selects the plugin; --quant overrides it; --explain says so", async () => {
    const registry = join(dir, "models.yaml");
    writeFileSync(registry, [
      "default: s4",
      "models:",
      "  - id: s4",
      `    source: ${modelPath("stories260K", "stories260K-f32.gguf")}`,
      "    format: gguf",
      "    plugins: { quant: int4-g64 }",
      "",
    ].join("\n"));
    const a = await runCli(["run", "s4", "Once upon a time", "-n", "6", "--temperature", "0", "--explain", "--registry", registry]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/explain: quant int4-g64: selected \(int4 weight-only, groups of 64/);
    const b = await runCli(["run", "s4", "Once upon a time", "-n", "6", "--temperature", "0", "--explain", "--quant", "int8", "--registry", registry]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/explain: quant int8: selected/);
    expect(b.stdout).toMatch(/^Once upon a time, there was a little/);
  }, 120_000);

  it("a block-quantized file with an online plugin is refused, naming the tensor type and the way out", async () => {
    const r = await runCli(["run", modelPath("stories260K", "stories260K-q8_0.gguf"), "hi", "-n", "2", "--quant", "int4"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/quant "int4" cannot load this model: int4 quantizes float weights at load and cannot read tensor type Q8_0 \(.*\); readable: F32, F16, BF16 \(run block-quantized GGUF files with --quant gguf\)/);
    const u = await runCli(["run", "stories260k", "hi", "--quant", "int3"]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown quant "int3"; available: .*int8, int8-dynamic, int4, int4-g64, int4-g128, fp8, fp8-e5m2/);
  }, 120_000);

  it("f16 files quantize at load too; weight bytes shrink as the scheme says", async () => {
    const f16 = modelPath("stories260K", "stories260K-f16.gguf");
    const bytes = async (q: string) => (await loadWithQuant(f16, q)).model.weightBytes;
    const f32 = await bytes("none");
    // stories260K: ffn_down (rows of 172) stays f32 under int4; the output head is f32 (int8) or int8 (int4, fp8).
    expect(await bytes("int8")).toBeLessThan(0.4 * f32);
    expect(await bytes("fp8")).toBeLessThan(0.3 * f32);
    expect(await bytes("int4")).toBeLessThan(0.4 * f32);
  }, 120_000);
});
