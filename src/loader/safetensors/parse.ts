import { ModelFileError } from "../../util/errors.ts";

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`,
 * then the data buffer; offsets are relative to the start of the data buffer. Tensors are
 * row-major (last dim contiguous), little-endian.
 */

/** Element sizes in bytes of the dtypes safetensors defines. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** Header sizes beyond this are refused (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  /** Row-major shape as stored (shape[last] contiguous). */
  shape: number[];
  /** The tensor's bytes: a view into the file buffer, never a copy. */
  data: Uint8Array;
}

export interface SafetensorsFile {
  file: string;
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Reads just the header length (first 8 bytes); throws ModelFileError when it cannot be a header. */
export function safetensorsHeaderLength(file: string, head: Uint8Array, size: number): number {
  if (head.byteLength < 8 || size < 8) throw new ModelFileError(file, `truncated safetensors file: ${size} bytes, the header length alone takes 8`);
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new ModelFileError(file, `safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  if (Number(n) + 8 > size) throw new ModelFileError(file, `truncated safetensors file: header of ${n} bytes but the file has ${size}`);
  return Number(n);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

/** Parses a whole safetensors file held in `bytes`; tensors are views into `bytes`. */
export function parseSafetensors(file: string, bytes: Uint8Array): SafetensorsFile {
  const n = safetensorsHeaderLength(file, bytes, bytes.byteLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ModelFileError(file, `safetensors header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new ModelFileError(file, "safetensors header must be a JSON object of tensor entries");
  }
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== "string")) {
        throw new ModelFileError(file, "safetensors __metadata__ must be an object of string values");
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const bad = (why: string) => new ModelFileError(file, `safetensors tensor '${name}': ${why}`);
    if (typeof entry !== "object" || entry === null) throw bad("entry must be an object {dtype, shape, data_offsets}");
    const { dtype, shape, data_offsets: offs } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
      throw bad(`unknown dtype ${JSON.stringify(dtype)}; safetensors dtypes: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt) || offs[0] > offs[1]) {
      throw bad(`data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const want = (shape as number[]).reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[dtype]!;
    if (end - begin !== want) throw bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} [${shape.join(", ")}] needs ${want}`);
    if (end > dataLen) throw bad(`data_offsets end ${end} is beyond the data buffer (${dataLen} bytes): truncated file?`);
    tensors.set(name, { name, dtype, shape: shape as number[], data: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  return { file, tensors, metadata };
}
