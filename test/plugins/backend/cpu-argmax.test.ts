import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { createWasmKernels, wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { argmax } from "../../../src/sampling/sampler.ts";

/** Rows mixing the cases that decide an argmax: ties, NaN (first and elsewhere), ±Infinity, ±0. */
function rows(r: Prng, n: number, len: number): Float32Array {
  const x = new Float32Array(n * len);
  for (let row = 0; row < n; row++) {
    const kind = row % 8, o = row * len;
    for (let i = 0; i < len; i++) x[o + i] = Math.floor(r.nextFloat() * 7) - 3; // many ties
    if (kind === 1) x[o] = NaN;
    if (kind === 2) for (let i = 0; i < len; i += 3) x[o + i] = NaN;
    if (kind === 3) x.fill(-Infinity, o, o + len);
    if (kind === 4) { x.fill(-Infinity, o, o + len); if (len > 2) x[o + len - 1] = -5; }
    if (kind === 5) x[o + Math.floor(r.nextFloat() * len)] = Infinity;
    if (kind === 6) for (let i = 0; i < len; i++) x[o + i] = i % 2 ? -0 : 0;
    if (kind === 7) x.fill(NaN, o, o + len);
  }
  return x;
}

describe("cpu backend argmaxRows (greedy sampling without reading the logits back)", () => {
  it.skipIf(!wasmSimdAvailable())("wasm SIMD gives the sampler's argmax on every row: ties, NaN, infinities, signed zeros, odd lengths", () => {
    const r = new Prng(11), K = createWasmKernels()!;
    try {
      for (const len of [1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 513, 49152]) {
        const n = 16, x = K.allocArray(Float32Array, n * len)!, ids = K.allocArray(Int32Array, n)!;
        x.set(rows(r, n, len));
        expect(K.argmaxRows(ids, x, n, len)).toBe(true);
        for (let row = 0; row < n; row++) expect(ids[row], `len ${len} row ${row}`).toBe(argmax(x.subarray(row * len, (row + 1) * len)));
      }
      // Arrays outside wasm memory are refused (the caller falls back).
      expect(K.argmaxRows(new Int32Array(1), new Float32Array(4), 1, 4)).toBe(false);
    } finally {
      K.dispose();
    }
  });

  for (const wasm of [true, false]) {
    it(`the backend op ${wasm ? "(WebAssembly)" : "(plain JavaScript)"} writes the ids and refuses too many rows`, async () => {
      const be = new CpuBackend({ wasm, threads: 1 }), r = new Prng(12), n = 9, len = 101;
      try {
        const data = rows(r, n, len), x = be.upload(data, [n, len]), ids = be.empty([n], "i32");
        be.ops.argmaxRows!(ids, x, n);
        const got = (await be.read(ids)) as Int32Array;
        for (let row = 0; row < n; row++) expect(got[row]).toBe(argmax(data.subarray(row * len, (row + 1) * len)));
        expect(() => be.ops.argmaxRows!(be.empty([2], "i32"), x, 3)).toThrow(/argmaxRows: 3 rows of 101 into 2 ids/);
      } finally {
        be.dispose();
      }
    });
  }
});
