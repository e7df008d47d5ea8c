import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dequantize, f16ToF32, f32ArrayToF16 } from "../../src/loader/gguf/dequantize.ts";
import { f32ArrayToBF16, quantizeQ8_0 } from "../../src/loader/gguf/encode.ts";
import { GGUFValueType as T, parseGGUF } from "../../src/loader/gguf/parse.ts";
import { gguf, writeGGUFFile, type GGUFTensorSpec, type GGUFTypedValue } from "../../src/loader/gguf/writer.ts";
import { GGMLType, type MetadataValue } from "../../src/loader/types.ts";
import { tempDir } from "../helpers/tiny-gguf.ts";

const METADATA: [string, GGUFTypedValue, MetadataValue][] = [
  ["t.u8", gguf.u8(255), 255],
  ["t.i8", gguf.i8(-128), -128],
  ["t.u16", gguf.u16(65535), 65535],
  ["t.i16", gguf.i16(-32768), -32768],
  ["t.u32", gguf.u32(4294967295), 4294967295],
  ["t.i32", gguf.i32(-2147483648), -2147483648],
  ["t.u64", gguf.u64(2n ** 64n - 1n), 2n ** 64n - 1n],
  ["t.i64", gguf.i64(-42), -42],
  ["t.f32", gguf.f32(0.1), Math.fround(0.1)],
  ["t.f64", gguf.f64(Math.PI), Math.PI],
  ["t.bool", gguf.bool(true), true],
  ["t.str", gguf.str("héllo ▁world 🦙"), "héllo ▁world 🦙"],
  ["t.arr.str", gguf.array(T.STRING, ["<s>", "", "▁a"]), ["<s>", "", "▁a"]],
  ["t.arr.f32", gguf.array(T.FLOAT32, [0.5, -2.25]), [0.5, -2.25]],
  ["t.arr.i32", gguf.array(T.INT32, [-1, 0, 7]), [-1, 0, 7]],
  ["t.arr.bool", gguf.array(T.BOOL, [true, false]), [true, false]],
  ["t.arr.empty", gguf.array(T.UINT32, []), []],
  ["t.arr.nested", gguf.array(T.ARRAY, [gguf.items(T.UINT8, [1, 2]), gguf.items(T.ARRAY, [gguf.items(T.STRING, ["x"])])]), [[1, 2], [["x"]]]],
];

function values(n: number, seed = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * (1 + (i % 7)));
}

async function roundTrip(tensors: GGUFTensorSpec[], alignment?: number, metadata = METADATA.map(([k, v]) => [k, v] as [string, GGUFTypedValue])) {
  const path = join(tempDir("gguf-writer-"), "out.gguf");
  const res = await writeGGUFFile(path, { metadata, tensors, ...(alignment ? { alignment } : {}) });
  const bytes = new Uint8Array(readFileSync(path));
  expect(bytes.byteLength).toBe(res.bytes);
  return parseGGUF(path, bytes);
}

