/**
 * The priority queue of candidate merges that both BPE loops use: each entry is a pair of adjacent
 * symbols (left, right) with a key and the merged size. Lowest key first; equal keys: lowest left
 * (leftmost) first. Entries live in parallel typed arrays and the heap orders their indices, which is
 * several times faster in JS than a heap of objects. Reusable: reset() before each word.
 */
export class MergeQueue {
  private keys = new Float64Array(256);
  private lefts = new Int32Array(256);
  private rights = new Int32Array(256);
  private sizes = new Int32Array(256);
  private heap = new Int32Array(256);
  private entries = 0;
  private length = 0;

  /** The entry the last successful pop() returned. */
  left = -1;
  right = -1;
  size = 0;

  reset(): void {
    this.entries = 0;
    this.length = 0;
  }

  push(key: number, left: number, right: number, size: number): void {
    const e = this.entries++;
    if (e === this.keys.length) this.grow();
    this.keys[e] = key;
    this.lefts[e] = left;
    this.rights[e] = right;
    this.sizes[e] = size;
    const heap = this.heap;
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.before(e, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = e;
  }

  /** Takes the best entry into left/right/size; false when the queue is empty. */
  pop(): boolean {
    if (this.length === 0) return false;
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap[--this.length]!;
    const n = this.length;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(heap[child + 1]!, heap[child]!)) child++;
      if (!this.before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    this.left = this.lefts[top]!;
    this.right = this.rights[top]!;
    this.size = this.sizes[top]!;
    return true;
  }

  private before(a: number, b: number): boolean {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    return ka < kb || (ka === kb && this.lefts[a]! < this.lefts[b]!);
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const grown = <A extends Float64Array | Int32Array>(a: A, make: (n: number) => A): A => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.keys = grown(this.keys, (k) => new Float64Array(k));
    this.lefts = grown(this.lefts, (k) => new Int32Array(k));
    this.rights = grown(this.rights, (k) => new Int32Array(k));
    this.sizes = grown(this.sizes, (k) => new Int32Array(k));
    this.heap = grown(this.heap, (k) => new Int32Array(k));
  }
}

/**
 * Pop merges best-first until none is left: symbols live in a linked list (prev/next over start
 * indices, len 0 = merged away); a popped pair whose sizes changed since it was queued is stale and
 * skipped. After each merge, `tryAdd` queues the new neighbouring pairs. Shared by SPM and BPE.
 */
export function applyMerges(
  queue: MergeQueue, len: number[], prev: number[], next: number[], tryAdd: (left: number, right: number) => void,
): void {
  while (queue.pop()) {
    const { left, right, size } = queue;
    if (len[left] === 0 || len[right] === 0 || len[left]! + len[right]! !== size) continue;
    len[left] = size;
    len[right] = 0;
    next[left] = next[right]!;
    if (next[right]! >= 0) prev[next[right]!] = left;
    tryAdd(prev[left]!, left);
    tryAdd(left, next[left]!);
  }
}
