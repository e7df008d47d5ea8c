import { describe, expect, it } from "vitest";
import { f16ToF32 } from "../../src/loader/gguf/dequantize.ts";
import { parseSafetensors } from "../../src/loader/safetensors/parse.ts";
import { encodeSafetensors } from "../../src/loader/safetensors/writer.ts";
import { expectFileError } from "./expect-file-error.ts";

const F = "x.safetensors";

/** A file from a raw header object and data bytes (for malformed cases). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const hb = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

describe("safetensors reader", () => {
  it("round-trips F32, F16 and BF16 tensors as views into the file bytes, with __metadata__", () => {
    const values = Float32Array.from({ length: 12 }, (_, i) => (i - 6) * 0.375);
    const bytes = encodeSafetensors([
      { name: "a", shape: [3, 4], dtype: "F32", values },
      { name: "b", shape: [12], dtype: "F16", values },
      { name: "c", shape: [2, 6], dtype: "BF16", values },
    ], { format: "pt" });
    const st = parseSafetensors(F, bytes);
    expect(st.metadata).toEqual({ format: "pt" });
    expect([...st.tensors.keys()]).toEqual(["a", "b", "c"]);
    const a = st.tensors.get("a")!;
    expect(a.dtype).toBe("F32");
    expect(a.shape).toEqual([3, 4]);
    expect(a.data.buffer).toBe(bytes.buffer); // a view, not a copy
    expect(Array.from(new Float32Array(a.data.slice().buffer))).toEqual(Array.from(values));
    const b = st.tensors.get("b")!;
    expect(b.data.byteLength).toBe(24);
    const h = new Uint16Array(b.data.slice().buffer);
    expect(Array.from(h, f16ToF32)).toEqual(Array.from(values)); // these values are exact in f16
    const c = st.tensors.get("c")!;
    const bf = new Uint16Array(c.data.slice().buffer);
    expect(Array.from(bf, (x) => new Float32Array(new Uint32Array([x << 16]).buffer)[0])).toEqual(Array.from(values));
    // The writer pads the header so data start 8-aligned.
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
  });

  it("accepts an empty file of tensors and zero-size tensors", () => {
    expect(parseSafetensors(F, rawFile({})).tensors.size).toBe(0);
    const st = parseSafetensors(F, rawFile({ z: { dtype: "F32", shape: [0, 4], data_offsets: [0, 0] } }));
    expect(st.tensors.get("z")!.data.byteLength).toBe(0);
  });

  it("refuses truncated files, bad headers and bad entries with the reason", () => {
    expectFileError(() => parseSafetensors(F, new Uint8Array(5)), F, "truncated safetensors file", "8");
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expectFileError(() => parseSafetensors(F, huge), F, "exceeds", "limit");
    const short = new Uint8Array(16);
    new DataView(short.buffer).setBigUint64(0, 100n, true);
    expectFileError(() => parseSafetensors(F, short), F, "truncated safetensors file: header of 100 bytes but the file has 16");
    expectFileError(() => parseSafetensors(F, rawFile(null, undefined, "{not json")), F, "header is not valid JSON");
    expectFileError(() => parseSafetensors(F, rawFile([1, 2])), F, "must be a JSON object");
    expectFileError(() => parseSafetensors(F, rawFile({ __metadata__: { a: 1 } })), F, "__metadata__ must be an object of string values");
    const d8 = new Uint8Array(8);
    expectFileError(() => parseSafetensors(F, rawFile({ w: { dtype: "Q4", shape: [2], data_offsets: [0, 8] } }, d8)), F, "tensor 'w'", "unknown dtype \"Q4\"", "F32, ");
    expectFileError(() => parseSafetensors(F, rawFile({ w: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, d8)), F, "shape must be an array of non-negative integers");
    expectFileError(() => parseSafetensors(F, rawFile({ w: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, d8)), F, "data_offsets must be [begin, end]");
    expectFileError(() => parseSafetensors(F, rawFile({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, d8)), F, "span 8 bytes but F32 [3] needs 12");
    expectFileError(() => parseSafetensors(F, rawFile({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, d8)), F, "beyond the data buffer (8 bytes): truncated file?");
    // A whole valid file cut short.
    const good = encodeSafetensors([{ name: "w", shape: [64], dtype: "F32", values: new Float32Array(64) }]);
    expectFileError(() => parseSafetensors(F, good.subarray(0, good.length - 10)), F, "tensor 'w'", "beyond the data buffer");
  });
});
