/** Summary statistics for benchmark reports (vLLM's benchmark_serving names: p50, p90, p99, mean). */
export interface Summary {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

/** The q-th percentile (0..100) of `xs` with linear interpolation (numpy's default); NaN when empty. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** p50/p90/p99/mean rounded to `digits` decimals; all 0 when there are no samples (JSON has no NaN). */
export function summarize(xs: readonly number[], digits = 3): Summary {
  const r = (x: number) => (Number.isFinite(x) ? round(x, digits) : 0);
  return { p50: r(percentile(xs, 50)), p90: r(percentile(xs, 90)), p99: r(percentile(xs, 99)), mean: r(mean(xs)) };
}

export function round(x: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
