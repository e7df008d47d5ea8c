import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createWasmKernels, wasmSimdAvailable, type WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { code8Layout, ggufX8Layout, int8ActivationBuffer, x8LayoutBytes } from "../../../plugins/backend/cpu/wasm/layouts.ts";
import { matmulInt8Dynamic } from "../../../plugins/quant/int8/cpu-kernels.ts";
import { quantizeInt8, quantizeRowsInt8 } from "../../../src/quant/int8.ts";
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";
import { FP8_TABLES } from "../../../src/quant/fp8.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import { DTYPES, dtypeDigests, rand, type DtypeSpec } from "./wasm-dtype-cases.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/**
 * |out - Σ x w| (Σ in f64 over the f64 weights) <= (k + 64) 2^-23 Σ |x w|: f32 accumulation of k
 * products in four lanes, plus one rounding per 32-weight block scale and the final scale.
 */
function checkAgainstF64(out: Float32Array, x: Float32Array, w: Float64Array, n: number, k: number, m: number, tag: string, q8Activations = false): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0, abs = 0, quant = 0;
      for (let p = 0; p < k; p++) { s += x[i * k + p]! * w[j * k + p]!; abs += Math.abs(x[i * k + p]! * w[j * k + p]!); }
      if (q8Activations) {
        // x quantized per 32-block with step d = amax / 127: |x - dx q| <= d / 2 + 127 |dx - d| <= 0.57 d.
        for (let p0 = 0; p0 < k; p0 += 32) {
          let amax = 0, wabs = 0;
          for (let p = p0; p < p0 + 32; p++) { amax = Math.max(amax, Math.abs(x[i * k + p]!)); wabs += Math.abs(w[j * k + p]!); }
          quant += 0.6 * (amax / 127) * wabs;
        }
      }
      expect(Math.abs(out[i * m + j]! - s), `${tag} ${n}x${k}x${m} [${i},${j}]`).toBeLessThanOrEqual(abs * (k + 64) * 2 ** -23 + quant + 1e-30);
    }
  }
}

/** Row lengths to try: odd ones (not multiples of 4 or 8) where the format allows any k. */
const ks = (d: DtypeSpec) => (d.block === 1 ? [1, 3, 7, 12, 33, 67, 130] : d.block === 256 ? [256, 512] : [d.block, 2 * d.block, 3 * d.block]);
const NM = [[1, 1], [2, 3], [3, 5], [5, 9], [4, 17]] as const;

