/**
 * FP8 formats (OCP 8-bit floating point, as torch.float8_e4m3fn and torch.float8_e5m2).
 *
 * - e4m3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities; S.1111.111 is NaN;
 *   largest finite 448 (0x7E); smallest subnormal 2^-9.
 * - e5m2: 1 sign, 5 exponent (bias 15), 2 mantissa bits; IEEE-like (0x7C = inf, 0x7D..0x7F NaN);
 *   largest finite 57344 (0x7B); smallest subnormal 2^-16.
 *
 * Decoding is a 256-entry table (exact). Encoding rounds to nearest, ties to even, and saturates:
 * finite values and infinities beyond the largest finite map to ±max (CUDA's "satfinite"); NaN
 * stays NaN.
 */
export type Fp8Format = "e4m3" | "e5m2";

interface Fp8Spec {
  mantBits: number;
  bias: number;
  /** Largest finite code without the sign bit. */
  maxCode: number;
  nanCode: number;
  hasInf: boolean;
}

const SPECS: Record<Fp8Format, Fp8Spec> = {
  e4m3: { mantBits: 3, bias: 7, maxCode: 0x7e, nanCode: 0x7f, hasInf: false },
  e5m2: { mantBits: 2, bias: 15, maxCode: 0x7b, nanCode: 0x7f, hasInf: true },
};

function decodeCode(code: number, s: Fp8Spec): number {
  const sign = code & 0x80 ? -1 : 1;
  const mag = code & 0x7f;
  const m = s.mantBits;
  const exp = mag >>> m;
  const mant = mag & ((1 << m) - 1);
  if (!s.hasInf && mag === 0x7f) return NaN;
  if (s.hasInf && exp === (0x7f >>> m)) return mant === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * mant * 2 ** (1 - s.bias - m);
  return sign * ((1 << m) + mant) * 2 ** (exp - s.bias - m);
}

function table(f: Fp8Format): Float32Array {
  const t = new Float32Array(256);
  for (let c = 0; c < 256; c++) t[c] = decodeCode(c, SPECS[f]);
  return t;
}

/** Value of each e4m3fn code. */
export const E4M3_TABLE: Float32Array = table("e4m3");
/** Value of each e5m2 code. */
export const E5M2_TABLE: Float32Array = table("e5m2");
export const FP8_TABLES: Record<Fp8Format, Float32Array> = { e4m3: E4M3_TABLE, e5m2: E5M2_TABLE };
/** Largest finite magnitude of each format. */
export const FP8_MAX: Record<Fp8Format, number> = { e4m3: 448, e5m2: 57344 };

/** Round-half-to-even of a non-negative number. */
function rne(v: number): number {
  const r = Math.floor(v);
  const frac = v - r;
  return frac > 0.5 || (frac === 0.5 && r % 2 === 1) ? r + 1 : r;
}

/** The fp8 code nearest to `x` (ties to even), saturating to ±max. */
export function encodeFp8(x: number, f: Fp8Format): number {
  const s = SPECS[f];
  if (Number.isNaN(x)) return s.nanCode;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  const minExp = 1 - s.bias; // exponent of the smallest normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let code: number;
  if (e < minExp) {
    // Subnormal: quantum 2^(minExp - m); a carry to 2^m lands exactly on the smallest normal's code.
    code = rne(a / 2 ** (minExp - s.mantBits));
  } else {
    // Normal: (1.mant) * 2^e; a mantissa carry rolls into the exponent field, as in the bit pattern.
    const m = rne(a / 2 ** (e - s.mantBits)) - (1 << s.mantBits);
    code = ((e + s.bias) << s.mantBits) + m;
  }
  if (code > s.maxCode || !Number.isFinite(a)) code = s.maxCode;
  return sign | code;
}

/**
 * The fp8 code of the f32 whose bits are `bits` (a u32): the same rounding as encodeFp8, done on the
 * bit pattern with integer shifts (the fast path for whole tensors).
 */
export function encodeFp8Bits(bits: number, f: Fp8Format): number {
  const s = SPECS[f];
  const sign = (bits >>> 24) & 0x80;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? s.nanCode : sign | s.maxCode;
  if (exp === 0) return sign; // f32 subnormals are far below half the smallest fp8 subnormal
  const e = exp - 127;
  const m24 = mant | 0x800000;
  const minExp = 1 - s.bias;
  // Keep mantBits bits after the leading one (normal) or align to the subnormal quantum.
  const shift = e < minExp ? 23 - s.mantBits + (minExp - e) : 23 - s.mantBits;
  if (shift > 24) return sign; // below half the smallest subnormal (m24 < 2^24 <= half)
  let q = m24 >>> shift;
  const rem = m24 & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q++;
  let code = e < minExp ? q : ((e + s.bias) << s.mantBits) + (q - (1 << s.mantBits));
  if (code > s.maxCode) code = s.maxCode;
  return sign | code;
}

/**
 * Encodes `src` into fp8 codes, each value divided by `scale` first. The quotient is rounded to f32
 * (as torch computes x / scale in f32) and then encoded exactly from its bits.
 */
export function encodeFp8Array(src: Float32Array, f: Fp8Format, scale = 1, out = new Uint8Array(src.length)): Uint8Array {
  const inv = scale === 0 ? 0 : 1 / scale;
  const tmp = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) tmp[i] = src[i]! * inv;
  const bits = new Uint32Array(tmp.buffer);
  for (let i = 0; i < src.length; i++) out[i] = encodeFp8Bits(bits[i]!, f);
  return out;
}
