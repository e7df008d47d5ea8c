import { describe, expect, it } from "vitest";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { GGMLType, type MetadataValue } from "../../src/loader/types.ts";
import { f32Bytes, gv, writeGGUF, type GGUFTypedValue } from "../helpers/gguf-writer.ts";

/** Every value type, with what the parser should return for it. */
const VALUES: [string, GGUFTypedValue, MetadataValue][] = [
  ["t.u8", gv.u8(255), 255],
  ["t.i8", gv.i8(-128), -128],
  ["t.u16", gv.u16(65535), 65535],
  ["t.i16", gv.i16(-32768), -32768],
  ["t.u32", gv.u32(4294967295), 4294967295],
  ["t.i32", gv.i32(-2147483648), -2147483648],
  ["t.f32", gv.f32(0.1), Math.fround(0.1)],
  ["t.f32.inf", gv.f32(-Infinity), -Infinity],
  ["t.bool.true", gv.bool(true), true],
  ["t.bool.false", gv.bool(false), false],
  ["t.str", gv.str("héllo ▁world 🦙"), "héllo ▁world 🦙"],
  ["t.str.empty", gv.str(""), ""],
  ["t.u64.small", gv.u64(12345), 12345],
  ["t.u64.safe", gv.u64(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ["t.u64.big", gv.u64(2n ** 64n - 1n), 2n ** 64n - 1n],
  ["t.i64.neg", gv.i64(-42), -42],
  ["t.i64.min", gv.i64(-(2n ** 63n)), -(2n ** 63n)],
  ["t.f64", gv.f64(Math.PI), Math.PI],
  ["t.arr.u8", gv.arr("u8", [1, 2, 3]), [1, 2, 3]],
  ["t.arr.i32", gv.arr("i32", [-1, 0, 7]), [-1, 0, 7]],
  ["t.arr.f32", gv.arr("f32", [0.5, -2.25]), [0.5, -2.25]],
  ["t.arr.str", gv.arr("str", ["<s>", "", "▁a"]), ["<s>", "", "▁a"]],
  ["t.arr.bool", gv.arr("bool", [true, false]), [true, false]],
  ["t.arr.u64", gv.arr("u64", [1n, 2n ** 64n - 1n]), [1, 2n ** 64n - 1n]],
  ["t.arr.i64", gv.arr("i64", [-5n, 2n ** 62n]), [-5, 2n ** 62n]],
  ["t.arr.f64", gv.arr("f64", [1e300, -0]), [1e300, -0]],
  ["t.arr.empty", gv.arr("u32", []), []],
  [
    "t.arr.nested",
    gv.arr("arr", [
      { of: "u8", items: [1, 2] },
      { of: "str", items: ["a", "b"] },
      { of: "arr", items: [{ of: "i16", items: [-3] }, { of: "f64", items: [] }] },
    ]),
    [[1, 2], ["a", "b"], [[-3], []]],
  ],
];

describe("GGUF writer → parser round trip", () => {
  for (const version of [2, 3]) {
    it(`every metadata value type, GGUF v${version}`, () => {
      const bytes = writeGGUF({ version, metadata: VALUES.map(([k, v]) => [k, v]) });
      const g = parseGGUF("rt.gguf", bytes);
      expect(g.version).toBe(version);
      expect(g.tensors.size).toBe(0);
      expect([...g.metadata.keys()]).toEqual(VALUES.map(([k]) => k));
      for (const [k, , want] of VALUES) expect(g.metadata.get(k), k).toEqual(want);
      expect(Object.is((g.metadata.get("t.arr.f64") as number[])[1], -0)).toBe(true);
      expect(typeof g.metadata.get("t.u64.big")).toBe("bigint");
      expect(typeof g.metadata.get("t.u64.safe")).toBe("number");
    });

    it(`tensors, alignment and data views, GGUF v${version}`, () => {
      const a = f32Bytes([1, 2, 3, 4, 5, 6]);
      const q = new Uint8Array(34 * 2).map((_, i) => i);
      const b = new Uint8Array([7, 8, 9]);
      const bytes = writeGGUF({
        version,
        metadata: [["general.alignment", gv.u32(64)], ["general.architecture", gv.str("llama")]],
        tensors: [
          { name: "a", type: GGMLType.F32, dims: [3, 2], data: a },
          { name: "q", type: GGMLType.Q8_0, dims: [32, 2], data: q },
          { name: "b", type: GGMLType.I8, dims: [3, 1, 1, 1], data: b },
        ],
      });
      const g = parseGGUF("t.gguf", bytes);
      expect(g.alignment).toBe(64);
      expect(g.tensorDataOffset % 64).toBe(0);
      expect([...g.tensors.keys()]).toEqual(["a", "q", "b"]);
      const ta = g.tensors.get("a")!;
      expect(ta).toMatchObject({ name: "a", type: GGMLType.F32, dims: [3, 2], numel: 6 });
      expect([...ta.data]).toEqual([...a]);
      expect(ta.data.buffer).toBe(bytes.buffer);
      expect(ta.data.byteOffset).toBe(g.tensorDataOffset);
      const tq = g.tensors.get("q")!;
      expect(tq.numel).toBe(64);
      expect(tq.data.byteOffset).toBe(g.tensorDataOffset + 64);
      expect([...tq.data]).toEqual([...q]);
      expect(g.tensors.get("b")!.dims).toEqual([3, 1, 1, 1]);
      expect([...g.tensors.get("b")!.data]).toEqual([7, 8, 9]);
    });
  }

  it("defaults the alignment to 32 and accepts a zero-tensor, zero-metadata file", () => {
    const g = parseGGUF("e.gguf", writeGGUF({}));
    expect(g.alignment).toBe(32);
    expect(g.metadata.size).toBe(0);
    expect(g.tensors.size).toBe(0);
  });
});
