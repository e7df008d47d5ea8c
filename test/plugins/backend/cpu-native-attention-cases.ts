/** Shared by cpu-native-attention.test.ts and its child process (the portable C path): run paged attention on a backend. */
import { createHash } from "node:crypto";
import { pagedAttentionPlugin } from "../../../plugins/attention/paged/index.ts";
import type { Backend } from "../../../src/plugin/types.ts";
import { buildCase, shapeOf, type AttnCase } from "../attention/cases.ts";
import { randomSpec } from "../attention/random-spec.ts";

/** Setup then step through paged attention on `backend` (layer 1 of 2); the step's output. */
export async function runPagedOn(backend: Backend, c: AttnCase): Promise<Float32Array> {
  const shape = shapeOf(c.spec);
  const impl = pagedAttentionPlugin.create(shape, backend);
  const cache = impl.allocateKvCache(c.numBlocks, c.spec.blockSize);
  const qDim = shape.numHeads * shape.headDim, kvDim = shape.numKvHeads * shape.headDim;
  let out = new Float32Array(0);
  for (const [batch, [q, k, v]] of [[c.setup, c.setupQkv], [c.step, c.stepQkv]] as const) {
    if (batch.numTokens === 0) continue;
    const ot = backend.empty([batch.numTokens, qDim]);
    impl.forward(1, backend.upload(q, [batch.numTokens, qDim]), backend.upload(k, [batch.numTokens, kvDim]), backend.upload(v, [batch.numTokens, kvDim]), cache, impl.plan(batch), ot);
    out = Float32Array.from((await backend.read(ot)) as Float32Array);
  }
  return out;
}

/** sha256 over the outputs of eight random steps with head sizes that are multiples of 8. */
export async function digestAttention(backend: Backend): Promise<string> {
  const h = createHash("sha256");
  for (let seed = 4000, done = 0; done < 8; seed++) {
    const spec = randomSpec(seed, { window: true });
    if (spec.headDim % 8 !== 0) continue;
    const out = await runPagedOn(backend, buildCase(spec, seed));
    h.update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    done++;
  }
  return h.digest("hex");
}