describe.skipIf(!wasmSimdAvailable())("wasm SIMD128 kernels of every weight dtype", () => {
  for (const d of DTYPES) {
    it(`${d.name} (${d.kernel}): f64 reference on odd shapes, JS kernel agreement${d.q8Activations ? " (bit for bit: q8 activations)" : ""}, batched bits = single-row bits`, () => {
      const r = new Prng(21 + d.name.length), K = createWasmKernels()!;
      for (const k of ks(d)) {
        for (const [n, m] of NM) {
          const c = d.make(r, m, k), w = K.placeGguf(d.kernel, c.bytes, k, m)!, x = rand(r, n * k), out = new Float32Array(n * m);
          K.matmulPlaced(d.kernel, out, x, w, n, k, m);
          checkAgainstF64(out, x, c.deq, n, k, m, d.name, d.q8Activations);
          const js = new Float32Array(n * m);
          c.js(js, x, n);
          if (d.q8Activations) expect(Array.from(out), `${d.name} vs JS ${n}x${k}x${m}: the same bits`).toEqual(Array.from(js));
          else for (let i = 0; i < n * m; i++) {
            let abs = 0;
            for (let p = 0; p < k; p++) abs += Math.abs(x[Math.floor(i / m) * k + p]! * c.deq[(i % m) * k + p]!);
            expect(Math.abs(out[i]! - js[i]!), `${d.name} vs JS ${n}x${k}x${m} [${i}]`).toBeLessThanOrEqual(abs * 2 * (k + 64) * 2 ** -23 + 1e-30);
          }
          for (let i = 0; i < n; i++) {
            const one = new Float32Array(m);
            K.matmulPlaced(d.kernel, one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
            expect(Array.from(one), `${d.name} row ${i} alone`).toEqual(Array.from(out.subarray(i * m, (i + 1) * m)));
          }
        }
      }
    });
  }

  it("prefill-sized batches (rows over several cache blocks) give each row the bits it gets alone", () => {
    const r = new Prng(51), K = createWasmKernels()!;
    for (const d of DTYPES) {
      const k = d.block === 1 ? 1027 : 1024, n = 37, m = 9; // about 8 rows per cache block at this k
      const c = d.make(r, m, k), w = K.placeGguf(d.kernel, c.bytes, k, m)!, x = rand(r, n * k), out = new Float32Array(n * m), one = new Float32Array(m);
      K.matmulPlaced(d.kernel, out, x, w, n, k, m);
      for (let i = 0; i < n; i++) {
        K.matmulPlaced(d.kernel, one, x.subarray(i * k, (i + 1) * k), w, 1, k, m);
        expect(Array.from(out.subarray(i * m, (i + 1) * m)), `${d.name} row ${i}`).toEqual(Array.from(one));
      }
    }
  });

  it("int8-dynamic: integer dot products give the JS kernel's bits exactly, on odd shapes", () => {
    const r = new Prng(31), K = createWasmKernels()!;
    for (const k of [2, 3, 8, 13, 67, 130, 1027]) {
      for (const [n, m] of k === 1027 ? [[37, 5] as const] : NM) { // 37 rows of 1027: several cache blocks
        const q = quantizeInt8(rand(r, m * k), m, k), w = K.placeBytes(code8Layout("int8", q.q, q.scales, m, k))!;
        const act = int8ActivationBuffer(n, k), x = rand(r, n * k);
        quantizeRowsInt8(x, n, k, act.xq, act.xs);
        const out = new Float32Array(n * m), js = new Float32Array(n * m);
        K.matmulPlaced("matmulInt8Dynamic", out, act.packed, w, n, k, m);
        matmulInt8Dynamic(js, act.xq, act.xs, q.q, q.scales, n, k, m);
        expect(Array.from(out), `${n}x${k}x${m}`).toEqual(Array.from(js));
      }
    }
    expect(() => int8ActivationBuffer(2, 1)).toThrow(/k >= 2/);
  });

  /** out[i, j] = W[j, i] exactly for x = the identity (k rows of k): every weight decoded on its own. */
  function decodeEach(K: WasmKernels, kernel: Parameters<WasmKernels["matmulPlaced"]>[0], bytes: Uint8Array, values: Float64Array, k: number, m: number): number {
    const w = K.placeGguf(kernel, bytes, k, m)!, x = new Float32Array(k * k), out = new Float32Array(k * m);
    for (let i = 0; i < k; i++) x[i * k + i] = 1;
    K.matmulPlaced(kernel, out, x, w, k, k, m);
    let bad = 0;
    for (let j = 0; j < m; j++) for (let i = 0; i < k; i++) if (out[i * m + j] !== values[j * k + i]) bad++;
    return bad;
  }

  it("f16 and bf16: every finite bit pattern (subnormals and -0 included) decodes exactly, in SIMD lanes and the scalar tail", () => {
    const K = createWasmKernels()!;
    for (const bf of [false, true]) {
      const finite: number[] = [];
      for (let h = 0; h < 65536; h++) if (((h >> (bf ? 7 : 10)) & (bf ? 0xff : 0x1f)) !== (bf ? 0xff : 0x1f)) finite.push(h);
      const k = 5, m = Math.ceil(finite.length / k), bits = new Uint16Array(m * k), values = new Float64Array(m * k);
      for (let i = 0; i < m * k; i++) {
        bits[i] = finite[i % finite.length]!;
        values[i] = bf ? new Float32Array(new Uint32Array([bits[i]! << 16]).buffer)[0]! : f16ToF32(bits[i]!);
      }
      expect(decodeEach(K, bf ? "matmulBF16" : "matmulF16", new Uint8Array(bits.buffer), values, k, m), bf ? "bf16" : "f16").toBe(0);
    }
  });

  it("int8, fp8 e4m3 and e5m2: every finite code decodes exactly (8-wide, 4-wide and scalar paths)", () => {
    const K = createWasmKernels()!;
    for (const format of ["int8", "e4m3", "e5m2"] as const) {
      const table = format === "int8" ? Float64Array.from({ length: 256 }, (_, c) => (c << 24) >> 24) : Float64Array.from(FP8_TABLES[format]);
      const finite = [...Array(256).keys()].filter((c) => Number.isFinite(table[c]!));
      const k = 13, m = Math.ceil(finite.length / k), codes = new Uint8Array(m * k), values = new Float64Array(m * k), scales = new Float32Array(m).fill(1);
      for (let i = 0; i < m * k; i++) { codes[i] = finite[(i * 7) % finite.length]!; values[i] = table[codes[i]!]!; }
      expect(decodeEach(K, "matmulCode8", code8Layout(format, codes, scales, m, k), values, k, m), format).toBe(0);
    }
  });

  it("column-split invariance: 2 threads (columns split over a worker) give the bits of 1 thread", () => {
    const r = new Prng(41), K1 = createWasmKernels(1)!, K2 = createWasmKernels(2)!;
    try {
      for (const d of DTYPES) {
        const k = d.block === 1 ? 515 : 512, n = 3, m = 203; // n k m >= 2^18 and m >= 16: the pool splits it
        const c = d.make(r, m, k), x = rand(r, n * k), a = new Float32Array(n * m), b = new Float32Array(n * m);
        K1.matmulPlaced(d.kernel, a, x, K1.placeGguf(d.kernel, c.bytes, k, m)!, n, k, m);
        K2.matmulPlaced(d.kernel, b, x, K2.placeGguf(d.kernel, c.bytes, k, m)!, n, k, m);
        expect(Array.from(b), d.name).toEqual(Array.from(a));
      }
      const k = 515, n = 3, m = 203, q = quantizeInt8(rand(r, m * k), m, k), act = int8ActivationBuffer(n, k);
      quantizeRowsInt8(rand(r, n * k), n, k, act.xq, act.xs);
      const lay = code8Layout("int8", q.q, q.scales, m, k), a = new Float32Array(n * m), b = new Float32Array(n * m);
      K1.matmulPlaced("matmulInt8Dynamic", a, act.packed, K1.placeBytes(lay)!, n, k, m);
      K2.matmulPlaced("matmulInt8Dynamic", b, act.packed, K2.placeBytes(lay)!, n, k, m);
      expect(Array.from(b), "int8-dynamic").toEqual(Array.from(a));
    } finally {
      K2.dispose();
    }
  });

  it("placed weights are checked: a view from another instance is refused", () => {
    const K = createWasmKernels()!, K2 = createWasmKernels()!;
    const w = K.placeBytes(new Uint8Array(18))!;
    expect(() => K2.matmulPlaced("matmulQ4_0", new Float32Array(1), new Float32Array(32), w, 1, 32, 1)).toThrow(/matmulQ4_0: weights are not resident/);
  });

  it("bad shapes and layouts are refused with what was wrong, before any kernel reads past a matrix", () => {
    const r = new Prng(61), K = createWasmKernels()!, out = new Float32Array(64), x = rand(r, 4 * 512);
    const q4 = K.placeBytes(new Uint8Array(18 * 2))!; // two Q4_0 blocks as stored, not regrouped
    expect(() => K.matmulPlaced("matmulQ4_0", out, x, q4, 1, 48, 1)).toThrow(/matmulQ4_0: a \[1, 48\] weight matrix needs a row length that is a multiple of 32/);
    expect(() => K.matmulPlaced("matmulQ4_0", out, x, q4, 1, 32, 3)).toThrow(/needs 160 placed bytes, got 36/);
    expect(() => K.matmulPlaced("matmulQ4_K", out, x, q4, 1, 32, 1)).toThrow(/multiple of 256/);
    expect(() => K.matmulPlaced("matmulInt4", out, x, q4, 1, 32, 1)).toThrow(/not in the matmulInt4 layout \(group size /);
    const c8 = K.placeBytes(code8Layout("e4m3", new Uint8Array(6), new Float32Array(2), 2, 3))!;
    expect(() => K.matmulPlaced("matmulInt8Dynamic", out, x, c8, 1, 3, 2)).toThrow(/not in the matmulInt8Dynamic layout \(header 1;/);
    expect(() => K.matmulPlaced("matmulCode8", out, x, c8, 1, 4, 2)).toThrow(/needs 40 placed bytes, got 38/);
    K.matmulPlaced("matmulCode8", out, x, c8, 1, 3, 2); // the right shape runs
  });

  it("the x8 regrouping of Q8_0 / Q4_0 blocks keeps every value in its documented place; bad shapes are refused", () => {
    const r = new Prng(62);
    for (const [which, bs] of [["matmulQ8_0", 34], ["matmulQ4_0", 18]] as const) {
      const m = 11, k = 96, nb = k / 32, blocks = new Uint8Array(m * nb * bs);
      for (let i = 0; i < blocks.length; i++) blocks[i] = Math.floor(r.nextFloat() * 256);
      for (let o = 0; o < blocks.length; o += bs) blocks[o + 1] = 0x30 + (o % 7); // finite f16 scales
      // GGUF value (scale, code) of column j at input p.
      const gguf = (j: number, p: number): [number, number] => {
        const o = (j * nb + (p >> 5)) * bs, e = p & 31, d = f16ToF32(blocks[o]! | (blocks[o + 1]! << 8));
        if (bs === 34) return [d, (blocks[o + 2 + e]! << 24) >> 24];
        return [d, (e < 16 ? blocks[o + 2 + e]! & 15 : blocks[o + 2 + e - 16]! >> 4) - 8];
      };
      const x8 = ggufX8Layout(which, blocks, k, m), view = new DataView(x8.buffer);
      expect(x8.byteLength).toBe(x8LayoutBytes(which, k, m));
      expect(x8.byteLength).toBe(2 * nb * (bs === 34 ? 288 : 160));
      for (let j = 0; j < 16; j++) {
        for (let p = 0; p < k; p++) {
          const g = j >> 3, c = j & 7, b = p >> 5, e = p & 31, o = (g * nb + b) * (bs === 34 ? 288 : 160);
          let code: number;
          if (bs === 34) code = (x8[o + 32 + 16 * (e >> 1) + 2 * c + (e & 1)]! << 24) >> 24;
          else {
            const byte = x8[o + 32 + 16 * (e >> 2) + 2 * c + (e & 1)]!, nib = (e & 2) ? byte >> 4 : byte & 15;
            code = (nib << 28) >> 28;
          }
          const [d, q] = j < m ? gguf(j, p) : [0, 0];
          expect([view.getFloat32(o + 4 * c, true), code], `${which} column ${j} input ${p}`).toEqual([Math.fround(d), q]);
        }
      }
      expect(() => ggufX8Layout(which, blocks, 48, m)).toThrow(/k a multiple of 32/);
      expect(() => ggufX8Layout(which, blocks.subarray(1), k, m)).toThrow(new RegExp(`needs k a multiple of 32 and ${m * nb * bs} bytes of blocks`));
    }
  });

  it("fixed bits on every runtime (Node, Bun and Deno run the same wasm)", () => {
    // Recorded under Node 20; bun test and `deno run` (below) must give the same digests.
    expect(dtypeDigests(createWasmKernels()!)).toEqual(EXPECTED_DIGESTS);
  });

  const deno = join(ROOT, "node_modules", ".bin", "deno");
  it.skipIf(!existsSync(deno) || typeof (globalThis as { Bun?: unknown }).Bun !== "undefined")("Deno computes the same digests", () => {
    const out = execFileSync(deno, ["run", "-A", join(ROOT, "test/plugins/backend/wasm-digests.ts")], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toEqual(EXPECTED_DIGESTS);
  }, 60_000);
});

const EXPECTED_DIGESTS = {
  "f16": "96112321d7564629", "bf16": "910e86e96827e4d2", "q8_0": "8ac8d3f217cc2321", "q4_0": "604b72a1d73071d3", "q4_k": "5b4152857d863529",
  "q6_k": "a862d54fdcf8215e", "int8": "ab312ef38862e537", "int4-g32": "5c83e82604b0020e", "int4-g64": "73cb8ce7acb811f5",
  "int4-g128": "7d237734ab566b59", "fp8-e4m3": "ae7853d0689ac672", "fp8-e5m2": "f591809c78b22ab9", "int8-dynamic": "7b9d78e84545d68c",
  "q4_0-batch": "ebc9cda734066be5",
};
