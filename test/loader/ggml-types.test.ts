import { describe, expect, it } from "vitest";
import { ggmlTypeInfo, ggmlTypeInfos, ggmlTypeName, tensorByteSize, TensorShapeError } from "../../src/loader/gguf/ggml-types.ts";
import { GGMLType } from "../../src/loader/types.ts";

describe("ggml type table", () => {
  it("has the block sizes and bytes per block of ggml", () => {
    const expected: Record<string, [number, number]> = {
      F32: [1, 4], F16: [1, 2], BF16: [1, 2], Q4_0: [32, 18], Q4_1: [32, 20], Q5_0: [32, 22], Q5_1: [32, 24],
      Q8_0: [32, 34], Q8_1: [32, 36], Q2_K: [256, 84], Q3_K: [256, 110], Q4_K: [256, 144], Q5_K: [256, 176],
      Q6_K: [256, 210], Q8_K: [256, 292], I8: [1, 1], I16: [1, 2], I32: [1, 4], I64: [1, 8], F64: [1, 8],
    };
    const table = Object.fromEntries(ggmlTypeInfos().map((t) => [t.name, [t.blockSize, t.typeSize]]));
    expect(table).toEqual(expected);
    expect(ggmlTypeInfo(GGMLType.Q8_0)?.name).toBe("Q8_0");
    expect(ggmlTypeInfo(99)).toBeUndefined();
    expect(ggmlTypeName(GGMLType.BF16)).toBe("BF16");
    expect(ggmlTypeName(99)).toBe("type 99");
  });

  it("tensorByteSize", () => {
    expect(tensorByteSize(GGMLType.F32, [64, 512])).toBe(64 * 512 * 4);
    expect(tensorByteSize(GGMLType.F16, [3])).toBe(6);
    expect(tensorByteSize(GGMLType.Q8_0, [64, 64])).toBe(2 * 64 * 34);
    expect(tensorByteSize(GGMLType.Q4_K, [512, 2])).toBe(4 * 144);
    expect(tensorByteSize(GGMLType.F32, [])).toBe(4);
    expect(tensorByteSize(GGMLType.F32, [0, 5])).toBe(0);
  });

  it("throws on a row length that is not a multiple of the block size", () => {
    expect(() => tensorByteSize(GGMLType.Q8_0, [172, 64])).toThrow(TensorShapeError);
    expect(() => tensorByteSize(GGMLType.Q8_0, [172, 64])).toThrow("row length 172 is not a multiple of the Q8_0 block size 32");
  });

  it("throws on sizes beyond Number.MAX_SAFE_INTEGER", () => {
    expect(() => tensorByteSize(GGMLType.F32, [2 ** 40, 2 ** 40])).toThrow(/overflows/);
    // element count is safe (2^51) but bytes are not (2^53)
    expect(() => tensorByteSize(GGMLType.F32, [2 ** 25, 2 ** 26])).toThrow(/byte size .* overflows/);
    expect(tensorByteSize(GGMLType.I8, [2 ** 25, 2 ** 26])).toBe(2 ** 51);
    expect(() => tensorByteSize(99, [1])).toThrow("unknown type 99");
  });
});
