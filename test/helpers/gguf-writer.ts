/**
 * A small GGUF v2/v3 writer for tests: builds files from typed metadata and tensors, and can
 * write deliberately malformed ones (wrong magic/version, bad offsets, unknown types, huge dims).
 */

/** Metadata value kinds, named after their GGUF types. */
export type GGUFKind =
  | "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "str" | "arr" | "u64" | "i64" | "f64";

export const GGUF_KIND_IDS: Record<GGUFKind, number> = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9, u64: 10, i64: 11, f64: 12,
};

/** An array's payload: element kind and raw elements (nested arrays are GGUFArray elements). */
export interface GGUFArray {
  of: GGUFKind;
  items: GGUFRaw[];
}
export type GGUFRaw = number | bigint | boolean | string | GGUFArray;

export interface GGUFTypedValue {
  type: GGUFKind;
  value: GGUFRaw;
}

/** Typed value constructors: gv.u32(7), gv.arr("str", ["a"]), gv.arr("arr", [{ of: "u8", items: [1] }]). */
export const gv = {
  u8: (value: number): GGUFTypedValue => ({ type: "u8", value }),
  i8: (value: number): GGUFTypedValue => ({ type: "i8", value }),
  u16: (value: number): GGUFTypedValue => ({ type: "u16", value }),
  i16: (value: number): GGUFTypedValue => ({ type: "i16", value }),
  u32: (value: number): GGUFTypedValue => ({ type: "u32", value }),
  i32: (value: number): GGUFTypedValue => ({ type: "i32", value }),
  f32: (value: number): GGUFTypedValue => ({ type: "f32", value }),
  bool: (value: boolean): GGUFTypedValue => ({ type: "bool", value }),
  str: (value: string): GGUFTypedValue => ({ type: "str", value }),
  u64: (value: bigint | number): GGUFTypedValue => ({ type: "u64", value }),
  i64: (value: bigint | number): GGUFTypedValue => ({ type: "i64", value }),
  f64: (value: number): GGUFTypedValue => ({ type: "f64", value }),
  arr: (of: GGUFKind, items: GGUFRaw[]): GGUFTypedValue => ({ type: "arr", value: { of, items } }),
};

/** Growable little-endian byte sink, for whole files or hand-made malformed fragments. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private grow(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = at + n;
    return at;
  }

  /** Reserves `n` bytes and returns a DataView positioned on them (grow first: it may swap buffers). */
  private at(n: number): [DataView, number] {
    const at = this.grow(n);
    return [this.view, at];
  }

  u8(v: number): this { const [d, at] = this.at(1); d.setUint8(at, v); return this; }
  i8(v: number): this { const [d, at] = this.at(1); d.setInt8(at, v); return this; }
  u16(v: number): this { const [d, at] = this.at(2); d.setUint16(at, v, true); return this; }
  i16(v: number): this { const [d, at] = this.at(2); d.setInt16(at, v, true); return this; }
  u32(v: number): this { const [d, at] = this.at(4); d.setUint32(at, v, true); return this; }
  i32(v: number): this { const [d, at] = this.at(4); d.setInt32(at, v, true); return this; }
  u64(v: bigint | number): this { const [d, at] = this.at(8); d.setBigUint64(at, BigInt(v), true); return this; }
  i64(v: bigint | number): this { const [d, at] = this.at(8); d.setBigInt64(at, BigInt(v), true); return this; }
  f32(v: number): this { const [d, at] = this.at(4); d.setFloat32(at, v, true); return this; }
  f64(v: number): this { const [d, at] = this.at(8); d.setFloat64(at, v, true); return this; }
  bytes(b: Uint8Array): this {
    const at = this.grow(b.length);
    this.buf.set(b, at);
    return this;
  }
  /** GGUF string: u64 byte length + UTF-8 bytes. */
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u64(b.length).bytes(b);
  }
  /** Zero bytes up to a multiple of `alignment`. */
  pad(alignment: number): this {
    const r = this.length % alignment;
    if (r !== 0) this.grow(alignment - r);
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeRaw(w: ByteWriter, kind: GGUFKind, v: GGUFRaw): void {
  switch (kind) {
    case "u8": w.u8(v as number); break;
    case "i8": w.i8(v as number); break;
    case "u16": w.u16(v as number); break;
    case "i16": w.i16(v as number); break;
    case "u32": w.u32(v as number); break;
    case "i32": w.i32(v as number); break;
    case "f32": w.f32(v as number); break;
    case "bool": w.u8(v ? 1 : 0); break;
    case "str": w.str(v as string); break;
    case "u64": w.u64(v as bigint | number); break;
    case "i64": w.i64(v as bigint | number); break;
    case "f64": w.f64(v as number); break;
    case "arr": {
      const a = v as GGUFArray;
      w.u32(GGUF_KIND_IDS[a.of]).u64(a.items.length);
      for (const item of a.items) writeRaw(w, a.of, item);
      break;
    }
  }
}

/** Writes one metadata key/value pair. */
export function writeKV(w: ByteWriter, key: string, v: GGUFTypedValue): void {
  w.str(key).u32(GGUF_KIND_IDS[v.type]);
  writeRaw(w, v.type, v.value);
}

export interface GGUFWriterTensor {
  name: string;
  /** ggml type id (any number, so unknown ids can be written). */
  type: number;
  dims: (number | bigint)[];
  /** Bytes written into the data section for this tensor (may disagree with dims, on purpose). */
  data?: Uint8Array;
  /** Offset written in the tensor info; default: where the data was actually placed. */
  offset?: number | bigint;
}

export interface GGUFWriterOptions {
  magic?: string;
  version?: number;
  metadata?: [string, GGUFTypedValue][];
  tensors?: GGUFWriterTensor[];
  /** Layout alignment; default general.alignment from the metadata when numeric, else 32. */
  alignment?: number;
}

/** Builds a GGUF file. Tensor data are placed in order, each at an aligned offset. */
export function writeGGUF(opts: GGUFWriterOptions = {}): Uint8Array {
  const metadata = opts.metadata ?? [];
  const tensors = opts.tensors ?? [];
  const metaAlign = metadata.find(([k]) => k === "general.alignment")?.[1].value;
  const alignment = opts.alignment ?? (typeof metaAlign === "number" && metaAlign > 0 ? metaAlign : 32);
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode(opts.magic ?? "GGUF"));
  w.u32(opts.version ?? 3);
  w.u64(tensors.length).u64(metadata.length);
  for (const [k, v] of metadata) writeKV(w, k, v);

  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    offsets.push(at);
    at += t.data?.length ?? 0;
    at += (alignment - (at % alignment)) % alignment;
  }
  tensors.forEach((t, i) => {
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(t.offset ?? offsets[i]);
  });
  w.pad(alignment);
  tensors.forEach((t, i) => {
    if (i > 0) w.pad(alignment);
    if (t.data) w.bytes(t.data);
  });
  return w.finish();
}

/** Little-endian bytes of f32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
