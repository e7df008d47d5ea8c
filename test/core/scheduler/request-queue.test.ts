import { describe, expect, it } from "vitest";
import { FcfsRequestQueue, PriorityRequestQueue } from "../../../src/core/scheduler/request-queue.ts";
import { makeRequest } from "../helpers/make-request.ts";
import { Rng } from "../helpers/prng.ts";

const ids = (q: Iterable<{ requestId: string }>) => [...q].map((r) => r.requestId);

describe("request queues", () => {
  it("FCFS: arrivals at the back, preempted at the front", () => {
    const q = new FcfsRequestQueue();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((id) => makeRequest(id, [1]));
    q.add(a!);
    q.add(b!);
    q.add(c!);
    expect(q.pop()).toBe(a);
    q.prepend(d!);
    expect(ids(q)).toEqual(["d", "b", "c"]);
    expect(q.remove(b!)).toBe(true);
    expect(q.remove(b!)).toBe(false);
    expect(ids(q)).toEqual(["d", "c"]);
    expect(q.peek()).toBe(d);
    expect(q.size).toBe(2);
  });

  it("FCFS stays a queue over many operations", () => {
    const q = new FcfsRequestQueue();
    const model: string[] = [];
    const rng = new Rng(3);
    for (let i = 0; i < 5000; i++) {
      const op = rng.int(0, 3);
      if (op <= 1) {
        const r = makeRequest(`r${i}`, [1]);
        q.add(r);
        model.push(r.requestId);
      } else if (op === 2) {
        expect(q.pop()?.requestId).toBe(model.shift());
      } else if (model.length > 0) {
        const r = makeRequest(`p${i}`, [1]);
        q.prepend(r);
        model.unshift(r.requestId);
      }
    }
    expect(ids(q)).toEqual(model);
  });

  it("priority: lower value first, then earlier arrival, then id; preempted re-enter by key", () => {
    const q = new PriorityRequestQueue();
    const rs = [
      makeRequest("x", [1], { priority: 1, arrivalTime: 0 }),
      makeRequest("y", [1], { priority: 0, arrivalTime: 5 }),
      makeRequest("z", [1], { priority: 0, arrivalTime: 2 }),
      makeRequest("w", [1], { priority: 0, arrivalTime: 2 }),
    ];
    for (const r of rs) q.add(r);
    expect(ids(q)).toEqual(["w", "z", "y", "x"]);
    expect(q.pop()?.requestId).toBe("w");
    q.prepend(rs[3]!);
    expect(q.peek()?.requestId).toBe("w");
    expect(q.remove(rs[2]!)).toBe(true);
    const popped: string[] = [];
    for (let r = q.pop(); r; r = q.pop()) popped.push(r.requestId);
    expect(popped).toEqual(["w", "y", "x"]);
  });
});
