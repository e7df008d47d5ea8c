import { describe, expect, it } from "vitest";
import { StopChecker } from "../../src/engine/stop-checker.ts";

function stream(stops: string[], pieces: string[]): { emitted: string[]; text: string; stoppedBy: string | null } {
  const c = new StopChecker(stops);
  const emitted: string[] = [];
  for (const p of pieces) {
    emitted.push(c.push(p));
    if (c.stoppedBy) break;
  }
  if (!c.stoppedBy) emitted.push(c.flush());
  return { emitted, text: emitted.join(""), stoppedBy: c.stoppedBy };
}

describe("StopChecker", () => {
  it("cuts at a stop string split across pieces and never emits any of it", () => {
    const r = stream(["END"], ["hello E", "N", "D more"]);
    expect(r.text).toBe("hello ");
    expect(r.stoppedBy).toBe("END");
    expect(r.emitted.join("")).not.toContain("E");
  });
  it("holds back max(len(stop)) - 1 characters while streaming", () => {
    const c = new StopChecker(["abc"]);
    expect(c.push("xyz")).toBe("x");
    expect(c.push("a")).toBe("y");
    expect(c.push("b")).toBe("z");
    expect(c.push("d")).toBe("a");
    expect(c.flush()).toBe("bd");
  });
  it("releases held-back text at the end when no stop string came", () => {
    expect(stream(["zz"], ["ab", "cz"]).text).toBe("abcz");
  });
  it("earliest of several stop strings wins", () => {
    const r = stream(["b", "ccc"], ["acccb"]);
    expect(r.text).toBe("a");
    expect(r.stoppedBy).toBe("ccc");
  });
  it("without stop strings, streams everything at once", () => {
    const c = new StopChecker([]);
    expect(c.push("abc")).toBe("abc");
  });
  it("never splits a surrogate pair when holding back", () => {
    const c = new StopChecker(["xy"]);
    const out = c.push("a😀");
    expect(out).toBe("a");
    expect(c.flush()).toBe("😀");
  });
});
