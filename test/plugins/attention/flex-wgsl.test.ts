/**
 * The flex mod → WGSL translator (no GPU needed: the kernels themselves are checked against dense
 * attention in test/plugins/backend/webgpu/flex-attention.test.ts): precedence, types and
 * conversions, array params, JavaScript semantics kept (/, **, Math.round, truthiness), and the
 * refusals with their reasons.
 */
import { describe, expect, it } from "vitest";
import { alibi, and, causal, documentMask, slidingWindow, tanhSoftCap } from "../../../plugins/attention/flex/index.ts";
import { ModParamBuffer, modToWgsl, type WgslType } from "../../../plugins/attention/flex/wgsl-expr.ts";
import { flexWgsl } from "../../../plugins/attention/flex/wgsl-kernel.ts";

const ROLES: ReadonlyArray<readonly [string, WgslType]> = [["score", "f32"], ["b", "i32"], ["h", "i32"], ["q_idx", "i32"], ["kv_idx", "i32"]];
const tr = (e: string | Function, params: Record<string, number | ArrayLike<number>> = {}, buf = new ModParamBuffer()) => modToWgsl(e, ROLES, params, buf, "p.inf");
const err = (e: string | Function, params: Record<string, number | ArrayLike<number>> = {}) => {
  try {
    tr(e, params);
  } catch (x) {
    return (x as Error).message;
  }
  return "(no error)";
};

describe("flex mods → WGSL", () => {
  it("keeps JavaScript precedence and associativity", () => {
    expect(tr("q_idx - kv_idx - 1").code).toBe("((q_idx - kv_idx) - 1i)");
    expect(tr("1 + 2 * 3 < 4 && true || false").code).toBe("((((1i + (2i * 3i)) < 4i) && true) || false)");
    expect(tr("2 ** 3 ** 2").code).toBe("pow(f32(2i), pow(f32(3i), f32(2i)))");
    expect(tr("q_idx > 3 ? 1 : kv_idx > 2 ? 2 : 3").code).toBe("select(select(3i, 2i, (kv_idx > 2i)), 1i, (q_idx > 3i))");
    expect(tr("-(q_idx) * -2").code).toBe("((-q_idx) * (-2i))");
  });

  it("types: i32 positions, f32 score, i32 meets f32 → f32, / always f32, comparisons bool", () => {
    expect(tr("q_idx - kv_idx")).toEqual({ code: "(q_idx - kv_idx)", type: "i32" });
    expect(tr("score + q_idx")).toEqual({ code: "(score + f32(q_idx))", type: "f32" });
    expect(tr("q_idx / 2")).toEqual({ code: "(f32(q_idx) / f32(2i))", type: "f32" });
    expect(tr("q_idx % 4 == 0.5")).toEqual({ code: "(f32((q_idx % 4i)) == 0.5f)", type: "bool" });
    expect(tr("kv_idx <= q_idx").type).toBe("bool");
    expect(tr("Math.floor(q_idx / 64) === Math.floor(kv_idx / 64)").code).toBe("(floor((f32(q_idx) / f32(64i))) == floor((f32(kv_idx) / f32(64i))))");
    expect(tr("Math.round(score)").code).toBe("floor(score + 0.5f)");
    expect(tr("Math.max(q_idx, kv_idx, 3)").code).toBe("max(max(q_idx, kv_idx), 3i)");
    expect(tr("Math.tanh(score)").code).toBe("tanh_safe(score)");
    expect(tr("score * 1e-3").code).toBe("(score * 0.001f)");
  });

  it("numbers used as conditions are true when non-zero", () => {
    expect(tr("h % 2 ? score : 0").code).toBe("select(f32(0i), score, ((h % 2i) != 0i))");
    expect(tr("!(q_idx - kv_idx)").code).toBe("(!((q_idx - kv_idx) != 0i))");
  });

  it("closures: parameters renamed to the kernel's, scalars inlined, arrays read from modp with a clamped index", () => {
    const slopes = new Float64Array([0.5, 0.25]);
    const ids = new Int32Array([0, 0, 1, 1, 2]);
    const buf = new ModParamBuffer();
    const cap = 2.5, w = 4;
    expect(tr((s: number, b: number, h: number, q: number, kv: number) => s + slopes[h]! * (kv - q), { slopes }, buf).code)
      .toBe("(score + (modp[0u + u32(clamp(h, 0i, 1i))] * f32((kv_idx - q_idx))))");
    expect(tr((s: number, b: number, h: number, q: number, kv: number) => ids[q] === ids[kv] && q - kv < w, { ids, w }, buf).code)
      .toBe("((i32(modp[2u + u32(clamp(q_idx, 0i, 4i))]) == i32(modp[2u + u32(clamp(kv_idx, 0i, 4i))])) && ((q_idx - kv_idx) < 4i))");
    expect(tr((s: number) => cap * Math.tanh(s / cap), { cap }).code).toBe("(2.5f * tanh_safe((score / 2.5f)))");
    expect(tr("slopes.length - 1", { slopes }).code).toBe("(2i - 1i)");
    expect(buf.values).toEqual([0.5, 0.25, 0, 0, 1, 1, 2]);
  });

  it("refuses what it cannot express, with the reason", () => {
    expect(err("score + fetch(1)")).toMatch(/calls are not allowed except Math\.\*/);
    expect(err("score + foo")).toMatch(/unknown name 'foo'/);
    expect(err("Math.random()")).toMatch(/Math\.random is not supported on webgpu/);
    expect(err("score + (q_idx > 1)")).toMatch(/'\+' needs a number, got a boolean/);
    expect(err("score & 1")).toMatch(/'&' needs integer operands/);
    expect(err("t.size", { t: [1] })).toMatch(/property '\.size' is not allowed/);
    expect(err("t + 1", { t: [1] })).toMatch(/array param 't' is used without an index/);
    expect(err("x[0]", { x: 3 })).toMatch(/'x' is a number, not an array param/);
    expect(err("score +")).toMatch(/unexpected end of expression/);
    expect(err("q_idx = 3")).toMatch(/unexpected character '='/);
    expect(err("(score")).toMatch(/unexpected end of expression/);
    expect(err("score )")).toMatch(/unexpected '\)'/);
    expect(err((s: number) => { let t = 0; for (let i = 0; i < 3; i++) t += s * i; return t; })).toMatch(/not a single-expression function/);
  });

  it("whole kernels: the built-in mods compile; a mask that gives a number is refused with the mod's name", () => {
    const k = flexWgsl(tanhSoftCap(30), and(causal(), slidingWindow(8), documentMask([0, 0, 1])), true);
    expect(k.kernel.code).toContain("fn mask_mod(b: i32, h: i32, q_idx: i32, kv_idx: i32) -> bool");
    expect(k.kernel.code).toContain("@binding(6) var<storage, read> modp");
    expect(Array.from(k.modParams)).toEqual([0, 0, 1]);
    expect(flexWgsl(alibi(4), causal(), true).modParams.length).toBe(4);
    const noParams = flexWgsl(undefined, causal(), true);
    expect(noParams.kernel.code).not.toContain("modp");
    expect(noParams.kernel.name).not.toBe(flexWgsl(undefined, slidingWindow(3), true).kernel.name);
    expect(() => flexWgsl(undefined, { kind: "mask", name: "numeric", fn: "q_idx - kv_idx", params: {} }, true)).toThrow(/flex mod 'numeric' cannot be compiled to WGSL: a mask mod must give a boolean/);
  });
});
