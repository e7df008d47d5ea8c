import { describe, expect, it } from "vitest";
import { alignUp, ByteReader } from "../../src/loader/gguf/reader.ts";
import { ByteWriter } from "../helpers/gguf-writer.ts";
import { expectFileError } from "./expect-file-error.ts";

describe("ByteReader", () => {
  const bytes = new ByteWriter()
    .u8(250).i8(-5).u16(65000).i16(-300).u32(4_000_000_000).i32(-2_000_000_000)
    .u64(2n ** 63n + 5n).i64(-(2n ** 62n)).f32(1.5).f64(Math.PI).u8(1).u8(0).str("héllo ▁")
    .finish();

  it("reads every little-endian type in order", () => {
    const r = new ByteReader("x.bin", bytes);
    expect(r.u8()).toBe(250);
    expect(r.i8()).toBe(-5);
    expect(r.u16()).toBe(65000);
    expect(r.i16()).toBe(-300);
    expect(r.u32()).toBe(4_000_000_000);
    expect(r.i32()).toBe(-2_000_000_000);
    expect(r.u64()).toBe(2n ** 63n + 5n);
    expect(r.i64()).toBe(-(2n ** 62n));
    expect(r.f32()).toBe(1.5);
    expect(r.f64()).toBe(Math.PI);
    expect(r.bool()).toBe(true);
    expect(r.bool()).toBe(false);
    expect(r.string()).toBe("héllo ▁");
    expect(r.remaining).toBe(0);
  });

  it("works on a view with a non-zero, unaligned byteOffset", () => {
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const r = new ByteReader("x.bin", big.subarray(3));
    r.pos = 2;
    expect(r.u16()).toBe(65000);
  });

  it("throws 'truncated header' with position and size on a read past the end", () => {
    const r = new ByteReader("x.bin", new Uint8Array(6));
    r.u32();
    expectFileError(() => r.u32("version"), "x.bin", "truncated header", "version", "at byte 4 of 6");
    expect(r.pos).toBe(4);
  });

  it("rejects string lengths and counts larger than the rest of the file before allocating", () => {
    const huge = new ByteWriter().u64(2n ** 62n).u32(0).finish();
    expectFileError(() => new ByteReader("s.bin", huge).string(), "s.bin", `string of ${2n ** 62n} bytes at byte 0 runs past end of file`);
    expectFileError(() => new ByteReader("a.bin", huge).count(1), "a.bin", `array of ${2n ** 62n} elements at byte 0 runs past end of file`);
    // a count that fits the bytes only at 1 byte/element but not at 8
    const small = new ByteWriter().u64(3).u64(0).u64(0).finish();
    expect(new ByteReader("c.bin", small).count(1)).toBe(3);
    expectFileError(() => new ByteReader("c.bin", small).count(8), "c.bin", "array of 3 elements");
  });

  it("u64Number refuses values past 2^53", () => {
    const b = new ByteWriter().u64(2n ** 53n).finish();
    expectFileError(() => new ByteReader("n.bin", b).u64Number("offset"), "n.bin", "offset 9007199254740992", "too large");
  });

  it("alignUp", () => {
    expect(alignUp(0, 32)).toBe(0);
    expect(alignUp(1, 32)).toBe(32);
    expect(alignUp(64, 32)).toBe(64);
    expect(alignUp(65, 32)).toBe(96);
  });
});
