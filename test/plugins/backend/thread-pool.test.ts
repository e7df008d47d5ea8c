import { describe, expect, it } from "vitest";
import { chunkColumns, chunkPlan, WasmThreadPool } from "../../../plugins/backend/cpu/thread-pool.ts";
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

describe("chunkPlan", () => {
  it("covers every column once, big chunks for about the first three quarters, then chunks a sixteenth of that size", () => {
    for (const m of [1, 3, 8, 16, 17, 64, 192, 576, 577, 1536, 2048, 49152]) {
      for (const threads of [1, 2, 3, 16]) {
        const { chunk, big, small, chunks } = chunkPlan(m, threads), tag = `m=${m} T=${threads}`;
        expect(chunk).toBe(chunkColumns(m, threads));
        expect(small % 8, tag).toBe(0);
        expect(small).toBeGreaterThanOrEqual(8);
        expect(big * chunk, tag).toBeLessThanOrEqual((3 * m) / 4);
        let next = 0;
        for (let c = 0; c < chunks; c++) {
          const j0 = c < big ? c * chunk : big * chunk + (c - big) * small, j1 = Math.min(m, j0 + (c < big ? chunk : small));
          expect(j0, `${tag} chunk ${c}`).toBe(next);
          expect(j1, `${tag} chunk ${c}`).toBeGreaterThan(j0);
          next = j1;
        }
        expect(next, tag).toBe(m);
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

  it("its workers start and run chunks (a pool that silently ran on the caller alone would fail here)", async () => {
    const K = createWasmKernels(2)!;
    try {
      const r = new Prng(5), n = 8, k = 512, m = 2048;
      const w = K.placeF32(rand(r, m * k))!, x = rand(r, n * k), out = new Float32Array(n * m);
      K.matmulF32(out, x, w, n, k, m);
      for (let t = 0; t < 100 && K.poolStatus()!.readyWorkers < 1 && K.poolStatus()!.failure === null; t++) await new Promise((ok) => setTimeout(ok, 50));
      expect(K.poolStatus()!.failure).toBeNull();
      expect(K.poolStatus()!.readyWorkers).toBe(1);
      for (let i = 0; i < 200 && K.poolStatus()!.workerChunks === 0; i++) K.matmulF32(out, x, w, n, k, m);
      expect(K.poolStatus()!.workerChunks).toBeGreaterThan(0);
      // Every call of m = 2048 columns on 2 threads posts chunkPlan(2048, 2).chunks chunks.
      const { workerChunks, totalChunks } = K.poolStatus()!, per = chunkPlan(2048, 2).chunks;
      expect(per).toBe(38);
      expect(totalChunks % per).toBe(0);
      expect(workerChunks).toBeLessThanOrEqual(totalChunks);
    } finally {
      K.dispose();
    }
  });

  it("placing large weights starts the workers before any product runs; small ones do not", async () => {
    const K = createWasmKernels(2)!;
    try {
      K.placeF32(new Float32Array(1024));
      expect(K.poolStatus()).toBeNull();
      K.placeF32(new Float32Array(512 * 512));
      for (let t = 0; t < 100 && K.poolStatus()!.readyWorkers < 1 && K.poolStatus()!.failure === null; t++) await new Promise((ok) => setTimeout(ok, 50));
      expect(K.poolStatus()).toEqual({ readyWorkers: 1, workerChunks: 0, totalChunks: 0, failure: null });
    } finally {
      K.dispose();
    }
  });

  it("a worker that fails to start makes the next run() throw, naming the error", async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    // A module importing a function the worker does not provide: instantiating it throws a LinkError.
    const needsImport = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 11, 1, 3, 101, 110, 118, 3, 102, 111, 111, 0, 0]));
    const pool = new WasmThreadPool(needsImport, memory, [], 2);
    try {
      for (let t = 0; t < 100 && pool.status().failure === null; t++) await new Promise((ok) => setTimeout(ok, 50));
      expect(pool.status().failure).toMatch(/worker thread 1 failed: .*foo/);
      expect(() => pool.run(0, () => {}, 0, 0, 0, 1, 1, 64)).toThrow(/cpu backend: worker thread 1 failed.*--threads 1/);
    } finally {
      pool.dispose();
    }
  });

  it("a worker whose kernel throws makes run() throw instead of hanging or losing the chunk", async () => {
    const K = createWasmKernels(1)!;
    const memory = (K as unknown as { memory: WebAssembly.Memory }).memory;
    const module = (K as unknown as { module: WebAssembly.Module }).module;
    // matmulF32 reading far past the end of memory traps in whichever thread runs a chunk.
    const pool = new WasmThreadPool(module, memory, ["matmulF32"], 2);
    try {
      for (let t = 0; t < 100 && pool.status().readyWorkers < 1; t++) await new Promise((ok) => setTimeout(ok, 50));
      let threw: unknown = null;
      try {
        // The caller's own chunks take a millisecond each, so the worker claims some.
        const busy = () => { const t = performance.now(); while (performance.now() - t < 1); };
        for (let i = 0; i < 50; i++) pool.run(0, busy, 0, 0x7ff00000, 0x7ff00000, 64, 64, 4096);
      } catch (e) {
        threw = e;
      }
      expect(String(threw)).toMatch(/cpu backend: .*worker thread.*(threw|failed)/);
    } finally {
      pool.dispose();
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
