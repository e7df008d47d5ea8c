import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { rope } from "../../../plugins/backend/cpu/kernels.ts";
import { wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const rand = (r: Prng, n: number, s = 1) => Float32Array.from({ length: n }, () => (r.nextFloat() * 2 - 1) * s);

describe.skipIf(!wasmSimdAvailable())("cpu backend RoPE in WebAssembly", () => {
  for (const layout of ["normal", "neox"] as const) {
    it(`${layout}: the bits of the JavaScript loop (full and partial rotation, odd head counts, any positions)`, async () => {
      const r = new Prng(layout === "neox" ? 21 : 22);
      for (const [heads, headDim, rotDim, n] of [[1, 2, 2, 1], [3, 8, 8, 5], [9, 64, 64, 33], [4, 64, 32, 7], [5, 12, 6, 3]] as const) {
        const maxPos = 40, half = rotDim / 2, be = new CpuBackend({ threads: 1 });
        try {
          const cosv = rand(r, maxPos * half), sinv = rand(r, maxPos * half), xv = rand(r, n * heads * headDim, 50);
          const pos = Int32Array.from({ length: n }, () => Math.floor(r.nextFloat() * maxPos));
          const tables = { layout, rotDim, cos: be.upload(cosv, [maxPos, half]), sin: be.upload(sinv, [maxPos, half]), maxPositions: maxPos };
          const x = be.upload(xv, [n, heads * headDim]), positions = be.empty([n], "i32");
          be.write(positions, pos);
          be.ops.rope(x, positions, tables, heads, headDim, n);
          const want = xv.slice();
          rope(want, pos, cosv, sinv, layout, rotDim, heads, headDim, n);
          const got = (await be.read(x)) as Float32Array;
          expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer)), `${layout} heads ${heads} headDim ${headDim} rot ${rotDim}`).toBe(true);
          // It ran in wasm: the unrotated tail of each head is untouched, the rotated part moved.
          if (rotDim < headDim) expect(Array.from(got.subarray(rotDim, headDim))).toEqual(Array.from(xv.subarray(rotDim, headDim)));
        } finally {
          be.dispose();
        }
      }
    });
  }

  it("positions past the tables fall back to the JavaScript loop (NaN rows, as before) rather than reading other memory", async () => {
    const be = new CpuBackend({ threads: 1 });
    try {
      const tables = { layout: "normal" as const, rotDim: 2, cos: be.upload(new Float32Array([1, 1]), [2, 1]), sin: be.upload(new Float32Array([0, 0]), [2, 1]), maxPositions: 2 };
      const x = be.upload(new Float32Array([1, 2]), [1, 2]), positions = be.empty([1], "i32");
      be.write(positions, Int32Array.from([5]));
      be.ops.rope(x, positions, tables, 1, 2, 1);
      expect(Array.from((await be.read(x)) as Float32Array).every(Number.isNaN)).toBe(true);
    } finally {
      be.dispose();
    }
  });
});
