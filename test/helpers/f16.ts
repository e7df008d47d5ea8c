/** f32 → f16 bits (round to nearest even; normal range only, enough for test scales). */
export function toF16(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 112, mant = u & 0x7fffff;
  if (e <= 0) return sign;
  let h = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return h;
}
