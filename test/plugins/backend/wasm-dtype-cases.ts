/**
 * Weight matrices of every dtype the wasm kernels compute on, with their dequantized f64 values
 * and the JS reference kernel, for the wasm kernel tests and the cross-runtime digest check
 * (wasm-digests.ts). Runtime-neutral: no test framework imports.
 */
import { createHash } from "node:crypto";
import type { KernelName, WasmKernels } from "../../../plugins/backend/cpu/wasm-kernels.ts";
import { code8Layout, int4Layout, int8ActivationBuffer } from "../../../plugins/backend/cpu/wasm/layouts.ts";
import { matmulF16, matmulQ4_0, matmulQ8_0 } from "../../../plugins/quant/gguf/cpu-kernels.ts";
import { q8Activations, quantizeRowsQ8_0 } from "../../../plugins/quant/gguf/q8-activation.ts";
import { blockScratch, matmulBlocks } from "../../../plugins/quant/gguf/block-kernels.ts";
import { matmulInt8 } from "../../../plugins/quant/int8/cpu-kernels.ts";
import { matmulInt4 } from "../../../plugins/quant/int4/cpu-kernels.ts";
import { matmulFp8 } from "../../../plugins/quant/fp8/cpu-kernels.ts";
import { f16ToF32 } from "../../../src/loader/gguf/dequantize.ts";
import { GGMLType } from "../../../src/loader/types.ts";
import { BLOCK_CODECS, dequantizeBlocks } from "../../../src/quant/ggml/decode.ts";
import { encodeGgml } from "../../../src/quant/ggml/encode.ts";
import { quantizeInt8, quantizeRowsInt8 } from "../../../src/quant/int8.ts";
import { quantizeInt4 } from "../../../src/quant/int4.ts";
import { FP8_TABLES, type Fp8Format } from "../../../src/quant/fp8.ts";
import { quantizeFp8 } from "../../../src/quant/fp8-matrix.ts";
import { Prng } from "../../../src/sampling/prng.ts";

export const rand = (r: Prng, n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => (r.nextFloat() * 2 - 1) * scale);

/** A weight matrix [m, k] ready to place: bytes in the kernel's layout, f64 values, the JS kernel. */
export interface WeightCase {
  bytes: Uint8Array;
  deq: Float64Array;
  js: (out: Float32Array, x: Float32Array, n: number) => void;
}

export interface DtypeSpec {
  name: string;
  kernel: KernelName;
  /** k must be a multiple of this. */
  block: number;
  /**
   * The kernel quantizes the activations to Q8_0 first (Q4_0: the q8-activation contract), so it
   * matches the JS kernel bit for bit, and the f64 product of the unquantized x only within the
   * activations' quantization error.
   */
  q8Activations?: boolean;
  make: (r: Prng, m: number, k: number) => WeightCase;
}

function ggml(type: GGMLType, kernel: KernelName, block: number, name: string): DtypeSpec {
  return {
    name, kernel, block, q8Activations: type === GGMLType.Q8_0 || type === GGMLType.Q4_0,
    make(r, m, k) {
      const bytes = encodeGgml(type, rand(r, m * k, 0.5));
      const deq = Float64Array.from(type === GGMLType.F16 ? Array.from({ length: m * k }, (_, i) => f16ToF32(bytes[2 * i]! | (bytes[2 * i + 1]! << 8))) : dequantizeBlocks(type, bytes, m * k));
      let js: WeightCase["js"];
      if (type === GGMLType.F16) {
        const h = new Uint16Array(bytes.slice().buffer);
        js = (out, x, n) => matmulF16(out, x, h, n, k, m);
      } else if (type === GGMLType.Q8_0 || type === GGMLType.Q4_0) {
        const kernel = type === GGMLType.Q8_0 ? matmulQ8_0 : matmulQ4_0;
        js = (out, x, n) => { const act = q8Activations(n, k); quantizeRowsQ8_0(x, act); kernel(out, act, bytes, m); };
      } else {
        const codec = BLOCK_CODECS.get(type)!;
        js = (out, x, n) => matmulBlocks(out, x, bytes, n, k, m, codec, blockScratch(codec, n));
      }
      return { bytes, deq, js };
    },
  };
}

const bf16: DtypeSpec = {
  name: "bf16", kernel: "matmulBF16", block: 1,
  make(r, m, k) {
    const f = rand(r, m * k, 0.5), u = new Uint32Array(f.buffer), h = new Uint16Array(m * k);
    for (let i = 0; i < h.length; i++) h[i] = u[i]! >>> 16;
    const deq = Float64Array.from(h, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);
    const w = Float32Array.from(deq);
    return { bytes: new Uint8Array(h.buffer), deq, js: (out, x, n) => matmulRef(out, x, w, n, k, m) };
  },
};

/** Plain f32 product (the JS side of bf16, which the engine otherwise widens to f32). */
function matmulRef(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[j * k + p]!;
      out[i * m + j] = s;
    }
  }
}

