import { open, rename, rm } from "node:fs/promises";
import type { GGMLType } from "../types.ts";
import { encodeTensorData } from "./encode.ts";
import { ggmlTypeName, tensorByteSize } from "./ggml-types.ts";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_DIMS, GGUFValueType } from "./parse.ts";

/**
 * A GGUF v3 writer: typed metadata, tensors encoded to F32 / F16 / BF16 / Q8_0 (as llama.cpp's
 * reference quantizers), written streaming through a file handle: the header first, then each
 * tensor's bytes a chunk of rows at a time, so a large model never exists twice in memory.
 */

export type GGUFScalar = number | bigint | boolean | string;
/** An array value: its element type and items (nested arrays are GGUFArrayValue items). */
export interface GGUFArrayValue {
  elementType: GGUFValueType;
  items: ReadonlyArray<GGUFScalar | GGUFArrayValue>;
}
export interface GGUFTypedValue {
  type: GGUFValueType;
  value: GGUFScalar | GGUFArrayValue;
}

const T = GGUFValueType;
/** Typed metadata constructors: gguf.u32(7), gguf.str("llama"), gguf.array(T.STRING, ["a"]). */
export const gguf = {
  u8: (value: number): GGUFTypedValue => ({ type: T.UINT8, value }),
  i8: (value: number): GGUFTypedValue => ({ type: T.INT8, value }),
  u16: (value: number): GGUFTypedValue => ({ type: T.UINT16, value }),
  i16: (value: number): GGUFTypedValue => ({ type: T.INT16, value }),
  u32: (value: number): GGUFTypedValue => ({ type: T.UINT32, value }),
  i32: (value: number): GGUFTypedValue => ({ type: T.INT32, value }),
  u64: (value: number | bigint): GGUFTypedValue => ({ type: T.UINT64, value }),
  i64: (value: number | bigint): GGUFTypedValue => ({ type: T.INT64, value }),
  f32: (value: number): GGUFTypedValue => ({ type: T.FLOAT32, value }),
  f64: (value: number): GGUFTypedValue => ({ type: T.FLOAT64, value }),
  bool: (value: boolean): GGUFTypedValue => ({ type: T.BOOL, value }),
  str: (value: string): GGUFTypedValue => ({ type: T.STRING, value }),
  array: (elementType: GGUFValueType, items: ReadonlyArray<GGUFScalar | GGUFArrayValue>): GGUFTypedValue =>
    ({ type: T.ARRAY, value: { elementType, items } }),
  /** An array item of an array of arrays: gguf.array(T.ARRAY, [gguf.items(T.INT32, [1, 2])]). */
  items: (elementType: GGUFValueType, items: ReadonlyArray<GGUFScalar | GGUFArrayValue>): GGUFArrayValue => ({ elementType, items }),
};

/** Where a tensor's data come from: f32 values, bytes already in the tensor's type, or rows on demand. */
export type GGUFTensorSource =
  | Float32Array
  | { raw: Uint8Array }
  /** Values of rows [rowStart, rowStart + numRows) (a row is dims[0] values); called in row order. */
  | ((rowStart: number, numRows: number) => Float32Array);

export interface GGUFTensorSpec {
  name: string;
  /** Storage type in the file. */
  type: GGMLType;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  data: GGUFTensorSource;
}

export interface GGUFWriteOptions {
  metadata: Iterable<[string, GGUFTypedValue]>;
  tensors: readonly GGUFTensorSpec[];
  /** Data alignment; written as general.alignment when not the default 32. */
  alignment?: number;
  onProgress?: (p: { written: number; total: number; tensor: string; index: number; count: number }) => void;
}

const CHUNK_VALUES = 1 << 20;

const VALUE_BYTES: Partial<Record<GGUFValueType, number>> = {
  [T.UINT8]: 1, [T.INT8]: 1, [T.UINT16]: 2, [T.INT16]: 2, [T.UINT32]: 4, [T.INT32]: 4,
  [T.FLOAT32]: 4, [T.FLOAT64]: 8, [T.UINT64]: 8, [T.INT64]: 8,
};

