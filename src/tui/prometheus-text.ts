/**
 * Read engine gauges from a Prometheus text page (GET /metrics) of `llm serve` (llm:*) or vLLM
 * (vllm:*): KV cache usage and the prefix-cache hit rate. Samples of one name are summed over
 * their labels (one model per server).
 */
export interface ScrapedStats {
  kvCacheUsage: number | null;
  prefixCacheHitRate: number | null;
  numRunning: number | null;
  numWaiting: number | null;
}

/** name (without labels) → sum of its samples. */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : m[3]);
    if (Number.isNaN(v)) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + v);
  }
  return out;
}

function first(m: Map<string, number>, names: string[]): number | null {
  for (const n of names) {
    const v = m.get(n);
    if (v !== undefined) return v;
  }
  return null;
}

export function scrapeStats(text: string): ScrapedStats {
  const m = parsePrometheusText(text);
  let hitRate = first(m, ["llm:prefix_cache_hit_rate", "vllm:gpu_prefix_cache_hit_rate"]);
  if (hitRate === null) {
    const hits = first(m, ["vllm:prefix_cache_hits_total", "vllm:prefix_cache_hits", "llm:prefix_cache_hits_total"]);
    const queries = first(m, ["vllm:prefix_cache_queries_total", "vllm:prefix_cache_queries", "llm:prefix_cache_queries_total"]);
    if (hits !== null && queries !== null) hitRate = queries > 0 ? hits / queries : 0;
  }
  return {
    kvCacheUsage: first(m, ["llm:kv_cache_usage_perc", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]),
    prefixCacheHitRate: hitRate,
    numRunning: first(m, ["llm:num_requests_running", "vllm:num_requests_running"]),
    numWaiting: first(m, ["llm:num_requests_waiting", "vllm:num_requests_waiting"]),
  };
}
