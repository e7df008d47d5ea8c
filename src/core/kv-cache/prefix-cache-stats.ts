/** Prefix-cache lookups counted in tokens, as vLLM's PrefixCacheStats (preempted requests apart). */
export interface PrefixCacheStats {
  /** Requests looked up on first admission. */
  requests: number;
  /** Tokens of those requests (the query size). */
  queries: number;
  /** Tokens found in the cache. */
  hits: number;
  /** Same three for lookups of preempted requests coming back. */
  preemptedRequests: number;
  preemptedQueries: number;
  preemptedHits: number;
}

export function emptyPrefixCacheStats(): PrefixCacheStats {
  return { requests: 0, queries: 0, hits: 0, preemptedRequests: 0, preemptedQueries: 0, preemptedHits: 0 };
}

export function recordPrefixCacheLookup(stats: PrefixCacheStats, numTokens: number, numHits: number, preempted: boolean): void {
  if (preempted) {
    stats.preemptedRequests++;
    stats.preemptedQueries += numTokens;
    stats.preemptedHits += numHits;
  } else {
    stats.requests++;
    stats.queries += numTokens;
    stats.hits += numHits;
  }
}

/** hits / queries over first admissions, 0 when nothing was looked up. */
export function prefixCacheHitRate(stats: PrefixCacheStats): number {
  return stats.queries === 0 ? 0 : stats.hits / stats.queries;
}
