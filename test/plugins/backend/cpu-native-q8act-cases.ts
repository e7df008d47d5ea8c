/**
 * Deterministic Q8_0/Q4_0 cases for the q8-activation contract on odd shapes, and a runner that
 * digests the addon's outputs, so the AVX2 path (in process) and the portable path (in a child
 * process with LLM_CPU_NATIVE_ISA=generic) can both be compared with the JavaScript reference.
 * Activation blocks cycle through patterns that reach the contract's corners: ordinary values,
 * exact halves with d = 1 (roundf ties), all zeros (d = 0), tiny values (a subnormal f16 scale),
 * large ones, and subnormal f32 values (1 / d overflows to inf: codes 0, dx = 0); weight bytes
 * are random (Q8_0 values include -128).
 */
import { createHash } from "node:crypto";
import { f32ToF16 } from "../../../src/loader/gguf/dequantize.ts";
import { Prng } from "../../../src/sampling/prng.ts";
import type { CpuNativeAddon } from "../../../plugins/backend/cpu-native/native-kernels.ts";
import { BLOCK_BYTES, type Q8ActKind } from "./q8-activation-reference.ts";

export interface Q8ActCase { kind: Q8ActKind; n: number; k: number; m: number; x: Float32Array; w: Uint8Array }

export const Q8ACT_SHAPES = { n: [1, 3, 17], k: [32, 96, 576], m: [1, 7, 49, 1000] } as const;

function activations(r: Prng, n: number, k: number): Float32Array {
  const x = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < k / 32; b++) {
      const at = i * k + b * 32, pattern = (i + b) % 6;
      for (let t = 0; t < 32; t++) {
        const u = r.nextFloat() * 2 - 1;
        x[at + t] = [u, Math.floor(r.nextFloat() * 509 - 254) / 2, 0, u * 1e-5, u * 3000, u * 1e-40][pattern]!;
      }
      if (pattern === 1) x[at + Math.floor(r.nextFloat() * 32)] = r.nextFloat() < 0.5 ? 127 : -127; // amax 127: d = id = 1
    }
  }
  return x;
}

function weightBytes(r: Prng, kind: Q8ActKind, k: number, m: number): Uint8Array {
  const bs = BLOCK_BYTES[kind], w = new Uint8Array(m * (k / 32) * bs);
  for (let i = 0; i < w.length; i++) w[i] = Math.floor(r.nextFloat() * 256);
  for (let at = 0; at < w.length; at += bs) {
    const h = f32ToF16((r.nextFloat() * 2 - 1) * 0.05);
    w[at] = h & 0xff;
    w[at + 1] = h >>> 8;
  }
  return w;
}

/** Every kind × n × k × m of Q8ACT_SHAPES, in a fixed order with fixed data. */
export function q8ActCases(): Q8ActCase[] {
  const r = new Prng(2024), cases: Q8ActCase[] = [];
  for (const kind of ["q8_0", "q4_0"] as const) {
    for (const n of Q8ACT_SHAPES.n) {
      for (const k of Q8ACT_SHAPES.k) {
        for (const m of Q8ACT_SHAPES.m) cases.push({ kind, n, k, m, x: activations(r, n, k), w: weightBytes(r, kind, k, m) });
      }
    }
  }
  return cases;
}

export function caseLabel(c: Q8ActCase): string {
  return `${c.kind} n=${c.n} k=${c.k} m=${c.m}`;
}

export function digest(out: Float32Array): string {
  return createHash("sha1").update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)).digest("hex");
}

/** "label threads=T digest" for every case on pools of each thread count. */
export function runAddonCases(addon: CpuNativeAddon, threads: readonly number[]): string[] {
  const lines: string[] = [], cases = q8ActCases();
  for (const t of threads) {
    const pool = addon.createPool(t);
    for (const c of cases) {
      const out = new Float32Array(c.n * c.m);
      addon.matmul(pool, c.kind === "q8_0" ? 1 : 2, out, c.x, c.w, c.n, c.k, c.m);
      lines.push(`${caseLabel(c)} threads=${t} ${digest(out)}`);
    }
    addon.destroyPool(pool);
  }
  return lines;
}
