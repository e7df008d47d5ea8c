/**
 * Attention states (FlashInfer's "attention state" algebra): the attention of a query over one KV
 * segment is (o, lse) with o the softmax-weighted V and lse the log-sum-exp of its scores. Two
 * segments' states merge exactly into the state of their union:
 *   lse = log(e^lse_a + e^lse_b),  o = (e^(lse_a - lse) o_a + e^(lse_b - lse) o_b).
 * An empty segment is (0, -inf), the identity of the merge. Natural logarithms throughout.
 */
import { dexp, dlog } from "../../../src/util/det-math.ts";
import type { TileState } from "./kernel.ts";

/** States of many (row, head) pairs: o [count, headDim], lse [count]. */
export class StateBuffer {
  o = new Float64Array(0);
  lse = new Float64Array(0);
  ensure(count: number, headDim: number): void {
    if (this.lse.length < count) this.lse = new Float64Array(count);
    if (this.o.length < count * headDim) this.o = new Float64Array(count * headDim);
  }
}

/** Finalize tile lane `lane` (online softmax: o = acc / l, lse = m + log l) into state index `dst`. */
export function finalizeLane(st: TileState, lane: number, headDim: number, out: StateBuffer, dst: number): void {
  const l = st.l[lane]!, oo = dst * headDim, ao = lane * headDim;
  if (l === 0) {
    out.lse[dst] = -Infinity;
    out.o.fill(0, oo, oo + headDim);
    return;
  }
  const inv = 1 / l;
  for (let d = 0; d < headDim; d++) out.o[oo + d] = st.acc[ao + d]! * inv;
  out.lse[dst] = st.m[lane]! + dlog(l);
}

/** merge_state_in_place: state `a` of buffer A absorbs state `b` of buffer B. */
export function mergeStateInPlace(A: StateBuffer, a: number, B: StateBuffer, b: number, headDim: number): void {
  const sa = A.lse[a]!, sb = B.lse[b]!;
  if (sb === -Infinity) return;
  const ao = a * headDim, bo = b * headDim;
  if (sa === -Infinity) {
    A.lse[a] = sb;
    for (let d = 0; d < headDim; d++) A.o[ao + d] = B.o[bo + d]!;
    return;
  }
  const m = sa > sb ? sa : sb;
  const wa = dexp(sa - m), wb = dexp(sb - m), sum = wa + wb;
  const fa = wa / sum, fb = wb / sum;
  for (let d = 0; d < headDim; d++) A.o[ao + d] = fa * A.o[ao + d]! + fb * B.o[bo + d]!;
  A.lse[a] = m + dlog(sum);
}
