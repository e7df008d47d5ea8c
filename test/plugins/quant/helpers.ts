import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import { f32 } from "../../../plugins/backend/cpu/tensor.ts";
import { GGMLType, type HostTensor } from "../../../src/loader/types.ts";
import type { Backend, LinearMethod, QuantPlugin } from "../../../src/plugin/types.ts";

/** Deterministic pseudo-random floats: roughly N(0, std²) with a few outliers. */
export function randomMatrix(len: number, seed: number, std = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const g = (u() + u() + u() + u() - 2) * Math.sqrt(3);
    out[i] = (u() < 0.01 ? 6 * g : g) * std;
  }
  return out;
}

/** out[n, m] = x[n, k] · w[m, k]^T in f64. */
export function matmulF64(x: Float32Array, w: Float32Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += x[i * k + p]! * w[j * k + p]!;
    out[i * m + j] = s;
  }
  return out;
}

/** Largest |a - b| relative to the largest |b| (so a tolerance reads as a fraction of the output scale). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, scale = 1e-30;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return d / scale;
}

export function f32Tensor(name: string, w: Float32Array, k: number, m: number): HostTensor {
  return { name, type: GGMLType.F32, dims: [k, m], numel: k * m, data: new Uint8Array(w.buffer, w.byteOffset, w.byteLength) };
}

export function bytesTensor(name: string, type: GGMLType, data: Uint8Array, k: number, m: number): HostTensor {
  return { name, type, dims: [k, m], numel: k * m, data };
}

export async function cpuBackend(): Promise<Backend> {
  return cpuBackendPlugin.create({});
}

/** Runs a quant plugin's linear on x [n, k]; returns out [n, m]. */
export async function runLinear(plugin: QuantPlugin, t: HostTensor, x: Float32Array, n: number): Promise<{ out: Float32Array; method: LinearMethod }> {
  const backend = await cpuBackend();
  const k = t.dims[0]!, m = t.dims[1]!;
  const method = plugin.createLinear({ name: t.name, tensor: t, inFeatures: k, outFeatures: m }, backend);
  const xt = backend.upload(x.slice(), [n, k]);
  const out = backend.empty([n, m]);
  method.apply(xt, out, n);
  return { out: f32(out).slice(), method };
}

/** Shapes with odd sizes (k a multiple of 256 where a block format needs it). */
export const ODD_SHAPES: ReadonlyArray<{ n: number; m: number }> = [{ n: 1, m: 1 }, { n: 3, m: 7 }, { n: 5, m: 13 }, { n: 2, m: 33 }];
