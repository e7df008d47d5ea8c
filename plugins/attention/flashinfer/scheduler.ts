/**
 * Split-KV partition scheduling, after FlashInfer's plan: when there are fewer requests than
 * parallel lanes, split each request's KV into chunks so the lanes fill up, picking the smallest
 * chunk (binary search) whose total number of partitions still fits the lanes. Partitions are then
 * assigned to lanes longest-first (LPT). On the CPU today the lanes run one after another; each
 * partition writes its own state slot and the merge order is fixed, so results do not depend on
 * the number of lanes or the order they run in.
 */

/**
 * Chunk length in pages for requests of `pages[i]` pages, or 0 for "do not split". Splits only when
 * the requests alone do not occupy `maxPartitions` lanes.
 */
export function searchKvChunkPages(pages: readonly number[], maxPartitions: number, minChunkPages: number): number {
  const longest = pages.reduce((a, b) => Math.max(a, b), 0);
  if (pages.length === 0 || pages.length >= maxPartitions || longest <= minChunkPages) return 0;
  const count = (c: number) => pages.reduce((s, p) => s + Math.ceil(p / c), 0);
  let lo = Math.max(1, minChunkPages), hi = longest;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(mid) <= maxPartitions) hi = mid;
    else lo = mid + 1;
  }
  return lo >= longest ? 0 : lo;
}

/** Longest-processing-time assignment of partitions (by cost) to `numWorkers` lanes; each lane's list ascending. */
export function assignToWorkers(costs: readonly number[], numWorkers: number): Int32Array[] {
  const order = costs.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const load = new Float64Array(numWorkers);
  const lists: number[][] = Array.from({ length: numWorkers }, () => []);
  for (const [c, i] of order) {
    let w = 0;
    for (let j = 1; j < numWorkers; j++) if (load[j]! < load[w]!) w = j;
    load[w] = load[w]! + c;
    lists[w]!.push(i);
  }
  return lists.map((l) => Int32Array.from(l.sort((a, b) => a - b)));
}