/** Growable little-endian byte sink for the header. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private readonly utf8 = new TextEncoder();

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }
  /** A fixed-size number of GGUF value type `t` (ints, floats; 64-bit ints as bigint or number). */
  num(t: GGUFValueType, v: number | bigint) {
    const at = this.reserve(VALUE_BYTES[t] ?? 0);
    const d = this.view; // after reserve: it may have swapped the buffer
    const n = Number(v);
    switch (t) {
      case T.UINT8: return d.setUint8(at, n);
      case T.INT8: return d.setInt8(at, n);
      case T.UINT16: return d.setUint16(at, n, true);
      case T.INT16: return d.setInt16(at, n, true);
      case T.UINT32: return d.setUint32(at, n, true);
      case T.INT32: return d.setInt32(at, n, true);
      case T.FLOAT32: return d.setFloat32(at, n, true);
      case T.FLOAT64: return d.setFloat64(at, n, true);
      case T.UINT64: return d.setBigUint64(at, BigInt(v), true);
      case T.INT64: return d.setBigInt64(at, BigInt(v), true);
    }
  }
  u32(v: number) { this.num(T.UINT32, v); }
  u64(v: number) { this.num(T.UINT64, v); }
  str(s: string) {
    const b = this.utf8.encode(s);
    this.u64(b.length);
    const at = this.reserve(b.length); // before reading this.buf: reserve may swap it
    this.buf.set(b, at);
  }
  pad(alignment: number) {
    const r = this.length % alignment;
    if (r) this.reserve(alignment - r);
  }
  bytes(): Uint8Array { return this.buf.subarray(0, this.length); }
}

const INT_RANGES: Partial<Record<GGUFValueType, [number, number]>> = {
  [T.UINT8]: [0, 255], [T.INT8]: [-128, 127], [T.UINT16]: [0, 65535], [T.INT16]: [-32768, 32767],
  [T.UINT32]: [0, 4294967295], [T.INT32]: [-2147483648, 2147483647],
};

function writeValue(w: ByteSink, type: GGUFValueType, v: GGUFScalar | GGUFArrayValue, key: string): void {
  const fail = (what: string) => new RangeError(`GGUF metadata '${key}': ${what}, got ${typeof v === "object" ? "an array" : String(v)}`);
  const range = INT_RANGES[type];
  if (range && (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1])) {
    throw fail(`a ${GGUFValueType[type]} must be an integer in [${range[0]}, ${range[1]}]`);
  }
  if ((type === T.UINT64 || type === T.INT64) && !(typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v)))) {
    throw fail(`a ${GGUFValueType[type]} must be a bigint or a safe integer`);
  }
  switch (type) {
    case T.UINT8: case T.INT8: case T.UINT16: case T.INT16: case T.UINT32: case T.INT32: case T.UINT64: case T.INT64:
      return w.num(type, v as number | bigint);
    case T.FLOAT32:
    case T.FLOAT64:
      if (typeof v !== "number") throw fail("a float must be a number");
      return w.num(type, v);
    case T.BOOL:
      if (typeof v !== "boolean") throw fail("a BOOL must be a boolean");
      return w.num(T.UINT8, v ? 1 : 0);
    case T.STRING:
      if (typeof v !== "string") throw fail("a STRING must be a string");
      return w.str(v);
    case T.ARRAY: {
      if (typeof v !== "object" || v === null) throw fail("an ARRAY needs { elementType, items }");
      w.u32(v.elementType);
      w.u64(v.items.length);
      for (const item of v.items) writeValue(w, v.elementType, item, key);
      return;
    }
    default:
      throw fail(`unknown value type ${type as number}`);
  }
}

interface Planned { spec: GGUFTensorSpec; size: number; offset: number }

function planTensors(tensors: readonly GGUFTensorSpec[], alignment: number): { planned: Planned[]; dataSize: number } {
  const names = new Set<string>();
  let at = 0;
  const planned = tensors.map((spec) => {
    if (names.has(spec.name)) throw new RangeError(`duplicate tensor name '${spec.name}'`);
    names.add(spec.name);
    if (spec.dims.length < 1 || spec.dims.length > GGUF_MAX_DIMS) throw new RangeError(`tensor '${spec.name}' needs 1 to ${GGUF_MAX_DIMS} dims`);
    let size: number;
    try {
      size = tensorByteSize(spec.type, spec.dims);
    } catch (e) {
      throw new RangeError(`tensor '${spec.name}': ${(e as Error).message}`);
    }
    at += (alignment - (at % alignment)) % alignment;
    const p = { spec, size, offset: at };
    at += size;
    return p;
  });
  return { planned, dataSize: at };
}

