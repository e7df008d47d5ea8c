import type { Request } from "../request.ts";
import type { SchedulingPolicy } from "./config.ts";

/** The waiting queue (vLLM's RequestQueue): FCFS deque or priority heap. */
export interface RequestQueue extends Iterable<Request> {
  readonly size: number;
  /** A new arrival. */
  add(request: Request): void;
  /** A preempted request going back: the front for FCFS, its key's place for priority. */
  prepend(request: Request): void;
  /** The next request to admit, without removing it. */
  peek(): Request | undefined;
  pop(): Request | undefined;
  /** Remove a request from anywhere (abort); false if absent. */
  remove(request: Request): boolean;
}

/** Order of the priority policy: lower priority value, then earlier arrival, then request id. */
export function comparePriority(a: Request, b: Request): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  if (a.arrivalTime !== b.arrivalTime) return a.arrivalTime - b.arrivalTime;
  return a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0;
}

/** First come, first served; preempted requests jump to the front. */
export class FcfsRequestQueue implements RequestQueue {
  private items: Request[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }
  add(request: Request): void {
    this.items.push(request);
  }
  prepend(request: Request): void {
    if (this.head > 0) this.items[--this.head] = request;
    else this.items.unshift(request);
  }
  peek(): Request | undefined {
    return this.items[this.head];
  }
  pop(): Request | undefined {
    if (this.size === 0) return undefined;
    const r = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Request;
    if (this.head > 1024 && this.head * 2 > this.items.length) this.compact();
    return r;
  }
  remove(request: Request): boolean {
    const i = this.items.indexOf(request, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  *[Symbol.iterator](): Iterator<Request> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
  private compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}

/** Binary min-heap on comparePriority; a preempted request simply re-enters at its key. */
export class PriorityRequestQueue implements RequestQueue {
  private readonly heap: Request[] = [];

  get size(): number {
    return this.heap.length;
  }
  add(request: Request): void {
    this.heap.push(request);
    this.siftUp(this.heap.length - 1);
  }
  prepend(request: Request): void {
    this.add(request);
  }
  peek(): Request | undefined {
    return this.heap[0];
  }
  pop(): Request | undefined {
    if (this.heap.length === 0) return undefined;
    const top = this.heap[0]!;
    this.removeAt(0);
    return top;
  }
  remove(request: Request): boolean {
    const i = this.heap.indexOf(request);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }
  /** In priority order (sorts a copy). */
  *[Symbol.iterator](): Iterator<Request> {
    yield* this.heap.slice().sort(comparePriority);
  }

  private removeAt(i: number): void {
    const last = this.heap.pop()!;
    if (i === this.heap.length) return;
    this.heap[i] = last;
    this.siftDown(i);
    this.siftUp(i);
  }
  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (comparePriority(h[i]!, h[p]!) >= 0) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && comparePriority(h[l]!, h[m]!) < 0) m = l;
      if (r < h.length && comparePriority(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

export function createRequestQueue(policy: SchedulingPolicy): RequestQueue {
  return policy === "priority" ? new PriorityRequestQueue() : new FcfsRequestQueue();
}