const int8: DtypeSpec = {
  name: "int8", kernel: "matmulCode8", block: 1,
  make(r, m, k) {
    const q = quantizeInt8(rand(r, m * k), m, k);
    const deq = new Float64Array(m * k);
    for (let i = 0; i < m * k; i++) deq[i] = q.scales[Math.floor(i / k)]! * q.q[i]!;
    return { bytes: code8Layout("int8", q.q, q.scales, m, k), deq, js: (out, x, n) => matmulInt8(out, x, q.q, q.scales, n, k, m) };
  },
};

function int4(groupSize: number): DtypeSpec {
  return {
    name: `int4-g${groupSize}`, kernel: "matmulInt4", block: groupSize,
    make(r, m, k) {
      const q = quantizeInt4(rand(r, m * k), m, k, groupSize);
      const deq = new Float64Array(m * k), groups = k / groupSize;
      for (let i = 0; i < m * k; i++) {
        const g = Math.floor(i / k) * groups + Math.floor((i % k) / groupSize);
        const code = (q.packed[i >> 1]! >>> ((i & 1) * 4)) & 15;
        deq[i] = (code - q.zeros[g]!) * q.scales[g]!;
      }
      return {
        bytes: int4Layout(q), deq,
        js: (out, x, n) => matmulInt4(out, x, q.packed, q.scales, q.zeros, n, k, m, groupSize, new Float64Array((n * k) / groupSize)),
      };
    },
  };
}

function fp8(format: Fp8Format): DtypeSpec {
  return {
    name: `fp8-${format}`, kernel: "matmulCode8", block: 1,
    make(r, m, k) {
      const w = quantizeFp8(rand(r, m * k), m, k, format), t = FP8_TABLES[format];
      const deq = new Float64Array(m * k);
      for (let i = 0; i < m * k; i++) deq[i] = w.scales[Math.floor(i / k)]! * t[w.codes[i]!]!;
      return { bytes: code8Layout(format, w.codes, w.scales, m, k), deq, js: (out, x, n) => matmulFp8(out, x, w.codes, w.scales, t, n, k, m) };
    },
  };
}

export const DTYPES: readonly DtypeSpec[] = [
  ggml(GGMLType.F16, "matmulF16", 1, "f16"),
  bf16,
  ggml(GGMLType.Q8_0, "matmulQ8_0", 32, "q8_0"),
  ggml(GGMLType.Q4_0, "matmulQ4_0", 32, "q4_0"),
  ggml(GGMLType.Q4_K, "matmulQ4_K", 256, "q4_k"),
  ggml(GGMLType.Q6_K, "matmulQ6_K", 256, "q6_k"),
  int8,
  int4(32), int4(64), int4(128),
  fp8("e4m3"), fp8("e5m2"),
];

/** Stable digest of the bits, to compare runs across runtimes. */
export const digest = (a: Float32Array): string =>
  createHash("sha256").update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest("hex").slice(0, 16);

/** One fixed product per dtype (3 rows, odd m, k not a multiple of 8 where the format allows): the digest of its output bits. */
export function dtypeDigests(K: WasmKernels): Record<string, string> {
  const res: Record<string, string> = {};
  for (const d of DTYPES) {
    const r = new Prng(1000 + d.name.length * 7 + d.kernel.length);
    const k = d.block === 1 ? 67 : Math.max(d.block, 256), m = 13, n = 3;
    const w = K.placeGguf(d.kernel, d.make(r, m, k).bytes, k, m)!, x = rand(r, n * k), out = new Float32Array(n * m);
    K.matmulPlaced(d.kernel, out, x, w, n, k, m);
    res[d.name] = digest(out);
  }
  const r = new Prng(2000), k = 67, m = 13, n = 3;
  const q = quantizeInt8(rand(r, m * k), m, k), w = K.placeBytes(code8Layout("int8", q.q, q.scales, m, k))!;
  const act = int8ActivationBuffer(n, k), out = new Float32Array(n * m);
  quantizeRowsInt8(rand(r, n * k), n, k, act.xq, act.xs);
  K.matmulPlaced("matmulInt8Dynamic", out, act.packed, w, n, k, m);
  res["int8-dynamic"] = digest(out);
  // Q4_0 over 19 rows and 21 columns: the many-row tile (kernels-relaxed.wasm's relaxed dot where
  // the engine has it), the one-row path for the last rows and the cut column group.
  const r4 = new Prng(2001), q4 = DTYPES.find((d) => d.name === "q4_0")!, k4 = 96, m4 = 21, n4 = 19;
  const w4 = K.placeGguf("matmulQ4_0", q4.make(r4, m4, k4).bytes, k4, m4)!, x4 = rand(r4, n4 * k4), out4 = new Float32Array(n4 * m4);
  K.matmulPlaced("matmulQ4_0", out4, x4, w4, n4, k4, m4);
  res["q4_0-batch"] = digest(out4);
  return res;
}
