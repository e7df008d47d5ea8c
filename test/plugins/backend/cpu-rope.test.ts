import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { rope } from "../../../plugins/backend/cpu/kernels.ts";
import { createWasmKernels, wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const rand = (r: Prng, n: number, s = 1) => Float32Array.from({ length: n }, () => (r.nextFloat() * 2 - 1) * s);
const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!wasmSimdAvailable())("cpu backend RoPE in WebAssembly", () => {
  for (const layout of ["normal", "neox"] as const) {
    it(`${layout}: the bits of the JavaScript loop (full and partial rotation, odd head counts, any positions)`, () => {
      const r = new Prng(layout === "neox" ? 21 : 22), K = createWasmKernels()!;
      try {
        for (const [heads, headDim, rotDim, n] of [[1, 2, 2, 1], [3, 8, 8, 5], [9, 64, 64, 33], [4, 64, 32, 7], [5, 12, 6, 3]] as const) {
          const maxPos = 40, half = rotDim / 2;
          const cos = K.allocArray(Float32Array, maxPos * half)!, sin = K.allocArray(Float32Array, maxPos * half)!;
          const x = K.allocArray(Float32Array, n * heads * headDim)!, pos = K.allocArray(Int32Array, n)!;
          cos.set(rand(r, cos.length)); sin.set(rand(r, sin.length)); x.set(rand(r, x.length, 50));
          pos.set(Int32Array.from({ length: n }, () => Math.floor(r.nextFloat() * maxPos)));
          const want = x.slice();
          rope(want, pos, cos, sin, layout, rotDim, heads, headDim, n);
          expect(K.rope(x, pos, cos, sin, layout === "neox", rotDim, heads, headDim, n)).toBe(true);
          expect(sameBits(x, want), `${layout} heads ${heads} headDim ${headDim} rot ${rotDim}`).toBe(true);
        }
      } finally {
        K.dispose();
      }
    });
  }

  it("positions past the tables are refused (the backend then runs the JavaScript loop) rather than reading other memory", () => {
    const K = createWasmKernels()!;
    try {
      const cos = K.allocArray(Float32Array, 2)!, sin = K.allocArray(Float32Array, 2)!, x = K.allocArray(Float32Array, 2)!, pos = K.allocArray(Int32Array, 1)!;
      pos[0] = 5;
      expect(K.rope(x, pos, cos, sin, false, 2, 1, 2, 1)).toBe(false);
      // Arrays outside wasm memory are refused too.
      expect(K.rope(new Float32Array(2), pos, cos, sin, false, 2, 1, 2, 1)).toBe(false);
    } finally {
      K.dispose();
    }
  });

  it("the backend op gives the same bits on a batch large enough for wasm and on a decode row", async () => {
    const r = new Prng(23), be = new CpuBackend({ threads: 1 });
    try {
      for (const n of [33, 1]) {
        const heads = 9, headDim = 64, rotDim = 64, maxPos = 64, half = 32;
        const cosv = rand(r, maxPos * half), sinv = rand(r, maxPos * half), xv = rand(r, n * heads * headDim, 50);
        const p = Int32Array.from({ length: n }, (_, i) => (i * 7) % maxPos);
        const tables = { layout: "normal" as const, rotDim, cos: be.upload(cosv, [maxPos, half]), sin: be.upload(sinv, [maxPos, half]), maxPositions: maxPos };
        const x = be.upload(xv, [n, heads * headDim]), positions = be.empty([n], "i32");
        be.write(positions, p);
        be.ops.rope(x, positions, tables, heads, headDim, n);
        const want = xv.slice();
        rope(want, p, cosv, sinv, "normal", rotDim, heads, headDim, n);
        expect(sameBits((await be.read(x)) as Float32Array, want), `n ${n}`).toBe(true);
      }
    } finally {
      be.dispose();
    }
  });
});
