import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dequantize, f16ToF32, f32ArrayToF16, f32ToF16 } from "../../src/loader/gguf/dequantize.ts";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { GGMLType, type HostTensor } from "../../src/loader/types.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { expectFileError } from "./expect-file-error.ts";

const gguf = (name: string) => {
  const file = modelPath("stories260K", name);
  return parseGGUF(file, new Uint8Array(readFileSync(file)));
};

function tensor(type: GGMLType, dims: number[], data: Uint8Array, name = "t"): HostTensor {
  return { name, type, dims, numel: dims.reduce((a, b) => a * b, 1), data };
}

describe("f16 <-> f32", () => {
  it("decodes edge cases exactly", () => {
    expect(Object.is(f16ToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0x3c01)).toBe(1 + 2 ** -10);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x3555)).toBe(0x155 * 2 ** -10 * 0.25 + 0.25);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0xfc01)).toBeNaN();
  });

  it("round-trips every non-NaN half exactly", () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = f16ToF32(h);
      if (Number.isNaN(f)) {
        expect(Number.isNaN(f16ToF32(f32ToF16(f)))).toBe(true);
        continue;
      }
      if (f32ToF16(f) !== h) throw new Error(`half 0x${h.toString(16)} -> ${f} -> 0x${f32ToF16(f).toString(16)}`);
    }
  });

  it("rounds to nearest, ties to even", () => {
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // rounds up to inf
    expect(f32ToF16(1e10)).toBe(0x7c00);
    expect(f32ToF16(-1e10)).toBe(0xfc00);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie -> 0
    expect(f32ToF16(2 ** -25 * 1.001)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 -> 2
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400); // subnormal rounding carries into the exponent
    expect(f32ToF16(1e-10)).toBe(0x0000);
    expect(f32ToF16(-1e-10)).toBe(0x8000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
  });

  it("picks the nearest half for random floats (property)", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const xs = new Float32Array(20000);
    for (let i = 0; i < xs.length; i++) xs[i] = (rand() - 0.5) * 2 ** Math.floor(rand() * 44 - 28);
    const hs = f32ArrayToF16(xs);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const h = hs[i];
      expect(h).toBe(f32ToF16(x));
      const err = Math.abs(f16ToF32(h) - x);
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) >= 0x7c00 || n < 0 || (n & 0x8000) !== (h & 0x8000)) continue;
        expect(err).toBeLessThanOrEqual(Math.abs(f16ToF32(n) - x));
      }
    }
  });
});

describe("dequantize", () => {
  it("F32: a view when aligned, a copy when not", () => {
    const vals = new Float32Array([1.5, -2, 3.25]);
    const buf = new Uint8Array(16);
    buf.set(new Uint8Array(vals.buffer), 4);
    const aligned = dequantize(tensor(GGMLType.F32, [3], buf.subarray(4, 16)));
    expect([...aligned]).toEqual([...vals]);
    expect(aligned.buffer).toBe(buf.buffer);
    const odd = new Uint8Array(13);
    odd.set(new Uint8Array(vals.buffer), 1);
    const copied = dequantize(tensor(GGMLType.F32, [3], odd.subarray(1, 13)));
    expect([...copied]).toEqual([...vals]);
    expect(copied.buffer).not.toBe(odd.buffer);
  });

  it("F16 (aligned and unaligned) and BF16", () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]);
    const odd = new Uint8Array(9);
    odd.set(new Uint8Array(halves.buffer), 1);
    for (const data of [new Uint8Array(halves.buffer), odd.subarray(1)]) {
      expect([...dequantize(tensor(GGMLType.F16, [4], data))]).toEqual([1, -2, 2 ** -24, Infinity]);
    }
    const bf = new Uint16Array([0x3f80, 0xc040, 0x0000, 0x7f80]); // 1, -3, 0, inf
    expect([...dequantize(tensor(GGMLType.BF16, [2, 2], new Uint8Array(bf.buffer)))]).toEqual([1, -3, 0, Infinity]);
  });

  it("Q8_0: value = d * q per 32-element block", () => {
    const data = new Uint8Array(68);
    const dv = new DataView(data.buffer);
    dv.setUint16(0, f32ToF16(0.5), true);
    dv.setUint16(34, f32ToF16(-0.25), true);
    for (let j = 0; j < 32; j++) {
      dv.setInt8(2 + j, j - 16);
      dv.setInt8(36 + j, j === 0 ? -128 : 127);
    }
    const out = dequantize(tensor(GGMLType.Q8_0, [64], data));
    for (let j = 0; j < 32; j++) expect(out[j]).toBe(0.5 * (j - 16));
    expect(out[32]).toBe(32);
    expect(out[33]).toBe(-31.75);
  });

  it("Q8_0 file matches the F32 file closely", () => {
    const f32 = gguf("stories260K-f32.gguf");
    const q8 = gguf("stories260K-q8_0.gguf");
    let checked = 0;
    for (const t of q8.tensors.values()) {
      const ref = dequantize(f32.tensors.get(t.name)!);
      const got = dequantize(t);
      expect(got.length).toBe(ref.length);
      if (t.type !== GGMLType.Q8_0) {
        expect([...got]).toEqual([...ref]);
        continue;
      }
      checked++;
      for (let b = 0; b < ref.length; b += 32) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(ref[b + j]));
        // ggml: d = amax/127, q = round(x/d), d stored as f16 (relative error <= 2^-11), so
        // |x - d16*q| <= d/2 + 127 * d * 2^-11
        const d = amax / 127;
        const tol = d * (0.5 + 127 * 2 ** -11) + 1e-7;
        for (let j = 0; j < 32; j++) {
          if (Math.abs(got[b + j] - ref[b + j]) > tol) {
            throw new Error(`${t.name}[${b + j}]: ${got[b + j]} vs ${ref[b + j]} (tol ${tol})`);
          }
        }
      }
    }
    expect(checked).toBe(32);
  });

  it("F16 file equals the F32 file rounded to half", () => {
    const f32 = gguf("stories260K-f32.gguf");
    const f16 = gguf("stories260K-f16.gguf");
    for (const t of f16.tensors.values()) {
      const ref = dequantize(f32.tensors.get(t.name)!);
      const got = dequantize(t);
      const want = t.type === GGMLType.F16 ? ref.map((x) => f16ToF32(f32ToF16(x))) : ref;
      expect(got).toEqual(want);
    }
  });

  it("rejects unsupported types, naming the tensor, the type and the supported ones", () => {
    const t = tensor(GGMLType.Q5_K, [256], new Uint8Array(176), "blk.0.ffn_up.weight");
    expectFileError(() => dequantize(t, "m.gguf"), "m.gguf", "'blk.0.ffn_up.weight'", "Q5_K", "supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K");
  });

  it("rejects data whose size does not match type and dims", () => {
    const t = tensor(GGMLType.F16, [4], new Uint8Array(6), "w");
    expectFileError(() => dequantize(t, "m.gguf"), "m.gguf", "'w' has 6 bytes", "needs 8");
  });
});
