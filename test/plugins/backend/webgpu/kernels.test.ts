/**
 * webgpu kernels against the cpu backend (the reference) on sizes that are not multiples of the
 * workgroup tiles: every BackendOps op, f32 matmul on both paths (matrix-vector for <= 8 rows,
 * tiled above), and the limits / bad-input errors. Tolerances: elementwise ops 1e-6 relative;
 * reductions (rmsNorm, matmul) 1e-5 of the output's largest magnitude (f32 sums in another order).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CpuBackend } from "../../../../plugins/backend/cpu/index.ts";
import type { WebGpuBackend } from "../../../../plugins/backend/webgpu/backend.ts";
import { buildRopeTables } from "../../../../src/model/rope-tables.ts";
import type { Backend, DeviceTensor } from "../../../../src/plugin/types.ts";
import { maxAbs, maxAbsDiff, openWebGpu, seeded, webgpuSkipReason } from "./helpers.ts";

const skip = await webgpuSkipReason("kernels.test.ts");

describe.skipIf(skip !== null)("webgpu kernels against the cpu backend", () => {
  let gpu: WebGpuBackend;
  const cpu = new CpuBackend();
  beforeAll(async () => { gpu = await openWebGpu(); });
  afterAll(() => gpu?.dispose());

  /** Runs `op` on both backends over the same inputs; returns [gpu, cpu] contents of `outIndex`. */
  async function both(inputs: Array<{ data: Float32Array | Int32Array; shape: number[] }>, op: (b: Backend, t: DeviceTensor[]) => void, outIndex = 0): Promise<[Float32Array, Float32Array]> {
    const res: Float32Array[] = [];
    for (const b of [gpu as Backend, cpu]) {
      const ts = inputs.map((i) => b.upload(i.data.slice(), i.shape));
      op(b, ts);
      res.push((await b.read(ts[outIndex]!)) as Float32Array);
    }
    return [res[0]!, res[1]!];
  }

  it("matmul f32: matrix-vector (n <= 8, and 8-row chunks up to 32) and tiled (n > 32) paths, k and m not multiples of 4 or 64, within 1e-5 x max|out|", async () => {
    for (const [n, k, m] of [[1, 64, 30], [3, 67, 45], [8, 130, 7], [9, 33, 65], [20, 67, 33], [33, 64, 65], [70, 64, 129], [130, 19, 3]] as const) {
      const [g, c] = await both(
        [{ data: new Float32Array(n * m), shape: [n, m] }, { data: seeded(n * k, n + k), shape: [n, k] }, { data: seeded(m * k, m + 7), shape: [m, k] }],
        (b, [o, x, w]) => b.ops.matmul(o!, x!, w!, n),
      );
      expect(maxAbsDiff(g, c), `n=${n} k=${k} m=${m}`).toBeLessThanOrEqual(1e-5 * maxAbs(c));
    }
  });

  it("rmsNorm, siluMul, addInPlace, gatherRows on odd row lengths", async () => {
    const n = 5, d = 70;
    let [g, c] = await both([{ data: new Float32Array(n * d), shape: [n, d] }, { data: seeded(n * d, 1, 3), shape: [n, d] }, { data: seeded(d, 2), shape: [d] }], (b, [o, x, w]) => b.ops.rmsNorm(o!, x!, w!, 1e-5, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-5 * maxAbs(c));
    [g, c] = await both([{ data: new Float32Array(n * d), shape: [n, d] }, { data: seeded(n * d, 3, 8), shape: [n, d] }, { data: seeded(n * d, 4), shape: [n, d] }], (b, [o, x, u]) => b.ops.siluMul(o!, x!, u!, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-6 * maxAbs(c));
    // siluMul in place (out aliases gate), as the Llama forward calls it.
    [g, c] = await both([{ data: seeded(n * d, 3, 8), shape: [n, d] }, { data: seeded(n * d, 4), shape: [n, d] }], (b, [x, u]) => b.ops.siluMul(x!, x!, u!, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-6 * maxAbs(c));
    [g, c] = await both([{ data: seeded(n * d, 5), shape: [n, d] }, { data: seeded(n * d, 6), shape: [n, d] }], (b, [o, x]) => b.ops.addInPlace(o!, x!, n - 1));
    expect(maxAbsDiff(g, c)).toBe(0);
    [g, c] = await both([{ data: new Float32Array(3 * d), shape: [3, d] }, { data: seeded(n * d, 7), shape: [n, d] }, { data: Int32Array.from([4, 0, 2]), shape: [3] }], (b, [o, x, r]) => b.ops.gatherRows(o!, x!, r!, 3));
    expect(maxAbsDiff(g, c)).toBe(0);
  });

  it("rope, normal and neox layouts, partial rotation, within 1e-6", async () => {
    for (const layout of ["normal", "neox"] as const) {
      const heads = 3, headDim = 10, n = 4, rotDim = 8;
      const res: Float32Array[] = [];
      for (const b of [gpu as Backend, cpu]) {
        const tables = buildRopeTables(b, rotDim, 10000, 64, layout);
        const x = b.upload(seeded(n * heads * headDim, 9), [n, heads * headDim]);
        b.ops.rope(x, b.upload(Int32Array.from([0, 5, 17, 63]), [n]), tables, heads, headDim, n);
        res.push((await b.read(x)) as Float32Array);
      }
      expect(maxAbsDiff(res[0]!, res[1]!), layout).toBeLessThanOrEqual(1e-6);
    }
  });

  it("the optional ops (addBias, scale, geluMul, softCap) match the cpu backend", async () => {
    const n = 3, d = 37;
    const ops = (b: Backend) => b.ops as Required<Backend["ops"]>;
    let [g, c] = await both([{ data: seeded(n * d, 1), shape: [n, d] }, { data: seeded(d, 2), shape: [d] }], (b, [o, bias]) => ops(b).addBias(o!, bias!, n));
    expect(maxAbsDiff(g, c)).toBe(0);
    [g, c] = await both([{ data: seeded(n * d, 3), shape: [n, d] }], (b, [x]) => ops(b).scale(x!, 1.7, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-6);
    [g, c] = await both([{ data: new Float32Array(n * d), shape: [n, d] }, { data: seeded(n * d, 4, 6), shape: [n, d] }, { data: seeded(n * d, 5), shape: [n, d] }], (b, [o, x, u]) => ops(b).geluMul(o!, x!, u!, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-5 * maxAbs(c));
    [g, c] = await both([{ data: seeded(n * d, 6, 200), shape: [n, d] }], (b, [x]) => ops(b).softCap(x!, 30, n));
    expect(maxAbsDiff(g, c)).toBeLessThanOrEqual(1e-4);
  });

  it("write/read round-trip, empty() is zeroed even from a reused buffer, and a step is one submit", async () => {
    const t = gpu.upload(seeded(300, 1), [300]);
    gpu.free(t);
    const z = gpu.empty([300]);
    expect(Array.from((await gpu.read(z)) as Float32Array).every((v) => v === 0)).toBe(true);
    gpu.write(z, Float32Array.from([1, 2, 3]));
    const before = gpu.submits;
    gpu.ops.addInPlace(z, z, 1);
    gpu.ops.addInPlace(z, gpu.upload(seeded(300, 2), [300]), 1);
    expect(Array.from(await gpu.read(z, 3))).toEqual(Array.from((await cpuAdd()) as Float32Array));
    expect(gpu.submits - before).toBeLessThanOrEqual(2);
    async function cpuAdd() {
      const c = cpu.upload(Float32Array.from([2, 4, 6]), [3]);
      cpu.ops.addInPlace(c, cpu.upload(seeded(300, 2).slice(0, 3), [3]), 1);
      return cpu.read(c);
    }
  });

  it("bad input: sizes over the adapter's limits (with the sizes named)", async () => {
    const tooBig = Math.floor(gpu.limits.maxStorageBufferBindingSize / 4) + 1024;
    expect(() => gpu.empty([tooBig])).toThrow(/needs \d+ bytes .* over the adapter's max\w+ of \d+ bytes/);
    expect(() => gpu.upload(new Float32Array(3), [4])).toThrow(/3 elements for shape \[4\]/);
  });

  it("a lost device becomes one clear error at the next op or read", async () => {
    const other = await openWebGpu();
    const t = other.upload(seeded(8, 1), [8]);
    other.gpu.destroy();
    await new Promise((r) => setTimeout(r, 50));
    let message = "";
    try {
      other.ops.addInPlace(t, t, 1);
      await other.read(t);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^webgpu: (the GPU device was lost|reading a result back failed)/);
  });
});
