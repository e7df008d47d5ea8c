/**
 * The cpu backend's ops for merged projections (splitColumns, siluAndMul, geluAndMul): each equals
 * the op it replaces on separate tensors, bit for bit, in WebAssembly (on 1 and 2 threads, the
 * split over the pool included) and in JavaScript; operands too small for the rows asked for are
 * refused before anything is written.
 */
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../plugins/backend/cpu/index.ts";
import { wasmSimdAvailable } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import type { CpuTensor } from "../../../plugins/backend/cpu/tensor.ts";
import type { DeviceTensor } from "../../../src/plugin/types.ts";
import { Prng } from "../../../src/sampling/prng.ts";

const data = (t: DeviceTensor) => (t as CpuTensor).data as Float32Array;
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function randomRows(r: Prng, rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, () => (r.nextFloat() * 2 - 1) * (r.nextFloat() < 0.05 ? 60 : 4));
}

const backends: Array<[string, () => CpuBackend]> = [
  ["JavaScript", () => new CpuBackend({ wasm: false })],
  ...(wasmSimdAvailable() ? [["wasm, 1 thread", () => new CpuBackend()], ["wasm, 2 threads", () => new CpuBackend({ threads: 2 })]] as Array<[string, () => CpuBackend]> : []),
];

describe.each(backends)("merged-projection ops on the cpu backend (%s)", (_, make) => {
  // Row counts below and above the pool's thresholds; widths not multiples of 4.
  const shapes = [[1, 7], [3, 64], [32, 172], [40, 1536]] as const;

  it("siluAndMul and geluAndMul equal siluMul and geluMul of the separate halves", () => {
    const r = new Prng(11), b = make();
    try {
      for (const [rows, d] of shapes) {
        const gu = randomRows(r, rows, 2 * d);
        const gate = new Float32Array(rows * d), up = new Float32Array(rows * d);
        for (let i = 0; i < rows; i++) {
          gate.set(gu.subarray(2 * i * d, (2 * i + 1) * d), i * d);
          up.set(gu.subarray((2 * i + 1) * d, (2 * i + 2) * d), i * d);
        }
        const x = b.upload(gu, [rows, 2 * d]), g = b.upload(gate, [rows, d]), u = b.upload(up, [rows, d]);
        for (const act of ["silu", "gelu"] as const) {
          const merged = b.empty([rows, d]), separate = b.empty([rows, d]);
          if (act === "silu") { b.ops.siluAndMul!(merged, x, rows); b.ops.siluMul(separate, g, u, rows); }
          else { b.ops.geluAndMul!(merged, x, rows); b.ops.geluMul!(separate, g, u, rows); }
          expect(same(data(merged), data(separate)), `${act} ${rows}x${d}`).toBe(true);
        }
      }
    } finally {
      b.dispose();
    }
  });

  it("splitColumns copies each part's columns, and only the rows asked for", () => {
    const r = new Prng(12), b = make();
    try {
      for (const [rows, d] of shapes) {
        const parts = [d, 3, d + 1];
        const cols = parts.reduce((a, c) => a + c, 0);
        const xv = randomRows(r, rows, cols);
        const outs = parts.map((c) => b.empty([rows + 1, c]));
        for (const o of outs) data(o).fill(-7);
        b.ops.splitColumns!(outs, b.upload(xv, [rows, cols]), rows);
        let from = 0;
        parts.forEach((c, p) => {
          const o = data(outs[p]!);
          for (let i = 0; i < rows; i++) {
            expect(same(o.subarray(i * c, (i + 1) * c), xv.subarray(i * cols + from, i * cols + from + c)), `part ${p} row ${i}`).toBe(true);
          }
          expect(Array.from(o.subarray(rows * c)).every((v) => v === -7), `part ${p}: the row past numRows is untouched`).toBe(true);
          from += c;
        });
      }
    } finally {
      b.dispose();
    }
  });

  it("refuse operands smaller than the rows asked for, and parts that do not add up to the row", () => {
    const b = make();
    try {
      const x = b.upload(new Float32Array(4 * 10), [4, 10]);
      expect(() => b.ops.siluAndMul!(b.empty([4, 5]), x, 5)).toThrow(/siluAndMul: 5 rows of 5 from rows of 10/);
      expect(() => b.ops.geluAndMul!(b.empty([2, 5]), x, 4)).toThrow(/geluAndMul: 4 rows of 5/);
      expect(() => b.ops.splitColumns!([b.empty([4, 6]), b.empty([4, 4])], x, 5)).toThrow(/splitColumns: 5 rows/);
      expect(() => b.ops.splitColumns!([b.empty([4, 6]), b.empty([4, 3])], x, 4)).toThrow(/parts of 9 columns in all from rows of 10/);
    } finally {
      b.dispose();
    }
  });
});
