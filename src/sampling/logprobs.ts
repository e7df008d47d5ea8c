import { dexp, dlog } from "../util/det-math.ts";

/** One candidate token and its log-probability. */
export interface TokenLogprob {
  tokenId: number;
  logprob: number;
}

/** Log-probabilities at one generated position: the sampled token, its rank, and the top candidates. */
export interface PositionLogprobs {
  tokenId: number;
  logprob: number;
  /** 1 + the number of tokens strictly more likely than the sampled one. */
  rank: number;
  /** The `numTop` most likely tokens, most likely first (ties: lower id first). */
  top: TokenLogprob[];
}

/**
 * Log-softmax of the raw logits (before logit bias, penalties and temperature: vLLM's default
 * "raw_logprobs"), reported for the sampled token and the `numTop` most likely ones. Uses the
 * deterministic exp/log so every runtime reports the same numbers.
 */
export function computeLogprobs(raw: ArrayLike<number>, sampledId: number, numTop: number): PositionLogprobs {
  let max = -Infinity;
  for (let i = 0; i < raw.length; i++) if (raw[i]! > max) max = raw[i]!;
  let sum = 0;
  for (let i = 0; i < raw.length; i++) sum += dexp(raw[i]! - max);
  const logZ = max + dlog(sum);
  const sampled = raw[sampledId]!;
  let rank = 1;
  for (let i = 0; i < raw.length; i++) if (raw[i]! > sampled) rank++;
  const top: number[] = [];
  if (numTop > 0) {
    // Insertion into a short sorted list: O(vocab * numTop), fine for numTop <= 20.
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]!;
      if (top.length === numTop && v <= raw[top[top.length - 1]!]!) continue;
      let at = top.length;
      while (at > 0 && raw[top[at - 1]!]! < v) at--;
      top.splice(at, 0, i);
      if (top.length > numTop) top.pop();
    }
  }
  return {
    tokenId: sampledId,
    logprob: sampled - logZ,
    rank,
    top: top.map((id) => ({ tokenId: id, logprob: raw[id]! - logZ })),
  };
}
