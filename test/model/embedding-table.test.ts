import { describe, expect, it } from "vitest";
import { dequantize } from "../../src/loader/gguf/dequantize.ts";
import { encodeTensorData } from "../../src/loader/gguf/encode.ts";
import { GGMLType, type HostTensor } from "../../src/loader/types.ts";
import { EmbeddingTable } from "../../src/model/embedding-table.ts";
import { encodeGgml } from "../../src/quant/ggml/encode.ts";
import { Prng } from "../../src/sampling/prng.ts";
import { ModelFileError } from "../../src/util/errors.ts";

function table(type: GGMLType, dim: number, vocab: number, seed: number, offset = 0): HostTensor {
  const r = new Prng(seed), values = Float32Array.from({ length: dim * vocab }, () => (r.nextFloat() * 2 - 1) * 3);
  const bytes = type === GGMLType.BF16 ? encodeTensorData(type, values) : encodeGgml(type, values);
  // offset: the tensor starts at an odd place in its buffer, as in a file whose tensors are not aligned.
  const data = new Uint8Array(bytes.byteLength + offset).subarray(offset);
  data.set(bytes);
  return { name: "token_embd.weight", type, dims: [dim, vocab], numel: dim * vocab, data };
}

describe("EmbeddingTable: token rows decoded on the host from the table as stored", () => {
  const cases: [string, GGMLType, number][] = [["F32", GGMLType.F32, 24], ["F16", GGMLType.F16, 24], ["BF16", GGMLType.BF16, 24], ["Q8_0", GGMLType.Q8_0, 64], ["Q4_0", GGMLType.Q4_0, 64], ["Q4_K", GGMLType.Q4_K, 256], ["Q6_K", GGMLType.Q6_K, 256]];
  for (const [name, type, dim] of cases) {
    it(`${name}: each looked-up row is that row of dequantize(table), bit for bit (aligned and unaligned data)`, () => {
      for (const offset of [0, 1, 2]) {
        const vocab = 37, t = table(type, dim, vocab, 7 + type + offset, offset), all = dequantize(t);
        const e = new EmbeddingTable(t, vocab, dim, "m.gguf");
        const ids = [0, 36, 5, 5, 17];
        const rows = e.lookup(ids, ids.length);
        expect(rows.length).toBe(ids.length * dim);
        ids.forEach((id, i) => expect(Array.from(rows.subarray(i * dim, (i + 1) * dim)), `${name} offset ${offset} id ${id}`).toEqual(Array.from(all.subarray(id * dim, (id + 1) * dim))));
      }
    });
  }

  it("reuses its buffer: a smaller lookup after a larger one returns the right rows", () => {
    const t = table(GGMLType.Q8_0, 32, 10, 3), all = dequantize(t), e = new EmbeddingTable(t, 10, 32, "m.gguf");
    e.lookup([1, 2, 3, 4], 4);
    expect(Array.from(e.lookup([9], 1))).toEqual(Array.from(all.subarray(9 * 32, 10 * 32)));
  });

  it("refuses ids outside the vocabulary, a shape that does not match, a short tensor and a type it cannot decode", () => {
    const t = table(GGMLType.F16, 8, 4, 1), e = new EmbeddingTable(t, 4, 8, "m.gguf");
    expect(() => e.lookup([4], 1)).toThrow(/token id 4 outside the vocabulary \(0..3\)/);
    expect(() => e.lookup([-1], 1)).toThrow(/token id -1 outside the vocabulary/);
    expect(() => new EmbeddingTable(t, 5, 8, "m.gguf")).toThrow(ModelFileError);
    expect(() => new EmbeddingTable(t, 5, 8, "m.gguf")).toThrow(/shape \[8, 4\], expected \[8, 5\]/);
    expect(() => new EmbeddingTable({ ...t, data: t.data.subarray(0, 10) }, 4, 8, "m.gguf")).toThrow(/has 10 bytes of data; F16 \[8, 4\] needs 64/);
    expect(() => new EmbeddingTable({ ...t, type: GGMLType.Q5_0 }, 4, 8, "m.gguf")).toThrow(/cannot read embedding table 'token_embd.weight' of type Q5_0; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K/);
  });
});
