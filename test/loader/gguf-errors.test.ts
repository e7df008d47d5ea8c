import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseGGUF } from "../../src/loader/gguf/parse.ts";
import { GGMLType } from "../../src/loader/types.ts";
import { ModelFileError } from "../../src/util/errors.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { ByteWriter, f32Bytes, gv, writeGGUF, writeKV, type GGUFWriterTensor } from "../helpers/gguf-writer.ts";
import { expectFileError } from "./expect-file-error.ts";

const F = "bad.gguf";
const parse = (bytes: Uint8Array) => () => parseGGUF(F, bytes);
const HUGE = 2n ** 62n;
/** A file with one 4-float tensor "w", with fields overridden. */
const oneTensor = (t: Partial<GGUFWriterTensor>) =>
  writeGGUF({ tensors: [{ name: "w", type: GGMLType.F32, dims: [4], data: f32Bytes([1, 2, 3, 4]), ...t }] });

/** Header start: magic, version, tensor count, kv count. Callers add 64 zero bytes of slack via end(). */
function header(nTensors: bigint | number, nKV: bigint | number, version = 3): ByteWriter {
  return new ByteWriter().bytes(new TextEncoder().encode("GGUF")).u32(version).u64(nTensors).u64(nKV);
}
/** Finishes a hand-made header with zero bytes after it, so only the field under test is wrong. */
const end = (w: ByteWriter) => w.bytes(new Uint8Array(64)).finish();

