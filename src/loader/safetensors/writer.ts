import { writeFile } from "node:fs/promises";
import { f32ArrayToBF16 } from "../gguf/encode.ts";
import { f32ArrayToF16 } from "../gguf/dequantize.ts";

/** Storage dtypes the writer encodes from f32 values. */
export type SafetensorsWriteDtype = "F32" | "F16" | "BF16";

export interface SafetensorsTensorSpec {
  name: string;
  /** Row-major shape (last dim contiguous), as PyTorch/safetensors write it. */
  shape: number[];
  dtype: SafetensorsWriteDtype;
  values: Float32Array;
}

function encode(t: SafetensorsTensorSpec): Uint8Array {
  const v = t.values;
  if (t.dtype === "F32") return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const bits = t.dtype === "F16" ? f32ArrayToF16(v) : f32ArrayToBF16(v);
  return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
}

/**
 * Encodes a safetensors file: header JSON padded with spaces to a multiple of 8 bytes (as the
 * reference writer does, so data stay aligned), tensors in the given order, `__metadata__` optional.
 */
export function encodeSafetensors(tensors: readonly SafetensorsTensorSpec[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.values.length) throw new RangeError(`safetensors tensor '${t.name}': ${t.values.length} values for shape [${t.shape.join(", ")}]`);
    const d = encode(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + d.byteLength] };
    datas.push(d);
    offset += d.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).byteLength) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const d of datas) { out.set(d, p); p += d.byteLength; }
  return out;
}

export async function writeSafetensorsFile(path: string, tensors: readonly SafetensorsTensorSpec[], metadata?: Record<string, string>): Promise<number> {
  const bytes = encodeSafetensors(tensors, metadata);
  await writeFile(path, bytes);
  return bytes.byteLength;
}
