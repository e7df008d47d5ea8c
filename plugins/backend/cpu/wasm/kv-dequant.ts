// AssemblyScript source (part of ops.wasm, exported from ops.ts; not TypeScript).
// Decoding of the 8-bit KV caches (int8, fp8; src/quant/kv-cache.ts) into f32 rows, with the bits
// of KvCacheQuantizer.load: code · scale, a product exact in f64 and so the same as the f32 one.

// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.

/**
 * Rows i = 0..n-1 of dst (numKvHeads · headDim f32 each) from cache token slots[i] (i32; a negative
 * slot leaves the row as it is). Per head: `codeWords` words of codes (byte d = element d) and the
 * f32 scale, `wordsPerHead` words in all. fp8Table: the address of the 256 e4m3 values (f32), or 0
 * for int8 codes.
 */
export function dequantKv8(dst: usize, cache: usize, slots: usize, n: i32, numKvHeads: i32, headDim: i32, wordsPerHead: i32, codeWords: i32, fp8Table: usize): void {
  const d4 = headDim & ~3, rowBytes = <usize>(numKvHeads * headDim) << 2;
  for (let i = 0; i < n; i++) {
    const slot = load<i32>(slots + (<usize>i << 2));
    if (slot < 0) continue;
    const row = dst + <usize>i * rowBytes;
    for (let h = 0; h < numKvHeads; h++) {
      const w = cache + ((<usize>slot * <usize>numKvHeads + <usize>h) * <usize>wordsPerHead << 2);
      const scale = load<f32>(w + (<usize>codeWords << 2));
      const o = row + (<usize>(h * headDim) << 2);
      if (fp8Table == 0) {
        const sv = f32x4.splat(scale);
        let d = 0;
        for (; d < d4; d += 4) {
          const c = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(w + <usize>d))));
          v128.store(o + (<usize>d << 2), f32x4.mul(c, sv));
        }
        for (; d < headDim; d++) store<f32>(o + (<usize>d << 2), <f32>load<i8>(w + <usize>d) * scale);
      } else {
        for (let d = 0; d < headDim; d++) store<f32>(o + (<usize>d << 2), load<f32>(fp8Table + (<usize>load<u8>(w + <usize>d) << 2)) * scale);
      }
    }
  }
}
