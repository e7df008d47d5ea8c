import { describe, expect, it } from "vitest";
import { MergeQueue } from "../../src/tokenizer/merge-queue.ts";

describe("MergeQueue", () => {
  it("pops lowest key first, ties by lowest left, across growth and reset", () => {
    const q = new MergeQueue();
    const entries: [number, number][] = [];
    for (let i = 0; i < 1000; i++) entries.push([(i * 7919) % 37, (i * 104729) % 1000]);
    for (const [key, left] of entries) q.push(key, left, left + 1, 2);
    const popped: [number, number][] = [];
    while (q.pop()) popped.push([entries.find((e) => e[1] === q.left)![0], q.left]);
    const sorted = [...entries].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(popped).toEqual(sorted);
    q.reset();
    expect(q.pop()).toBe(false);
    q.push(-0, 5, 6, 3);
    q.push(0, 2, 3, 4);
    expect(q.pop()).toBe(true);
    expect([q.left, q.right, q.size]).toEqual([2, 3, 4]); // -0 === 0: leftmost wins
  });
});