/** Header bytes (magic through tensor infos, padded to the alignment) for these tensors. */
function headerBytes(md: [string, GGUFTypedValue][], alignment: number, planned: Planned[]): Uint8Array {
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !md.some(([k]) => k === "general.alignment")) md.push(["general.alignment", gguf.u32(alignment)]);
  const w = new ByteSink();
  w.u32(0x46554747); // "GGUF"
  w.u32(3);
  w.u64(planned.length);
  w.u64(md.length);
  const keys = new Set<string>();
  for (const [key, v] of md) {
    if (keys.has(key)) throw new RangeError(`duplicate metadata key '${key}'`);
    keys.add(key);
    w.str(key);
    w.u32(v.type);
    writeValue(w, v.type, v.value, key);
  }
  for (const { spec, offset } of planned) {
    w.str(spec.name);
    w.u32(spec.dims.length);
    for (const d of spec.dims) w.u64(d);
    w.u32(spec.type);
    w.u64(offset);
  }
  w.pad(alignment);
  return w.bytes();
}

/** Yields the encoded bytes of one tensor, a chunk of whole rows at a time. */
function* tensorChunks(p: Planned): Generator<Uint8Array> {
  const { spec, size } = p;
  const src = spec.data;
  if (!(src instanceof Float32Array) && typeof src !== "function") {
    if (src.raw.byteLength !== size) throw new RangeError(`tensor '${spec.name}' has ${src.raw.byteLength} raw bytes; ${ggmlTypeName(spec.type)} [${spec.dims.join(", ")}] needs ${size}`);
    yield src.raw;
    return;
  }
  const rowLen = spec.dims[0]!;
  const numel = spec.dims.reduce((a, b) => a * b, 1);
  const numRows = rowLen === 0 ? 0 : numel / rowLen;
  if (src instanceof Float32Array && src.length !== numel) throw new RangeError(`tensor '${spec.name}' has ${src.length} values; [${spec.dims.join(", ")}] needs ${numel}`);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / Math.max(1, rowLen)));
  for (let r = 0; r < numRows; r += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, numRows - r);
    const values = src instanceof Float32Array ? src.subarray(r * rowLen, (r + n) * rowLen) : src(r, n);
    if (values.length !== n * rowLen) throw new RangeError(`tensor '${spec.name}': source gave ${values.length} values for ${n} rows of ${rowLen}`);
    yield encodeTensorData(spec.type, values);
  }
}

/**
 * Writes a GGUF v3 file at `path` (through `path`.tmp, renamed when complete, so an interrupted
 * write leaves no half file). Returns the file size and where the tensor data start.
 */
export async function writeGGUFFile(path: string, opts: GGUFWriteOptions): Promise<{ bytes: number; tensorDataOffset: number }> {
  const md = [...opts.metadata];
  const mdAlign = md.find(([k]) => k === "general.alignment")?.[1].value;
  const alignment = opts.alignment ?? (typeof mdAlign === "number" ? mdAlign : GGUF_DEFAULT_ALIGNMENT);
  if (mdAlign !== undefined && mdAlign !== alignment) throw new RangeError(`general.alignment ${String(mdAlign)} disagrees with alignment ${alignment}`);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new RangeError(`alignment ${alignment} is not a power of two`);
  const { planned, dataSize } = planTensors(opts.tensors, alignment);
  const header = headerBytes(md, alignment, planned);
  const total = header.byteLength + dataSize;
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    let pos = 0;
    const put = async (b: Uint8Array) => {
      let done = 0;
      while (done < b.byteLength) done += (await fh.write(b, done, b.byteLength - done, pos + done)).bytesWritten;
      pos += b.byteLength;
    };
    await put(header);
    for (let i = 0; i < planned.length; i++) {
      const p = planned[i]!;
      const start = header.byteLength + p.offset;
      if (pos < start) await put(new Uint8Array(start - pos));
      for (const chunk of tensorChunks(p)) await put(chunk);
      if (pos !== start + p.size) throw new Error(`tensor '${p.spec.name}' wrote ${pos - start} bytes, expected ${p.size}`);
      opts.onProgress?.({ written: pos, total, tensor: p.spec.name, index: i, count: planned.length });
    }
    await fh.close();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, path);
  return { bytes: total, tensorDataOffset: header.byteLength };
}
