// AssemblyScript: greedy sampling on the cpu backend (kernels.wasm; not TypeScript).
// @ts-nocheck -- AssemblyScript types (v128, f32, usize); tsc only parses this file.

/**
 * The index of the largest of the len f32 values at p, as src/sampling/sampler.ts argmax
 * computes it: the first index holding the maximum of the values that are not NaN (a NaN never
 * compares larger), and 0 when the first value is NaN (nothing compares larger than it) or the
 * maximum is -Infinity. Four lanes keep the first index of their own maximum (indices ≡ lane mod
 * 4, strictly greater only), then the lanes holding the overall maximum give their smallest index,
 * then the tail is compared one value at a time.
 */
function argmaxRow(p: usize, len: i32): i32 {
  if (len <= 0) return 0;
  const v0 = load<f32>(p);
  if (v0 != v0) return 0;
  const len4 = len & ~3;
  let bv = f32x4.splat(-Infinity), bi = i32x4.splat(-1), idx = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  for (let i = 0; i < len4; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const gt = f32x4.gt(v, bv);
    bv = v128.bitselect(v, bv, gt);
    bi = v128.bitselect(idx, bi, gt);
    idx = i32x4.add(idx, four);
  }
  let best: f32 = -Infinity, at: i32 = 0;
  for (let l = 0; l < 4; l++) {
    const v = l == 0 ? f32x4.extract_lane(bv, 0) : l == 1 ? f32x4.extract_lane(bv, 1) : l == 2 ? f32x4.extract_lane(bv, 2) : f32x4.extract_lane(bv, 3);
    const j = l == 0 ? i32x4.extract_lane(bi, 0) : l == 1 ? i32x4.extract_lane(bi, 1) : l == 2 ? i32x4.extract_lane(bi, 2) : i32x4.extract_lane(bi, 3);
    if (j >= 0 && (v > best || (v == best && j < at))) { best = v; at = j; }
  }
  for (let i = len4; i < len; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (v > best) { best = v; at = i; }
  }
  return best == -Infinity ? 0 : at;
}

/** ids[r] (i32) = argmaxRow of row r of x [n, len] (f32), for r < n. */
export function argmaxRows(ids: usize, x: usize, n: i32, len: i32): void {
  for (let r = 0; r < n; r++) store<i32>(ids + (<usize>r << 2), argmaxRow(x + ((<usize>r * <usize>len) << 2), len));
}
