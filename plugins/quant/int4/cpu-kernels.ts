/**
 * int4 group-wise kernel on the cpu backend (layout in src/quant/int4.ts). Per group g of row j:
 *   Σ_p x[p] (q[p] - zero) scale = scale (Σ_p x[p] q[p] - zero Σ_p x[p]),
 * so each activation row's group sums are computed once per call and the inner loop is a plain
 * dot product over unpacked nibbles.
 */
import type { Int4Matrix } from "../../../src/quant/int4.ts";
import { int4Layout, wasmKernelsOf } from "../../backend/cpu/wasm/layouts.ts";
import type { MatmulFn } from "../int8/cpu-kernels.ts";
export function matmulInt4(
  out: Float32Array, x: Float32Array, packed: Uint8Array, scales: Float32Array, zeros: Uint8Array,
  n: number, k: number, m: number, groupSize: number, xsum: Float64Array,
): void {
  const groups = k / groupSize;
  const half = groupSize >> 1;
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < groups; g++) {
      let s = 0;
      const o = i * k + g * groupSize;
      for (let p = 0; p < groupSize; p++) s += x[o + p]!;
      xsum[i * groups + g] = s;
    }
  }
  const rowBytes = k >> 1;
  let j = 0;
  // Two weight rows per pass share the activation loads.
  for (; j + 2 <= m; j += 2) {
    const w0 = j * rowBytes, w1 = w0 + rowBytes, g0 = j * groups, g1 = g0 + groups;
    for (let i = 0; i < n; i++) {
      let acc0 = 0, acc1 = 0;
      let xo = i * k;
      for (let g = 0; g < groups; g++) {
        let s0 = 0, s1 = 0;
        const bo = g * half;
        for (let t = 0; t < half; t++) {
          const xa = x[xo]!, xb = x[xo + 1]!;
          const u = packed[w0 + bo + t]!, v = packed[w1 + bo + t]!;
          s0 += xa * (u & 15) + xb * (u >>> 4);
          s1 += xa * (v & 15) + xb * (v >>> 4);
          xo += 2;
        }
        const xs = xsum[i * groups + g]!;
        acc0 += scales[g0 + g]! * (s0 - zeros[g0 + g]! * xs);
        acc1 += scales[g1 + g]! * (s1 - zeros[g1 + g]! * xs);
      }
      out[i * m + j] = acc0;
      out[i * m + j + 1] = acc1;
    }
  }
  for (; j < m; j++) {
    const wo = j * rowBytes, go = j * groups;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      let xo = i * k;
      let bo = wo;
      for (let g = 0; g < groups; g++) {
        let s = 0;
        for (let t = 0; t < half; t++) {
          const b = packed[bo + t]!;
          s += x[xo]! * (b & 15) + x[xo + 1]! * (b >>> 4);
          xo += 2;
        }
        bo += half;
        acc += scales[go + g]! * (s - zeros[go + g]! * xsum[i * groups + g]!);
      }
      out[i * m + j] = acc;
    }
  }
}

function jsInt4Matmul(q: Int4Matrix): MatmulFn {
  const { cols: k, rows: m, groupSize } = q;
  let xsum = new Float64Array(0);
  return (out, x, n) => {
    if (xsum.length < (n * k) / groupSize) xsum = new Float64Array((n * k) / groupSize);
    matmulInt4(out, x, q.packed, q.scales, q.zeros, n, k, m, groupSize, xsum);
  };
}

/**
 * The cpu kernel of an int4 linear: WebAssembly SIMD128 (wasm/kernels.ts matmulInt4, weights
 * placed once in the backend's wasm memory) when `backend` has wasm kernels and the weights fit,
 * else the JS kernel above.
 */
export function int4Matmul(backend: unknown, q: Int4Matrix): MatmulFn {
  const wasm = wasmKernelsOf(backend);
  const w = wasm ? wasm.placeBytes(int4Layout(q)) : null;
  if (!wasm || !w) return jsInt4Matmul(q);
  const { cols: k, rows: m } = q;
  return (out, x, n) => wasm.matmulPlaced("matmulInt4", out, x, w, n, k, m);
}
