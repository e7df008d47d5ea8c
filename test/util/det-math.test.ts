import { describe, expect, it } from "vitest";
import { dcos, dexp, dlog, dpow, dsin } from "../../src/util/det-math.ts";
import { Prng } from "../../src/sampling/prng.ts";

describe("deterministic math agrees with Math.* to a few ulp", () => {
  const r = new Prng(9);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  it("exp over [-700, 700] and its edges", () => {
    for (let i = 0; i < 20000; i++) { const x = (r.nextFloat() - 0.5) * 1400; expect(rel(dexp(x), Math.exp(x))).toBeLessThan(1e-15); }
    expect(dexp(0)).toBe(1);
    expect(dexp(1000)).toBe(Infinity);
    expect(dexp(-1000)).toBe(0);
    expect(Number.isNaN(dexp(NaN))).toBe(true);
  });
  it("log and pow", () => {
    for (let i = 0; i < 20000; i++) { const x = r.nextFloat() * 1e6 + 1e-9; expect(Math.abs(dlog(x) - Math.log(x))).toBeLessThan(1e-14 * Math.max(1, Math.abs(Math.log(x)))); }
    expect(rel(dpow(10000, -0.25), 0.1)).toBeLessThan(1e-15);
    expect(rel(dpow(500000, 0.5), Math.sqrt(500000))).toBeLessThan(1e-14);
  });
  it("sin and cos up to RoPE angles of 1e6", () => {
    for (let i = 0; i < 20000; i++) {
      const x = (r.nextFloat() - 0.5) * 2e6;
      expect(Math.abs(dsin(x) - Math.sin(x))).toBeLessThan(1e-10);
      expect(Math.abs(dcos(x) - Math.cos(x))).toBeLessThan(1e-10);
    }
    for (let i = 0; i < 20000; i++) {
      const x = (r.nextFloat() - 0.5) * 20;
      expect(Math.abs(dsin(x) - Math.sin(x))).toBeLessThan(4e-16);
      expect(Math.abs(dcos(x) - Math.cos(x))).toBeLessThan(4e-16);
    }
  });
});
