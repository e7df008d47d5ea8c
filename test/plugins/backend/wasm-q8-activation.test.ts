import { describe, expect, it } from "vitest";
import { createWasmKernels, kernelsModule, wasmSimdAvailable, type WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { matmulQ4_0, matmulQ8_0 } from "../../../plugins/quant/gguf/cpu-kernels.ts";
import { q8Activations, quantizeRowsQ8_0 } from "../../../plugins/quant/gguf/q8-activation.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { toF16 } from "../../helpers/f16.ts";
import { BLOCK_BYTES, matmulQ8Act, matmulQ8ActF64, type Q8ActKind } from "./q8-activation-reference.ts";

const KERNEL = { q8_0: "matmulQ8_0", q4_0: "matmulQ4_0" } as const;

/** Random Q8_0 / Q4_0 blocks for m rows of k values: f16 scales in [0.001, 0.05], any codes. */
function weights(r: Prng, kind: Q8ActKind, m: number, k: number): Uint8Array {
  const bs = BLOCK_BYTES[kind], bytes = new Uint8Array((m * k / 32) * bs);
  for (let at = 0; at < bytes.length; at += bs) {
    const h = toF16(0.001 + r.nextFloat() * 0.05);
    bytes[at] = h & 0xff; bytes[at + 1] = h >>> 8;
    for (let t = 2; t < bs; t++) bytes[at + t] = Math.floor(r.nextFloat() * 256);
  }
  return bytes;
}

/** The f32 `steps` (-1, 0, 1) representable values away from v (v an f32, not 0). */
function f32Step(v: number, steps: number): number {
  const f = new Float32Array([v]), bits = new Int32Array(f.buffer);
  bits[0]! += v > 0 ? steps : -steps;
  return f[0]!;
}

/**
 * Activations with the quantizer's edge cases mixed in: all-zero blocks (d = 0), values on
 * rounding ties (amax 127 gives id = 1: x.5 rounds away from zero) and one ulp either side of
 * them (where an add-a-half rounding goes wrong), tiny blocks (d a subnormal f16), large ones, and
 * ordinary random rows.
 */
function activations(r: Prng, n: number, k: number): Float32Array {
  const x = new Float32Array(n * k);
  for (let i = 0; i < n * k; i++) x[i] = (r.nextFloat() * 2 - 1) * 3;
  for (let at = 0; at < n * k; at += 32) {
    const kind = Math.floor(r.nextFloat() * 7);
    if (kind === 0) x.fill(0, at, at + 32);
    if (kind === 1) for (let t = 0; t < 32; t++) x[at + t] = t === 0 ? -127 : Math.floor(r.nextFloat() * 200 - 100) + 0.5;
    if (kind === 2) for (let t = 0; t < 32; t++) x[at + t] *= 1e-6;
    if (kind === 3) for (let t = 0; t < 32; t++) x[at + t] *= 1e3;
    if (kind === 4) {
      for (let t = 0; t < 32; t++) {
        // Small ties half the time: the largest f32 under 0.5 is where an add-a-half rounding fails.
        const tie = r.nextFloat() < 0.5 ? Math.floor(r.nextFloat() * 4 - 2) + 0.5 : Math.floor(r.nextFloat() * 254 - 127) + 0.5;
        x[at + t] = t === 0 ? 127 : f32Step(tie, (t % 3) - 1);
      }
    }
  }
  return x;
}

const bitsEqual = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function firstDiff(a: Float32Array, b: Float32Array): string {
  const i = a.findIndex((v, j) => !Object.is(v, b[j]));
  return i < 0 ? "none" : `[${i}] ${a[i]} vs ${b[i]}`;
}

// kernels.wasm, and kernels-relaxed.wasm where this engine runs relaxed SIMD (Node 20 after the
// flag the backend sets, Node 22+, Bun, Deno): the same contract, so the same bits.
for (const variant of ["simd128", "relaxed"] as const) describe.skipIf(!wasmSimdAvailable() || !kernelsModule(variant))(`wasm Q8_0/Q4_0 kernels × q8 activations (the shared contract), ${variant} module`, () => {
  const create = (threads = 1) => createWasmKernels(threads, variant);
  it("load the module asked for", () => {
    const K = create()!;
    expect(K.relaxedSimd).toBe(variant === "relaxed");
    K.dispose();
  });

  it("equal the exact JS reference bit for bit on odd shapes, on 1, 2 and 3 threads", () => {
    const r = new Prng(81), pools: WasmKernels[] = [1, 2, 3].map((t) => create(t)!);
    try {
      for (const kind of ["q8_0", "q4_0"] as const) {
        for (const k of [32, 96, 576]) {
          for (const m of [1, 7, 49, 1000]) {
            const bytes = weights(r, kind, m, k);
            const placed = pools.map((K) => K.placeGguf(KERNEL[kind], bytes, k, m)!);
            for (const n of [1, 2, 3, 17]) {
              const x = activations(r, n, k), want = matmulQ8Act(kind, x, bytes, n, k, m);
              pools.forEach((K, t) => {
                const out = new Float32Array(n * m);
                K.matmulPlaced(KERNEL[kind], out, x, placed[t]!, n, k, m);
                expect(bitsEqual(out, want), `${kind} n=${n} k=${k} m=${m} on ${t + 1} thread(s): first difference ${firstDiff(out, want)}`).toBe(true);
              });
            }
          }
        }
      }
    } finally {
      for (const K of pools) K.dispose();
    }
  });

  it("prefill-sized products (several cache blocks of rows, every row-group path) match the reference", () => {
    const r = new Prng(82), K = create(2)!;
    try {
      for (const kind of ["q8_0", "q4_0"] as const) {
        const n = 70, k = 576, m = 61, bytes = weights(r, kind, m, k), x = activations(r, n, k), out = new Float32Array(n * m);
        K.matmulPlaced(KERNEL[kind], out, x, K.placeGguf(KERNEL[kind], bytes, k, m)!, n, k, m);
        expect(bitsEqual(out, matmulQ8Act(kind, x, bytes, n, k, m)), kind).toBe(true);
        // Every row alone gives the bits it gets in the batch.
        const one = new Float32Array(m);
        for (const i of [0, 5, 63, 69]) {
          K.matmulPlaced(KERNEL[kind], one, x.subarray(i * k, (i + 1) * k), K.placeGguf(KERNEL[kind], bytes, k, m)!, 1, k, m);
          expect(Array.from(one), `${kind} row ${i}`).toEqual(Array.from(out.subarray(i * m, (i + 1) * m)));
        }
      }
    } finally {
      K.dispose();
    }
  });

  it("Q4_0 at the integer extremes (every nibble 0 or 15, every code ±127), one row and many: the reference's bits", () => {
    const r = new Prng(85), K = create(2)!;
    try {
      const k = 128, m = 16, bytes = new Uint8Array((m * k / 32) * 18);
      for (let at = 0, blk = 0; at < bytes.length; at += 18, blk++) {
        bytes[at] = 0x00; bytes[at + 1] = 0x3c; // d = 1
        // Blocks of all 15s, all 0s, and alternating 0/15 bytes.
        const fill = blk % 3 === 0 ? 0xff : blk % 3 === 1 ? 0x00 : -1;
        for (let t = 2; t < 18; t++) bytes[at + t] = fill >= 0 ? fill : (t & 1 ? 0xf0 : 0x0f);
      }
      const w = K.placeGguf("matmulQ4_0", bytes, k, m)!;
      // 24 rows: the many-row tile; 1 and 3: the one-row path; 26: both.
      for (const n of [24, 1, 3, 26]) {
        const x = new Float32Array(n * k);
        for (let i = 0; i < n * k; i += 32) {
          const sign = r.nextFloat() < 0.5 ? -1 : 1, kind = Math.floor(r.nextFloat() * 3);
          // Equal magnitudes quantize to ±127 everywhere in the block; kind 2 alternates the sign.
          for (let t = 0; t < 32; t++) x[i + t] = kind === 2 ? (t & 1 ? -sign : sign) * 3 : sign * 3;
        }
        const out = new Float32Array(n * m), want = matmulQ8Act("q4_0", x, bytes, n, k, m);
        K.matmulPlaced("matmulQ4_0", out, x, w, n, k, m);
        expect(bitsEqual(out, want), `n=${n}: first difference ${firstDiff(out, want)}`).toBe(true);
      }
    } finally {
      K.dispose();
    }
  });

  it("blocks the quantizer's short path does not take (amax under 2^-103, subnormals, ±∞, NaN) give the reference's values", () => {
    // Rows with ±∞ give NaN outputs (dx = ∞ meets isum = 0), whose sign bit wasm leaves open:
    // compared as values (NaN equals NaN), everything else bit for bit. A NaN activation makes its
    // row's outputs NaN: the kernels' amax keeps a NaN, where the reference's C-style
    // MAX(a, b) = a > b ? a : b drops one unless it comes last in its block.
    const r = new Prng(86), K = create(2)!;
    const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)));
    try {
      const k = 128, m = 24;
      for (const kind of ["q8_0", "q4_0"] as const) {
        const bytes = weights(r, kind, m, k), w = K.placeGguf(KERNEL[kind], bytes, k, m)!;
        for (const n of [1, 20]) {
          const x = activations(r, n, k);
          for (let at = 0; at < n * k; at += 32) {
            const pick = Math.floor(r.nextFloat() * 6);
            // Tiny (id = 1/d overflows), at the 2^-103 edge, all subnormal, one ±∞, one NaN, ordinary.
            const scale = [1e-38, 2 ** -103, 1e-44, 1, 1, 1][pick]!;
            for (let t = 0; t < 32; t++) x[at + t] = (r.nextFloat() * 2 - 1) * scale;
            if (pick === 1) x[at + 7] = 2 ** -103;
            if (pick === 3 && r.nextFloat() < 0.3) x[at + 3] = r.nextFloat() < 0.5 ? Infinity : -Infinity;
            if (pick === 4 && r.nextFloat() < 0.3) x[at + 9] = NaN;
          }
          const out = new Float32Array(n * m), want = matmulQ8Act(kind, x, bytes, n, k, m);
          K.matmulPlaced(KERNEL[kind], out, x, w, n, k, m);
          for (let i = 0; i < n; i++) if (x.subarray(i * k, (i + 1) * k).some((v) => Number.isNaN(v))) want.fill(NaN, i * m, (i + 1) * m);
          expect(same(out, want), `${kind} n=${n}: first difference ${firstDiff(out, want)}`).toBe(true);
          expect(out.some((v) => Number.isNaN(v)) && out.some((v) => !Number.isNaN(v) && v !== 0), `${kind} n=${n}: both kinds of rows met`).toBe(n > 1);
        }
      }
    } finally {
      K.dispose();
    }
  });

  it("stay within f32 rounding of the f64 product of the same quantized activations", () => {
    const r = new Prng(83), K = create()!;
    for (const kind of ["q8_0", "q4_0"] as const) {
      const n = 5, k = 256, m = 9, bytes = weights(r, kind, m, k), x = activations(r, n, k), out = new Float32Array(n * m);
      K.matmulPlaced(KERNEL[kind], out, x, K.placeGguf(KERNEL[kind], bytes, k, m)!, n, k, m);
      const { value, abs } = matmulQ8ActF64(kind, x, bytes, n, k, m);
      // Per block: one rounding of dx dw, of isum (dx dw), of the sum: <= 3 (k / 32) 2^-24 Σ|terms|.
      for (let i = 0; i < n * m; i++) expect(Math.abs(out[i]! - value[i]!), `${kind} [${i}]`).toBeLessThanOrEqual(abs[i]! * 3 * (k / 32) * 2 ** -24 + 1e-30);
    }
  });

  it("refuse row lengths that are not a multiple of 32 with a clear error", () => {
    const K = create()!, w = K.placeBytes(new Uint8Array(34 * 2))!, out = new Float32Array(1);
    expect(() => K.matmulPlaced("matmulQ8_0", out, new Float32Array(48), w, 1, 48, 1)).toThrow(/multiple of 32/);
    expect(() => K.matmulQ8_0(out, new Float32Array(48), w, 1, 48, 1)).toThrow(/k % 32 != 0/);
  });
});

