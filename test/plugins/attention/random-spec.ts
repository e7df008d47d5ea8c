/** Random conformance shapes from a seed: GQA ratios, head dims 32..128, block sizes, ragged mixes, shared prefixes. */
import { Prng } from "../../../src/sampling/prng.ts";
import type { CaseSpec, ReqSpec } from "./cases.ts";

export function randomSpec(seed: number, opts: { window?: boolean; softCap?: boolean } = {}): CaseSpec {
  const rng = new Prng(seed * 7919 + 13);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.nextFloat() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rng.nextFloat() * (hi - lo + 1));
  const numKvHeads = pick([1, 2, 4]);
  const group = pick([1, 2, 4, 8].filter((g) => g * numKvHeads <= 16));
  const headDim = pick([32, 64, 80, 128]);
  const blockSize = pick([1, 2, 4, 8, 16, 32]);
  // Lengths on and around block boundaries, or anywhere.
  const len = (max: number) => {
    const k = int(0, Math.max(1, Math.floor(max / blockSize)));
    return Math.max(0, Math.min(max, rng.nextFloat() < 0.6 ? k * blockSize + pick([-1, 0, 1]) : int(0, max)));
  };
  const shared = rng.nextFloat() < 0.4;
  const sharedPages = shared ? int(1, Math.max(1, Math.min(3, Math.floor(40 / blockSize)))) : 0;
  const reqs: ReqSpec[] = [];
  const n = int(1, 5);
  for (let i = 0; i < n; i++) {
    const kind = pick(["decode", "decode", "prefill", "chunked"] as const);
    const inGroup = shared && rng.nextFloat() < 0.75;
    const minCtx = inGroup ? sharedPages * blockSize : 0;
    const ctxLen = kind === "prefill" && !inGroup ? 0 : Math.max(minCtx, len(70));
    const qLen = kind === "decode" ? 1 : Math.max(2, len(40));
    reqs.push(inGroup ? { ctxLen, qLen, group: int(0, 1) } : { ctxLen, qLen });
  }
  const spec: CaseSpec = { numHeads: numKvHeads * group, numKvHeads, headDim, blockSize, reqs, sharedPages };
  if (opts.window && rng.nextFloat() < 0.5) spec.slidingWindow = pick([1, 3, blockSize, 2 * blockSize + 1, 17]);
  if (opts.softCap && rng.nextFloat() < 0.5) spec.logitsSoftCap = pick([0.5, 1, 2, 30]);
  return spec;
}
