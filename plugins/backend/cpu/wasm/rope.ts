// AssemblyScript: rotary position embedding on the cpu backend (kernels.wasm; not TypeScript).
// @ts-nocheck -- AssemblyScript types (f32, f64, usize); tsc only parses this file.

/**
 * In place over x [n, heads × headDim] (f32): plugins/backend/cpu/kernels.ts rope, operation for
 * operation (each f32 product is exact in f64, the sum rounds in f64, the store rounds to f32),
 * so the bits are the JavaScript loop's. neox 0: pairs (x[2i], x[2i + 1]); 1: (x[i], x[i + half]).
 * cos and sin are [maxPos, rotDim / 2] f32; positions [n] i32.
 */
export function ropeRows(x: usize, positions: usize, cos: usize, sin: usize, neox: i32, rotDim: i32, heads: i32, headDim: i32, n: i32): void {
  const half = rotDim >> 1;
  const step: usize = neox ? 1 : 2, other: usize = neox ? <usize>half : 1;
  for (let t = 0; t < n; t++) {
    const tb = <usize>(load<i32>(positions + (<usize>t << 2)) * half) << 2;
    for (let h = 0; h < heads; h++) {
      const base = x + ((<usize>(t * heads + h) * <usize>headDim) << 2);
      for (let i = 0; i < half; i++) {
        const c = <f64>load<f32>(cos + tb + (<usize>i << 2)), s = <f64>load<f32>(sin + tb + (<usize>i << 2));
        const a = base + ((<usize>i * step) << 2), b = a + (other << 2);
        const x0 = <f64>load<f32>(a), x1 = <f64>load<f32>(b);
        store<f32>(a, <f32>(x0 * c - x1 * s));
        store<f32>(b, <f32>(x0 * s + x1 * c));
      }
    }
  }
}