describe("plain-JS Q8_0/Q4_0 kernels of the gguf plugin (the fallback without WebAssembly SIMD)", () => {
  it("follow the same contract: the reference's bits on odd shapes", () => {
    const r = new Prng(84);
    for (const kind of ["q8_0", "q4_0"] as const) {
      for (const [n, k, m] of [[1, 32, 1], [3, 96, 7], [17, 576, 49]] as const) {
        const bytes = weights(r, kind, m, k), x = activations(r, n, k), out = new Float32Array(n * m);
        const act = q8Activations(n, k);
        quantizeRowsQ8_0(x, act);
        (kind === "q8_0" ? matmulQ8_0 : matmulQ4_0)(out, act, bytes, m);
        const want = matmulQ8Act(kind, x, bytes, n, k, m);
        expect(bitsEqual(out, want), `${kind} n=${n} k=${k} m=${m}: first difference ${firstDiff(out, want)}`).toBe(true);
      }
    }
  });

  it("reuse activation buffers that are large enough, and refuse bad row lengths and short inputs", () => {
    const a = q8Activations(4, 64), b = q8Activations(2, 64, a), c = q8Activations(8, 64, b);
    expect(b.q).toBe(a.q);
    expect(c.q).not.toBe(a.q);
    expect(() => q8Activations(1, 48)).toThrow(/row length 48 must be a positive multiple of 32/);
    expect(() => quantizeRowsQ8_0(new Float32Array(10), q8Activations(1, 32))).toThrow(/x has 10 values, needs 32/);
  });
});
