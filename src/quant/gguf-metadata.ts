/**
 * Metadata with its GGUF value types, for copying a model's metadata into a new file. The parser
 * keeps values only, so GGUF files are re-scanned here (the header alone, read in growing
 * prefixes); llama2.c checkpoints, whose metadata the loader synthesises, get the types the GGUF
 * spec gives their keys.
 */
import { open } from "node:fs/promises";
import { ByteReader } from "../loader/gguf/reader.ts";
import { GGUFValueType as T } from "../loader/gguf/parse.ts";
import type { GGUFArrayValue, GGUFScalar, GGUFTypedValue } from "../loader/gguf/writer.ts";
import type { MetadataValue, ModelCheckpoint } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readTyped(r: ByteReader, type: number, key: string): GGUFScalar | GGUFArrayValue {
  switch (type) {
    case T.UINT8: return r.u8();
    case T.INT8: return r.i8();
    case T.UINT16: return r.u16();
    case T.INT16: return r.i16();
    case T.UINT32: return r.u32();
    case T.INT32: return r.i32();
    case T.FLOAT32: return r.f32();
    case T.FLOAT64: return r.f64();
    case T.BOOL: return r.bool();
    case T.STRING: return r.string();
    case T.UINT64: return narrow(r.u64());
    case T.INT64: return narrow(r.i64());
    case T.ARRAY: {
      const elementType = r.u32() as T;
      const n = r.count(1, "array", `'${key}'`);
      const items: Array<GGUFScalar | GGUFArrayValue> = new Array(n);
      for (let i = 0; i < n; i++) items[i] = readTyped(r, elementType, key);
      return { elementType, items };
    }
    default:
      throw r.error(`metadata '${key}' has unknown value type ${type}`);
  }
}

/** Typed metadata of a GGUF file's header, in file order. */
export function scanTypedMetadata(file: string, bytes: Uint8Array): [string, GGUFTypedValue][] {
  const r = new ByteReader(file, bytes);
  r.u32("magic");
  r.u32("version");
  r.u64("tensor count");
  const n = Number(r.u64("metadata count"));
  const out: [string, GGUFTypedValue][] = [];
  for (let i = 0; i < n; i++) {
    const key = r.string();
    const type = r.u32() as T;
    out.push([key, { type, value: readTyped(r, type, key) }]);
  }
  return out;
}

async function readGgufTypedMetadata(path: string): Promise<[string, GGUFTypedValue][]> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    for (let want = 1 << 20; ; want *= 4) {
      const len = Math.min(want, size);
      const buf = new Uint8Array(len);
      await fh.read(buf, 0, len, 0);
      try {
        return scanTypedMetadata(path, buf);
      } catch (e) {
        if (!(e instanceof ModelFileError) || len === size || !/truncated/.test(e.message)) throw e;
      }
    }
  } finally {
    await fh.close();
  }
}

const FLOAT_KEY = /(freq_base|epsilon|scale|scores)$/;

function inferType(key: string, v: MetadataValue): GGUFTypedValue {
  if (typeof v === "string") return { type: T.STRING, value: v };
  if (typeof v === "boolean") return { type: T.BOOL, value: v };
  if (typeof v === "bigint") return { type: T.UINT64, value: v };
  if (typeof v === "number") {
    if (FLOAT_KEY.test(key) || !Number.isInteger(v)) return { type: T.FLOAT32, value: v };
    return { type: v < 0 ? T.INT32 : T.UINT32, value: v };
  }
  const elementType = v.every((x) => typeof x === "string") ? T.STRING
    : FLOAT_KEY.test(key) || v.some((x) => typeof x === "number" && !Number.isInteger(x)) ? T.FLOAT32 : T.INT32;
  return { type: T.ARRAY, value: { elementType, items: v as GGUFScalar[] } };
}

/** The checkpoint's metadata with GGUF value types (from the file for GGUF, by key otherwise). */
export async function typedMetadata(ck: ModelCheckpoint): Promise<[string, GGUFTypedValue][]> {
  if (ck.format === "gguf") return readGgufTypedMetadata(ck.file);
  return [...ck.metadata].map(([k, v]) => [k, inferType(k, v)]);
}
