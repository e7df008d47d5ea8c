import { ModelFileError } from "../../util/errors.ts";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A bounds-checked little-endian cursor over a byte buffer. Every read past the end throws
 * ModelFileError(file, "truncated header: ... at byte N of M"); lengths and counts read from the
 * file are checked against the bytes that remain before anything is allocated.
 */
export class ByteReader {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Current read position, in bytes from the start of `bytes`. */
  pos = 0;
  /** Prefix of the error for a read past the end ("truncated header"). */
  private readonly truncated: string;
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder("utf-8");

  constructor(file: string, bytes: Uint8Array, truncated = "truncated header") {
    this.file = file;
    this.bytes = bytes;
    this.truncated = truncated;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  /** A ModelFileError for this reader's file. */
  error(problem: string): ModelFileError {
    return new ModelFileError(this.file, problem);
  }

  /** Checks that `n` more bytes are available for `what`, returns the position to read them at. */
  take(n: number, what: string): number {
    const at = this.pos;
    if (n > this.remaining) {
      throw this.error(`${this.truncated}: need ${n} bytes for ${what} at byte ${at} of ${this.length}`);
    }
    this.pos = at + n;
    return at;
  }

  u8(what = "u8"): number {
    return this.view.getUint8(this.take(1, what));
  }
  i8(what = "i8"): number {
    return this.view.getInt8(this.take(1, what));
  }
  u16(what = "u16"): number {
    return this.view.getUint16(this.take(2, what), true);
  }
  i16(what = "i16"): number {
    return this.view.getInt16(this.take(2, what), true);
  }
  u32(what = "u32"): number {
    return this.view.getUint32(this.take(4, what), true);
  }
  i32(what = "i32"): number {
    return this.view.getInt32(this.take(4, what), true);
  }
  u64(what = "u64"): bigint {
    return this.view.getBigUint64(this.take(8, what), true);
  }
  i64(what = "i64"): bigint {
    return this.view.getBigInt64(this.take(8, what), true);
  }
  f32(what = "f32"): number {
    return this.view.getFloat32(this.take(4, what), true);
  }
  f64(what = "f64"): number {
    return this.view.getFloat64(this.take(8, what), true);
  }
  /** A one-byte bool (any non-zero byte is true, as ggml reads it). */
  bool(what = "bool"): boolean {
    return this.u8(what) !== 0;
  }

  /** A u64 that must fit a JS number exactly (a size, dimension or offset). */
  u64Number(what = "u64"): number {
    const at = this.pos;
    const v = this.u64(what);
    if (v > MAX_SAFE) throw this.error(`${what} ${v} at byte ${at} is too large`);
    return Number(v);
  }

  /**
   * Reads a u64 element count and checks that `count * minElemBytes` bytes remain, so a corrupt count
   * fails here instead of in an allocation. Throws "array of N elements at byte X runs past end of file".
   */
  count(minElemBytes: number, what = "array", context?: string): number {
    const at = this.pos;
    return this.checkCount(this.u64(`length of ${context ?? what}`), at, minElemBytes, what, context);
  }

  /** The check of `count`, for a count read earlier at byte `at` (elements start at the current position). */
  checkCount(n: bigint, at: number, minElemBytes: number, what = "array", context?: string): number {
    if (n * BigInt(minElemBytes) > BigInt(this.remaining) || n > MAX_SAFE) {
      const ctx = context ? `; reading ${context}` : "";
      throw this.error(
        `truncated or corrupt file: ${what} of ${n} elements at byte ${at} runs past end of file (${this.length} bytes${ctx})`,
      );
    }
    return Number(n);
  }

  /** A GGUF string: u64 byte length, then that many UTF-8 bytes. */
  string(what = "string"): string {
    const at = this.pos;
    const n = this.u64(`length of ${what}`);
    if (n > BigInt(this.remaining)) {
      throw this.error(
        `truncated or corrupt file: string of ${n} bytes at byte ${at} runs past end of file (${this.length} bytes; reading ${what})`,
      );
    }
    return this.stringBytes(Number(n), what);
  }

  /** `n` bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  stringBytes(n: number, what = "string"): string {
    const at = this.take(n, what);
    return this.utf8.decode(this.bytes.subarray(at, at + n));
  }

  /** A view (no copy) of the next `n` bytes. */
  subarray(n: number, what = "bytes"): Uint8Array {
    const at = this.take(n, what);
    return this.bytes.subarray(at, at + n);
  }
}

/** `n` rounded up to a multiple of `alignment` (a power of two or any positive integer). */
export function alignUp(n: number, alignment: number): number {
  const r = n % alignment;
  return r === 0 ? n : n + (alignment - r);
}
