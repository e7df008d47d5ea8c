/**
 * Deterministic elementary functions built only from IEEE-754 +, -, *, / (which every JS engine
 * rounds identically). Math.exp/sin/cos/pow are not required to be correctly rounded and differ
 * between V8 (Node, Deno) and JavaScriptCore (Bun) in the last bit; using these instead makes the
 * same model, prompt and seed give the same logits and text on every runtime.
 * Accuracy: within a few ulp of the true value over the ranges a model uses.
 */

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;

/** 2^k for k in [-1074, 1023], built by exact doubling/halving. Constant table. */
const POW2: Float64Array = (() => {
  const t = new Float64Array(1023 + 1074 + 1);
  let v = 1;
  for (let k = 0; k <= 1023; k++) { t[k + 1074] = v; v *= 2; }
  v = 1;
  for (let k = 0; k >= -1074; k--) { t[k + 1074] = v; v /= 2; }
  return t;
})();

function pow2i(k: number): number {
  if (k > 1023) return Infinity;
  if (k < -1074) return 0;
  return POW2[k + 1074]!;
}

/** e^x. */
export function dexp(x: number): number {
  if (x !== x) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x * INV_LN2);
  const r = (x - k * LN2_HI) - k * LN2_LO; // |r| <= ~0.347
  // Taylor series of e^r to degree 14, Horner form: error < 1e-17 on |r| <= 0.35.
  let p = 1 / 87178291200;
  p = p * r + 1 / 6227020800;
  p = p * r + 1 / 479001600;
  p = p * r + 1 / 39916800;
  p = p * r + 1 / 3628800;
  p = p * r + 1 / 362880;
  p = p * r + 1 / 40320;
  p = p * r + 1 / 5040;
  p = p * r + 1 / 720;
  p = p * r + 1 / 120;
  p = p * r + 1 / 24;
  p = p * r + 1 / 6;
  p = p * r + 0.5;
  p = p * r + 1;
  p = p * r + 1;
  if (k < -1000) return (p * pow2i(k + 200)) * pow2i(-200);
  return p * pow2i(k);
}

const SCRATCH = new DataView(new ArrayBuffer(8));

/** Natural log for x > 0 (used off the hot path: RoPE frequencies). */
export function dlog(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  let m = x;
  if (m < 2.2250738585072014e-308) { m *= 18014398509481984; e -= 54; } // subnormal: scale by 2^54
  SCRATCH.setFloat64(0, m);
  const hi = SCRATCH.getUint32(0);
  e += ((hi >>> 20) & 0x7ff) - 1023;
  SCRATCH.setUint32(0, (hi & 0x800fffff) | (1023 << 20));
  m = SCRATCH.getFloat64(0); // in [1, 2)
  if (m > 1.4142135623730951) { m /= 2; e += 1; } // m in [0.707, 1.414]
  const s = (m - 1) / (m + 1); // |s| <= 0.1716
  const s2 = s * s;
  let term = s;
  let sum = 0;
  for (let n = 1; n < 40; n += 2) { sum += term / n; term *= s2; }
  return 2 * sum + e * LN2_HI + e * LN2_LO;
}

/** base^exponent for base > 0. */
export function dpow(base: number, exponent: number): number {
  if (exponent === 0) return 1;
  return dexp(exponent * dlog(base));
}

// pi/2 split in three parts for Cody-Waite reduction (fdlibm's constants).
const PIO2_1 = 1.57079632673412561417e+00;
const PIO2_2T = 2.02226624879595063154e-21;
const PIO2_2 = 6.07710050630396597660e-11;
const INV_PIO2 = 6.36619772367581382433e-01;


function sinKernel(r: number): number {
  const r2 = r * r;
  // sin r = r * (1 - r2/3! + r2^2/5! - ...), Horner with alternating signs, to r^19.
  let p = -1 / 121645100408832000;
  p = p * r2 + 1 / 355687428096000;
  p = p * r2 - 1 / 1307674368000;
  p = p * r2 + 1 / 6227020800;
  p = p * r2 - 1 / 39916800;
  p = p * r2 + 1 / 362880;
  p = p * r2 - 1 / 5040;
  p = p * r2 + 1 / 120;
  p = p * r2 - 1 / 6;
  return r + r * r2 * p;
}

function cosKernel(r: number): number {
  const r2 = r * r;
  // cos r = 1 - r2/2! + r2^2/4! - ..., to r^20.
  let p = 1 / 2432902008176640000;
  p = p * r2 - 1 / 6402373705728000;
  p = p * r2 + 1 / 20922789888000;
  p = p * r2 - 1 / 87178291200;
  p = p * r2 + 1 / 479001600;
  p = p * r2 - 1 / 3628800;
  p = p * r2 + 1 / 40320;
  p = p * r2 - 1 / 720;
  p = p * r2 + 1 / 24;
  p = p * r2 - 0.5;
  return 1 + r2 * p;
}

/** Reduce x to r in [-pi/4, pi/4] with quadrant n (mod 4). Accurate for |x| up to ~1e9. */
function reduce(x: number): [number, number] {
  const n = Math.round(x * INV_PIO2);
  // Cody-Waite: pi/2 = PIO2_1 + PIO2_2 + PIO2_2T, each product n*PIO2_k exact for |n| < 2^20.
  const r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_2T;
  return [r, ((n % 4) + 4) % 4];
}

export function dsin(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const [r, q] = reduce(x);
  switch (q) {
    case 0: return sinKernel(r);
    case 1: return cosKernel(r);
    case 2: return -sinKernel(r);
    default: return -cosKernel(r);
  }
}

export function dcos(x: number): number {
  if (!Number.isFinite(x)) return NaN;
  const [r, q] = reduce(x);
  switch (q) {
    case 0: return cosKernel(r);
    case 1: return -sinKernel(r);
    case 2: return -cosKernel(r);
    default: return sinKernel(r);
  }
}
