/**
 * The paged plugin's WebAssembly inner loop (wasm/ops.ts) against its JavaScript loops:
 * identical bits on random conformance cases (GQA, head dims 32..128, block sizes, ragged
 * prefill/decode mixes, sliding windows), so the plugin stays the exact oracle either way.
 */
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { buildCase } from "./cases.ts";
import { runPagedCase as run } from "./run-paged-case.ts";
import { randomSpec } from "./random-spec.ts";

describe.skipIf(!wasmSimdAvailable())("paged attention: WebAssembly inner loop", () => {
  it("runs in wasm when the backend keeps tensors in wasm memory", () => {
    const b = new CpuBackend();
    expect(b.wasm?.ops()).toBeTruthy();
    const t = b.empty([4, 8]);
    expect(b.wasm!.addressOf((t as unknown as { data: Float32Array }).data)).toBeGreaterThan(0);
  });

  it("f32 SIMD path: within 1e-5 of the JavaScript f64 loops (in units of max|V|), same bits on 1 and 2 threads; seeds 1..60", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const spec = randomSpec(seed, { window: true });
      const c = buildCase(spec, seed);
      const viaWasm = await run(new CpuBackend(), c);
      const viaThreads = await run(new CpuBackend({ threads: 2 }), c);
      const viaJs = await run(new CpuBackend({ wasm: false }), c);
      let vmax = 0, err = 0;
      for (const r of c.dense) for (const x of r.v) vmax = Math.max(vmax, Math.abs(x));
      for (let i = 0; i < viaJs.length; i++) err = Math.max(err, Math.abs(viaWasm[i]! - viaJs[i]!));
      expect(err / vmax, `seed ${seed}: ${JSON.stringify(spec)}`).toBeLessThanOrEqual(1e-5);
      expect(Buffer.from(viaThreads.buffer).equals(Buffer.from(viaWasm.buffer)), `seed ${seed} threads`).toBe(true);
    }
  });

  it("exact f64 port (head size not a multiple of 4): the JavaScript loops' bits; seeds 1..30", async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const spec = { ...randomSpec(seed, { window: true }), headDim: [6, 10, 18][seed % 3]! };
      const c = buildCase(spec, seed);
      const viaWasm = await run(new CpuBackend(), c);
      const viaJs = await run(new CpuBackend({ wasm: false }), c);
      expect(Buffer.from(viaWasm.buffer).equals(Buffer.from(viaJs.buffer)), `seed ${seed}: ${JSON.stringify(spec)}`).toBe(true);
    }
  });
});