describe("GGUF file writer", () => {
  it("writes every metadata value type and reads back the same values", async () => {
    const g = await roundTrip([]);
    expect(g.version).toBe(3);
    for (const [k, , want] of METADATA) expect(g.metadata.get(k), k).toEqual(want);
    expect(g.metadata.size).toBe(METADATA.length);
  });

  it("writes F32, F16, BF16, Q8_0 and raw tensors; the bytes parse back identically", async () => {
    const x = values(64 * 3);
    const rows = (start: number, n: number) => values(64 * 3).subarray(start * 64, (start + n) * 64);
    const g = await roundTrip([
      { name: "a.f32", type: GGMLType.F32, dims: [64, 3], data: x },
      { name: "b.f16", type: GGMLType.F16, dims: [64, 3], data: rows },
      { name: "c.bf16", type: GGMLType.BF16, dims: [8, 8, 3], data: x },
      { name: "d.q8_0", type: GGMLType.Q8_0, dims: [64, 3], data: x },
      { name: "e.raw", type: GGMLType.I8, dims: [5], data: { raw: new Uint8Array([1, 2, 3, 4, 5]) } },
      { name: "f.vec", type: GGMLType.F32, dims: [7], data: values(7) },
    ]);
    const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    expect(g.tensors.get("a.f32")!.data).toEqual(bytesOf(x));
    expect(g.tensors.get("b.f16")!.data).toEqual(bytesOf(f32ArrayToF16(x)));
    expect(g.tensors.get("c.bf16")!.data).toEqual(bytesOf(f32ArrayToBF16(x)));
    expect(g.tensors.get("c.bf16")!.dims).toEqual([8, 8, 3]);
    expect(g.tensors.get("d.q8_0")!.data).toEqual(quantizeQ8_0(x));
    expect([...g.tensors.get("e.raw")!.data]).toEqual([1, 2, 3, 4, 5]);
    expect(dequantize(g.tensors.get("f.vec")!)).toEqual(values(7));
    for (const t of g.tensors.values()) expect((t.data.byteOffset - g.tensorDataOffset) % 32).toBe(0);
  });

  it("q8_0 dequantizes within half a quantization step of each block", async () => {
    const x = values(32 * 40, 3).map((v, i) => v * 10 ** ((i >> 5) % 5 - 2));
    const g = await roundTrip([{ name: "w", type: GGMLType.Q8_0, dims: [32 * 8, 5], data: x }]);
    const y = dequantize(g.tensors.get("w")!);
    for (let b = 0; b < 40; b++) {
      const block = x.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...block.map(Math.abs));
      const d = amax / 127;
      for (let j = 0; j < 32; j++) expect(Math.abs(y[b * 32 + j]! - block[j]!)).toBeLessThanOrEqual(d / 2 + amax * 2 ** -10);
      const iMax = block.findIndex((v) => Math.abs(v) === amax);
      expect(Math.abs(Math.abs(y[b * 32 + iMax]!) - amax)).toBeLessThanOrEqual(amax * 2 ** -10); // q = ±127
    }
  });

  it("q8_0 rounds halves away from zero and encodes an all-zero block as d = 0", () => {
    const x = new Float32Array(64);
    x[0] = 127; x[1] = 2.5; x[2] = -2.5; x[3] = -0.5;
    const q = quantizeQ8_0(x);
    expect(f16ToF32(q[0]! | (q[1]! << 8))).toBe(1);
    expect(new Int8Array(q.buffer, 2, 4)).toEqual(new Int8Array([127, 3, -3, -1]));
    expect([...q.subarray(34)].every((b) => b === 0)).toBe(true);
  });

  it("honours a larger alignment, writing general.alignment", async () => {
    const g = await roundTrip([
      { name: "a", type: GGMLType.F32, dims: [3], data: values(3) },
      { name: "b", type: GGMLType.F32, dims: [5], data: values(5) },
    ], 64, []);
    expect(g.alignment).toBe(64);
    expect(g.metadata.get("general.alignment")).toBe(64);
    expect(g.tensors.get("b")!.data.byteOffset - g.tensorDataOffset).toBe(64);
  });

  it("refuses bad input with a message", async () => {
    const path = join(tempDir("gguf-writer-"), "bad.gguf");
    const w = (tensors: GGUFTensorSpec[], md: [string, GGUFTypedValue][] = []) => writeGGUFFile(path, { metadata: md, tensors });
    await expect(w([], [["k", gguf.u8(256)]])).rejects.toThrow(/UINT8 must be an integer in \[0, 255\]/);
    await expect(w([], [["k", gguf.u32(1)], ["k", gguf.u32(2)]])).rejects.toThrow(/duplicate metadata key 'k'/);
    await expect(w([{ name: "q", type: GGMLType.Q8_0, dims: [16], data: values(16) }])).rejects.toThrow(/not a multiple of the Q8_0 block size 32/);
    await expect(w([{ name: "q", type: GGMLType.Q4_0, dims: [32], data: values(32) }])).rejects.toThrow(/cannot encode tensors as Q4_0; encodable: F32, F16, BF16, Q8_0/);
    await expect(w([{ name: "r", type: GGMLType.F32, dims: [4], data: { raw: new Uint8Array(3) } }])).rejects.toThrow(/3 raw bytes/);
  });
});