describe("parseGGUF rejects malformed files with a clear ModelFileError", () => {
  it("empty file", () => {
    expectFileError(parse(new Uint8Array(0)), F, "empty file");
  });

  it("wrong magic", () => {
    const bytes = writeGGUF({ magic: "GGML" });
    expectFileError(parse(bytes), F, 'not a GGUF file (magic 47 47 4d 4c "GGML", expected "GGUF")');
    expectFileError(parse(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])), F, "not a GGUF file", '".ELF"');
  });

  it("GGUF versions 1 and 4 (and a big-endian file)", () => {
    expectFileError(parse(writeGGUF({ version: 1 })), F, "unsupported GGUF version 1; supported: 2, 3");
    expectFileError(parse(writeGGUF({ version: 4 })), F, "unsupported GGUF version 4; supported: 2, 3");
    expectFileError(parse(writeGGUF({ version: 0x03000000 })), F, "unsupported GGUF version 50331648", "big-endian");
  });

  it("the real file cut at many points inside the header", () => {
    const file = modelPath("stories260K", "stories260K.ggml-org.gguf");
    const full = new Uint8Array(readFileSync(file));
    const { tensorDataOffset } = parseGGUF(file, full);
    const cuts = [1, 3, 4, 6, 8, 12, 16, 20, 24, 30, 40, 100, 1000, 5000, 9000, 12000, 13500, 14000, tensorDataOffset - 1];
    for (const cut of cuts) {
      const err = expectFileError(parse(full.slice(0, cut)), F, /truncated header|runs past end of file/);
      if (/truncated header/.test(err.message)) expect(err.message).toContain(`of ${cut}`);
    }
    expectFileError(parse(full.slice(0, 7)), F, "truncated header: need 4 bytes for version at byte 4 of 7");
    expectFileError(parse(full.slice(0, 20)), F, "truncated header: need 8 bytes for length of metadata table at byte 16 of 20");
    expectFileError(parse(full.slice(0, 300)), F, /truncated header: need \d+ bytes for .* at byte \d+ of 300|of \d+ (bytes|elements) at byte \d+ runs past end of file \(300 bytes/);
  });

  it("the real file cut inside the tensor data", () => {
    const full = new Uint8Array(readFileSync(modelPath("stories260K", "stories260K.ggml-org.gguf")));
    expectFileError(parse(full.slice(0, full.length - 1)), F, /tensor '.*' data runs past end of file \(needs bytes \d+\.\.\d+, file has 1185375\)/);
  });

  it("a tensor whose data runs past the end", () => {
    const bytes = oneTensor({ dims: [1024] });
    const start = parseGGUF("ok", oneTensor({})).tensorDataOffset;
    expectFileError(parse(bytes), F, `tensor 'w' data runs past end of file (needs bytes ${start}..${start + 4096}, file has ${bytes.length})`);
    expectFileError(parse(oneTensor({ offset: 2n ** 40n })), F, "tensor 'w' data runs past end of file");
  });

  it("unknown tensor type", () => {
    expectFileError(parse(oneTensor({ type: 99 })), F, "tensor 'w' has unknown type 99");
  });

  it("dims whose byte size overflows", () => {
    const err = expectFileError(parse(oneTensor({ dims: [2 ** 40, 2 ** 40] })), F, "tensor 'w' has an invalid shape", "overflows");
    expect(err.message).not.toMatch(/Invalid typed array length|RangeError/);
    expectFileError(parse(oneTensor({ dims: [2n ** 63n] })), F, "tensor 'w' dimension 0", "too large");
  });

  it("too many dimensions, and a row length that is not a multiple of the block size", () => {
    expectFileError(parse(oneTensor({ dims: [1, 1, 1, 1, 4] })), F, "tensor 'w' has 5 dimensions; at most 4");
    expectFileError(parse(oneTensor({ type: GGMLType.Q8_0, dims: [33] })), F, "row length 33 is not a multiple of the Q8_0 block size 32");
  });

  it("a tensor offset that is not a multiple of the alignment", () => {
    expectFileError(parse(oneTensor({ offset: 8 })), F, "tensor 'w' data offset 8 is not a multiple of the alignment 32");
  });

  it("string and array lengths of 2^62", () => {
    const keyLen = end(header(0, 1).u64(HUGE));
    expectFileError(parse(keyLen), F, `string of ${HUGE} bytes at byte 24 runs past end of file`, "metadata key 0");
    const value = end(header(0, 1).str("k").u32(8).u64(HUGE).u64(0));
    expectFileError(parse(value), F, `string of ${HUGE} bytes at byte 37 runs past end of file`, "reading 'k'");
    const arr = end(header(0, 1).str("k").u32(9).u32(0).u64(HUGE).u64(0));
    expectFileError(parse(arr), F, `array of ${HUGE} elements at byte 41 runs past end of file`, "reading 'k'");
    const nested = end(header(0, 1).str("k").u32(9).u32(9).u64(1).u32(6).u64(HUGE));
    expectFileError(parse(nested), F, `array of ${HUGE} elements at byte 53 runs past end of file`);
    expectFileError(parse(end(header(HUGE, 0))), F, `tensor table of ${HUGE} elements at byte 8 runs past end of file`);
    expectFileError(parse(end(header(0, HUGE))), F, `metadata table of ${HUGE} elements at byte 16 runs past end of file`);
    const name = end(header(1, 0).u64(HUGE));
    expectFileError(parse(name), F, `string of ${HUGE} bytes at byte 24 runs past end of file`, "reading name of tensor 0");
  });

  it("alignment that is not a power of two", () => {
    expectFileError(parse(writeGGUF({ metadata: [["general.alignment", gv.u32(48)]] })), F, "general.alignment 48 is not a power of two");
    expectFileError(parse(writeGGUF({ metadata: [["general.alignment", gv.u32(0)]], alignment: 1 })), F, "general.alignment 0");
    expectFileError(parse(writeGGUF({ metadata: [["general.alignment", gv.str("32")]] })), F, "general.alignment 32 is not");
  });

  it("unknown metadata value types name the key", () => {
    const bytes = header(0, 1).str("my.key").u32(13).u32(0).finish();
    expectFileError(parse(bytes), F, "metadata 'my.key' has unknown value type 13");
    const arr = header(0, 1).str("my.arr").u32(9).u32(42).u64(0).finish();
    expectFileError(parse(arr), F, "metadata 'my.arr' is an array of unknown value type 42");
  });

  it("duplicate keys and tensor names; arrays nested too deep", () => {
    const dupKey = header(0, 2);
    writeKV(dupKey, "a", gv.u8(1));
    writeKV(dupKey, "a", gv.u8(2));
    expectFileError(parse(dupKey.finish()), F, "duplicate metadata key 'a'");
    const t = { name: "w", type: GGMLType.F32, dims: [1], data: f32Bytes([1]) };
    expectFileError(parse(writeGGUF({ tensors: [t, t] })), F, "duplicate tensor name 'w'");
    const deep = header(0, 1).str("d").u32(9);
    for (let i = 0; i < 100; i++) deep.u32(9).u64(1);
    expectFileError(parse(deep.u32(0).u64(0).finish()), F, "metadata 'd' nests arrays deeper than");
  });

  it("random corruption of a real header gives a ModelFileError or a valid parse, never a crash", () => {
    const full = new Uint8Array(readFileSync(modelPath("stories260K", "stories260K-q8_0.gguf")));
    const end = parseGGUF("ok", full).tensorDataOffset;
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1664525 + 1013904223) >>> 0) % n;
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) {
      const b = full.slice();
      for (let k = 0; k < 1 + rand(3); k++) b[rand(end)] = rand(256);
      try {
        parseGGUF(F, b);
      } catch (e) {
        if (!(e instanceof ModelFileError)) throw e;
      }
    }
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
