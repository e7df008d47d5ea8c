import type { GGMLType, HostTensor, MetadataValue, ModelCheckpoint } from "../types.ts";
import { ggmlTypeInfo, tensorByteSize, TensorShapeError } from "./ggml-types.ts";
import { alignUp, ByteReader } from "./reader.ts";

/** GGUF metadata value types (gguf_type). */
export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** "GGUF" read as a little-endian u32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_SUPPORTED_VERSIONS: readonly number[] = [2, 3];
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_MAX_DIMS = 4;
/** Arrays of arrays deeper than this are refused (a guard against stack exhaustion). */
const MAX_ARRAY_DEPTH = 16;

/** A parsed GGUF file: the checkpoint plus the container details. */
export interface GGUFCheckpoint extends ModelCheckpoint {
  format: "gguf";
  version: number;
  alignment: number;
  /** Byte offset in the file where the tensor data section starts (tensor offsets are relative to it). */
  tensorDataOffset: number;
}

/** Fewest bytes one value of each type can occupy (used to bound array counts before reading). */
const MIN_VALUE_BYTES: Record<GGUFValueType, number> = {
  [GGUFValueType.UINT8]: 1,
  [GGUFValueType.INT8]: 1,
  [GGUFValueType.UINT16]: 2,
  [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4,
  [GGUFValueType.INT32]: 4,
  [GGUFValueType.FLOAT32]: 4,
  [GGUFValueType.BOOL]: 1,
  [GGUFValueType.STRING]: 8,
  [GGUFValueType.ARRAY]: 12,
  [GGUFValueType.UINT64]: 8,
  [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

function isValueType(t: number): t is GGUFValueType {
  return Object.prototype.hasOwnProperty.call(MIN_VALUE_BYTES, t);
}

/** A 64-bit integer as a number when it is exactly representable, else as a bigint. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readValue(r: ByteReader, type: number, key: string, depth: number): MetadataValue {
  const what = `value of '${key}'`;
  switch (type) {
    case GGUFValueType.UINT8: return r.u8(what);
    case GGUFValueType.INT8: return r.i8(what);
    case GGUFValueType.UINT16: return r.u16(what);
    case GGUFValueType.INT16: return r.i16(what);
    case GGUFValueType.UINT32: return r.u32(what);
    case GGUFValueType.INT32: return r.i32(what);
    case GGUFValueType.FLOAT32: return r.f32(what);
    case GGUFValueType.BOOL: return r.bool(what);
    case GGUFValueType.STRING: return r.string(`'${key}'`);
    case GGUFValueType.UINT64: return narrow(r.u64(what));
    case GGUFValueType.INT64: return narrow(r.i64(what));
    case GGUFValueType.FLOAT64: return r.f64(what);
    case GGUFValueType.ARRAY: {
      if (depth >= MAX_ARRAY_DEPTH) throw r.error(`metadata '${key}' nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
      const at = r.pos;
      const elemType = r.u32(`array type of '${key}'`);
      if (!isValueType(elemType)) {
        throw r.error(`metadata '${key}' is an array of unknown value type ${elemType} (at byte ${at})`);
      }
      const n = r.count(MIN_VALUE_BYTES[elemType], "array", `'${key}'`);
      const out: MetadataValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r, elemType, key, depth + 1);
      return out;
    }
    default:
      throw r.error(`metadata '${key}' has unknown value type ${type} (at byte ${r.pos - 4})`);
  }
}

function readHeader(r: ByteReader): number {
  if (r.length === 0) throw r.error("empty file");
  const magicBytes = r.bytes.subarray(0, 4);
  const magic = r.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const hex = [...magicBytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = String.fromCharCode(...magicBytes).replace(/[^\x20-\x7e]/g, ".");
    throw r.error(`not a GGUF file (magic ${hex} "${text}", expected "GGUF")`);
  }
  const version = r.u32("version");
  if (!GGUF_SUPPORTED_VERSIONS.includes(version)) {
    const swapped = ((version & 0xff) << 24) | ((version >>> 8) & 0xff) << 16 | ((version >>> 16) & 0xff) << 8 | (version >>> 24);
    const hint = GGUF_SUPPORTED_VERSIONS.includes(swapped) ? " (a big-endian GGUF file? only little-endian is supported)" : "";
    throw r.error(`unsupported GGUF version ${version}; supported: ${GGUF_SUPPORTED_VERSIONS.join(", ")}${hint}`);
  }
  return version;
}

function readMetadata(r: ByteReader): Map<string, MetadataValue> {
  const n = r.count(8 + 4 + 1, "metadata table");
  const metadata = new Map<string, MetadataValue>();
  for (let i = 0; i < n; i++) {
    const key = r.string(`metadata key ${i}`);
    if (metadata.has(key)) throw r.error(`duplicate metadata key '${key}'`);
    const type = r.u32(`value type of '${key}'`);
    metadata.set(key, readValue(r, type, key, 0));
  }
  return metadata;
}

function readAlignment(r: ByteReader, metadata: Map<string, MetadataValue>): number {
  const a = metadata.get("general.alignment");
  if (a === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (typeof a !== "number" || !Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0 || a > 2 ** 30) {
    throw r.error(`general.alignment ${String(a)} is not a power of two`);
  }
  return a;
}

interface TensorInfo {
  name: string;
  dims: number[];
  type: GGMLType;
  offset: number;
}

function readTensorInfo(r: ByteReader, index: number): TensorInfo {
  const name = r.string(`name of tensor ${index}`);
  const nDims = r.u32(`dimension count of '${name}'`);
  if (nDims > GGUF_MAX_DIMS) {
    throw r.error(`tensor '${name}' has ${nDims} dimensions; at most ${GGUF_MAX_DIMS} are supported`);
  }
  const dims: number[] = [];
  for (let d = 0; d < nDims; d++) dims.push(r.u64Number(`tensor '${name}' dimension ${d}`));
  const type = r.u32(`type of '${name}'`);
  if (!ggmlTypeInfo(type)) throw r.error(`tensor '${name}' has unknown type ${type}`);
  const offset = r.u64Number(`tensor '${name}' data offset`);
  return { name, dims, type, offset };
}

/**
 * Parses a GGUF v2/v3 file held in `bytes`. Tensor data are views into `bytes` (no copies).
 * Throws ModelFileError("FILE: problem") for anything malformed, before allocating on its say-so.
 */
export function parseGGUF(file: string, bytes: Uint8Array): GGUFCheckpoint {
  const r = new ByteReader(file, bytes);
  const version = readHeader(r);
  // The tensor count is checked against the bytes left after the metadata, where the infos begin.
  const nTensorsAt = r.pos;
  const nTensorsRaw = r.u64("tensor count");
  const metadata = readMetadata(r);
  const nTensors = r.checkCount(nTensorsRaw, nTensorsAt, 8 + 4 + 4 + 8, "tensor table");
  const alignment = readAlignment(r, metadata);

  const infos: TensorInfo[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const info = readTensorInfo(r, i);
    if (seen.has(info.name)) throw r.error(`duplicate tensor name '${info.name}'`);
    seen.add(info.name);
    infos.push(info);
  }
  const tensorDataOffset = alignUp(r.pos, alignment);

  const tensors = new Map<string, HostTensor>();
  for (const { name, dims, type, offset } of infos) {
    let size: number;
    try {
      size = tensorByteSize(type, dims);
    } catch (e) {
      if (e instanceof TensorShapeError) throw r.error(`tensor '${name}' has an invalid shape: ${e.message}`);
      throw e;
    }
    if (offset % alignment !== 0) {
      throw r.error(`tensor '${name}' data offset ${offset} is not a multiple of the alignment ${alignment}`);
    }
    const start = tensorDataOffset + offset;
    const end = start + size;
    if (end > bytes.byteLength) {
      throw r.error(
        `tensor '${name}' data runs past end of file (needs bytes ${start}..${end}, file has ${bytes.byteLength})`,
      );
    }
    const numel = dims.reduce((a, b) => a * b, 1);
    tensors.set(name, { name, type, dims, numel, data: bytes.subarray(start, end) });
  }
  return { file, format: "gguf", version, alignment, tensorDataOffset, metadata, tensors };
}
