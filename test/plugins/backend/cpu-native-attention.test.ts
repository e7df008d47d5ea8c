/**
 * Paged attention on the cpu-native backend (the C kernel behind attendItems, for head sizes that
 * are multiples of 8): the attention conformance suite's random steps against the fp64 dense
 * reference (1e-5 of max|V|), identical bits on 1, 2 and 3 threads and between the AVX2 and the
 * portable C paths, and a table that points outside memory refused. Skipped where the addon is not built.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { loadCpuNativeAddon } from "../../../plugins/backend/cpu-native/native-kernels.ts";
import { cpuNativeBackendPlugin } from "../../../plugins/backend/cpu-native/index.ts";
import { digestAttention, runPagedOn } from "./cpu-native-attention-cases.ts";
import { buildCase, maxError, shapeOf } from "../attention/cases.ts";
import { denseAttention } from "../attention/dense-reference.ts";
import { randomSpec } from "../attention/random-spec.ts";

const loaded = loadCpuNativeAddon();
const addon = "addon" in loaded ? loaded.addon : null;
const ROOT = new URL("../../../", import.meta.url).pathname;
const SEEDS = Array.from({ length: 24 }, (_, i) => 3000 + i);
const TOL = 1e-5;

describe.skipIf(!addon)("cpu-native attention", () => {
  it(`${SEEDS.length} random steps (decode, prefill, chunked, shared prefixes, windows) within ${TOL} x max|V| of fp64 dense attention`, async () => {
    const backend = await cpuNativeBackendPlugin.create({ threads: 2 });
    const failures: string[] = [];
    try {
      for (const seed of SEEDS) {
        const spec = randomSpec(seed, { window: true });
        const c = buildCase(spec, seed);
        const got = await runPagedOn(backend, c);
        const ref = denseAttention(c.dense, { ...shapeOf(spec), causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: null });
        const err = maxError(c, got, ref);
        if (!(err <= TOL)) failures.push(`seed ${seed}: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
      }
    } finally {
      backend.dispose();
    }
    expect(failures).toEqual([]);
  });

  it("the same bits on 1, 2 and 3 threads, and from the portable C path", async () => {
    const digests: string[] = [];
    for (const threads of [1, 2, 3]) {
      const backend = await cpuNativeBackendPlugin.create({ threads });
      try {
        digests.push(await digestAttention(backend));
      } finally {
        backend.dispose();
      }
    }
    expect(new Set(digests).size).toBe(1);
    if (addon!.features() === "generic" || "Bun" in globalThis) return;
    const script = `
      const { cpuNativeBackendPlugin } = await import("./plugins/backend/cpu-native/index.ts");
      const { digestAttention } = await import("./test/plugins/backend/cpu-native-attention-cases.ts");
      const b = await cpuNativeBackendPlugin.create({ threads: 2 });
      console.log(JSON.stringify({ device: b.device, digest: await digestAttention(b) }));
      b.dispose();`;
    const generic = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, LLM_CPU_NATIVE_ISA: "generic" },
    }).trim().split("\n").pop()!);
    expect(generic.device).toMatch(/generic/);
    expect(generic.digest).toBe(digests[0]);
  });

  it("refuses a table whose addresses fall outside the memory, and bad sizes", async () => {
    const backend = await cpuNativeBackendPlugin.create({ threads: 1 });
    try {
      const k = (backend as unknown as { wasm: { allocArray(c: Int32ArrayConstructor, n: number): Int32Array; addressOf(a: Int32Array): number; attendItems(t: number, n: number, hd: number, s: number, keys: number): boolean } }).wasm;
      const table = k.allocArray(Int32Array, 6)!;
      table.set([0, 0, 0, 0, 0, 1 << 30]); // len past the end of memory
      expect(() => k.attendItems(k.addressOf(table), 1, 64, 0.125, 1 << 30)).toThrow(/outside the kernels' memory/);
      expect(() => k.attendItems(k.addressOf(table) + (1 << 30), 1, 64, 0.125, 1)).toThrow(RangeError);
    } finally {
      backend.dispose();
    }
  });
});
