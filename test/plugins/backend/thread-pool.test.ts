import { describe, expect, it } from "vitest";
import { chunkColumns } from "../../../plugins/backend/cpu/thread-pool.ts";
import { createWasmKernels, wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { CpuBackend, cpuBackendPlugin, defaultThreads } from "../../../plugins/backend/cpu/index.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const rand = (r: Prng, n: number) => Float32Array.from({ length: n }, () => r.nextFloat() * 2 - 1);

describe("chunkColumns", () => {
  it("gives chunks that are multiples of 8, at least 16 wide, about 4 per thread", () => {
    for (const m of [1, 3, 64, 577, 1536, 49152]) {
      for (const threads of [1, 2, 3, 16]) {
        const c = chunkColumns(m, threads);
        expect(c % 8, `m=${m} T=${threads}`).toBe(0);
        expect(c).toBeGreaterThanOrEqual(16);
        if (m >= 64 * threads) expect(Math.ceil(m / c)).toBeGreaterThanOrEqual(3 * threads);
      }
    }
  });
});

describe.skipIf(!wasmSimdAvailable())("the worker pool over shared wasm memory", () => {
  // Large enough to be split (n*k*m >= 2^18, m >= 8 per thread); m and k not multiples of 4.
  const SHAPES = [[1, 515, 1031], [2, 576, 1536], [7, 333, 2049], [32, 130, 517]] as const;

  it("f32 and q8_0 products on 2 and 3 threads equal one thread's bit for bit", () => {
    const r = new Prng(7);
    const one = createWasmKernels(1)!;
    for (const threads of [2, 3]) {
      const many = createWasmKernels(threads)!;
      try {
        for (const [n, k, m] of SHAPES) {
          const w = rand(r, m * k), x = rand(r, n * k);
          const a = new Float32Array(n * m), b = new Float32Array(n * m);
          one.matmulF32(a, x, one.placeF32(w)!, n, k, m);
          many.matmulF32(b, x, many.placeF32(w)!, n, k, m);
          expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer)), `f32 ${n}x${k}x${m} on ${threads} threads`).toBe(true);
          const k32 = k - (k % 32) || 32;
          const q = new Uint8Array((m * k32) / 32 * 34);
          for (let i = 0; i < q.length; i++) q[i] = i % 34 === 1 ? 0x1c : Math.floor(r.nextFloat() * 256);
          const xq = rand(r, n * k32);
          one.matmulQ8_0(a, xq, one.placeGguf("matmulQ8_0", q, k32, m)!, n, k32, m);
          many.matmulQ8_0(b, xq, many.placeGguf("matmulQ8_0", q, k32, m)!, n, k32, m);
          expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer)), `q8_0 ${n}x${k32}x${m} on ${threads} threads`).toBe(true);
        }
      } finally {
        many.dispose();
      }
    }
  });

  it("thousands of back-to-back calls of varying sizes stay exact (no claim crosses calls)", () => {
    const r = new Prng(11);
    const one = createWasmKernels(1)!, many = createWasmKernels(2)!;
    try {
      const k = 256, ms = [1024, 2048, 1100, 4096];
      const ws = ms.map((m) => rand(r, m * k));
      const w1 = ws.map((w) => one.placeF32(w)!), w2 = ws.map((w) => many.placeF32(w)!);
      const x = rand(r, k);
      for (let it = 0; it < 2000; it++) {
        const i = it % ms.length, m = ms[i]!;
        const a = new Float32Array(m), b = new Float32Array(m);
        one.matmulF32(a, x, w1[i]!, 1, k, m);
        many.matmulF32(b, x, w2[i]!, 1, k, m);
        if (!Buffer.from(b.buffer).equals(Buffer.from(a.buffer))) throw new Error(`call ${it} (m=${m}) differs`);
      }
    } finally {
      many.dispose();
    }
  });

  it("keeps working on one thread after dispose()", () => {
    const K = createWasmKernels(2)!;
    const r = new Prng(3), n = 4, k = 256, m = 1024;
    const w = K.placeF32(rand(r, m * k))!, x = rand(r, n * k), a = new Float32Array(n * m), b = new Float32Array(n * m);
    K.matmulF32(a, x, w, n, k, m);
    K.dispose();
    expect(K.threads).toBe(1);
    K.matmulF32(b, x, w, n, k, m);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it("the cpu plugin defaults to all available cores; bad thread counts are refused", async () => {
    const b = await cpuBackendPlugin.create({});
    expect(b.device).toContain(`${defaultThreads()} thread`);
    b.dispose();
    expect(() => new CpuBackend({ threads: 0 })).toThrow(/threads must be a positive integer/);
    expect(() => new CpuBackend({ threads: 1.5 })).toThrow(/threads must be a positive integer/);
  });
});
