/**
 * Paged attention on the cpu backend's WebAssembly kernel (ops.wasm attendItems): a query whose
 * scores fit the thread's scratch takes the two-pass softmax, a longer one the online softmax over
 * blocks of four keys. Both against the fp64 dense reference on the attention suite's random steps
 * (1e-5 of max|V|), the online path forced by shrinking the scratch.
 */
import { describe, expect, it } from "vitest";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable, type WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { runPagedOn } from "./cpu-native-attention-cases.ts";
import { buildCase, maxError, shapeOf } from "../attention/cases.ts";
import { denseAttention } from "../attention/dense-reference.ts";
import { randomSpec } from "../attention/random-spec.ts";

const SEEDS = Array.from({ length: 16 }, (_, i) => 5000 + i);
const TOL = 1e-5;

describe.skipIf(!wasmSimdAvailable())("cpu (WebAssembly) attention", () => {
  it(`two-pass and online softmax both within ${TOL} x max|V| of fp64 dense attention on ${SEEDS.length} random steps`, async () => {
    const backend = await cpuBackendPlugin.create({ threads: 1 });
    const wasm = (backend as unknown as { wasm: WasmKernels }).wasm;
    const ops = wasm.ops()!;
    const scratch = (wasm as unknown as { scratch: { at: number; bytes: number } }).scratch;
    const failures: string[] = [];
    let differ = 0;
    try {
      for (const seed of SEEDS) {
        const spec = randomSpec(seed, { window: true });
        const c = buildCase(spec, seed);
        const ref = denseAttention(c.dense, { ...shapeOf(spec), causal: true, slidingWindow: spec.slidingWindow ?? null, logitsSoftCap: null });
        ops.setScratch!(scratch.at, scratch.bytes);
        const twoPass = await runPagedOn(backend, c);
        ops.setScratch!(scratch.at, 16); // rows of more than 4 keys: online softmax
        const online = await runPagedOn(backend, c);
        for (const [name, got] of [["two-pass", twoPass], ["online", online]] as const) {
          const err = maxError(c, got, ref);
          if (!(err <= TOL)) failures.push(`seed ${seed} ${name}: error ${err.toExponential(2)} for ${JSON.stringify(spec)}`);
        }
        if (twoPass.some((v, i) => v !== online[i])) differ++;
      }
    } finally {
      ops.setScratch!(scratch.at, scratch.bytes);
      backend.dispose();
    }
    expect(failures).toEqual([]);
    expect(differ, "the two paths ran (their roundings differ somewhere)").toBeGreaterThan(0);
  });
});
