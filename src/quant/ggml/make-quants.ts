/**
 * Scale searches of llama.cpp's reference k-quant quantizers (ggml-quants.c: make_qx_quants with
 * rmse_type 1 and no weights, make_qkx2_quants), rewritten. Arithmetic is in f64, so codes can
 * differ from llama.cpp's f32 results on rare ties; the formats are the same.
 */

/** Round half to even (what llama.cpp's nearest_int does through the 1.5 * 2^23 trick). */
export function nearestInt(v: number): number {
  const r = Math.floor(v);
  const f = v - r;
  return f > 0.5 || (f === 0.5 && r % 2 !== 0) ? r + 1 : r;
}

const GROUP_MAX_EPS = 1e-15;

/**
 * Symmetric codes L[i] in [0, 2*nmax) (value (L - nmax) * scale) for x[0..n), choosing the scale
 * by least squares weighted with x² over 19 candidate steps. Returns the scale.
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  let max = 0, amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) { amax = ax; max = x[xo + i]!; }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  const pass = (iscale: number, store: boolean): [number, number] => {
    let sumlx = 0, suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xv = x[xo + i]!;
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * xv)));
      if (store) L[lo + i] = l + nmax;
      const w = xv * xv;
      sumlx += w * xv * l;
      suml2 += w * l * l;
    }
    return [sumlx, suml2];
  };
  let [sumlx, suml2] = pass(-nmax / max, true);
  let scale = suml2 ? sumlx / suml2 : 0;
  let best = scale * sumlx;
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    const iscale = -(nmax + 0.1 * is) / max;
    [sumlx, suml2] = pass(iscale, false);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      pass(iscale, true);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

/**
 * Asymmetric codes L[i] in [0, nmax] (value L * scale - min) for x[0..n) with importance
 * `weights`, searching nstep + 1 scales around nmax / (max - min). Returns [scale, min] with min >= 0.
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, xo: number, weights: Float64Array, L: Uint8Array, lo: number,
  rmin: number, rdelta: number, nstep: number,
): [number, number] {
  let min = x[xo]!, max = x[xo]!;
  let sumW = 0, sumX = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sumW += weights[i]!;
    sumX += weights[i]! * v;
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return [0, -min];
  }
  let iscale = nmax / (max - min);
  let scale = 1 / iscale;
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i]! - min))));
    L[lo + i] = l;
    const diff = scale * l + min - x[xo + i]!;
    bestError += weights[i]! * diff * diff;
  }
  const aux = new Uint8Array(n);
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    let sumL = 0, sumL2 = 0, sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i]! - min))));
      aux[i] = l;
      const w = weights[i]!;
      sumL += w * l;
      sumL2 += w * l * l;
      sumXL += w * l * x[xo + i]!;
    }
    const D = sumW * sumL2 - sumL * sumL;
    if (D <= 0) continue;
    let thisScale = (sumW * sumXL - sumX * sumL) / D;
    let thisMin = (sumL2 * sumX - sumL * sumXL) / D;
    if (thisMin > 0) {
      thisMin = 0;
      thisScale = sumXL / sumL2;
    }
    let err = 0;
    for (let i = 0; i < n; i++) {
      const diff = thisScale * aux[i]! + thisMin - x[xo + i]!;
      err += weights[i]! * diff * diff;
    }
    if (err < bestError) {
      for (let i = 0; i < n; i++) L[lo + i] = aux[i]!;
      bestError = err;
      scale = thisScale;
      min = thisMin;
    }
  }
  return [scale, -min];
}
