/**
 * Matmul micro-benchmark: plain-JS kernel vs WebAssembly SIMD128 on 1 and 2 threads, for every
 * weight dtype the cpu backend computes on. One JSON line per case:
 * {dtype, n, k, m, threads, js_gflops, wasm_gflops, ratio}. Block formats round k up to their
 * block size (256 for the K-quants).
 * Usage: npx tsx bench/matmul.ts [--k 576] [--m 1536] [--n 1,8,32] [--seconds 1] [--dtypes f32,q8_0,...] [--threads 1,2]
 */
import { matmulF32 } from "../plugins/backend/cpu/kernels.ts";
import { matmulF16, matmulQ4_0, matmulQ8_0 } from "../plugins/quant/gguf/cpu-kernels.ts";
import { q8Activations, quantizeRowsQ8_0, type Q8Activations } from "../plugins/quant/gguf/q8-activation.ts";
import { blockScratch, matmulBlocks } from "../plugins/quant/gguf/block-kernels.ts";
import { matmulInt8, matmulInt8Dynamic } from "../plugins/quant/int8/cpu-kernels.ts";
import { matmulInt4 } from "../plugins/quant/int4/cpu-kernels.ts";
import { matmulFp8 } from "../plugins/quant/fp8/cpu-kernels.ts";
import { createWasmKernels, type KernelName, type WasmKernels } from "../plugins/backend/cpu/wasm-kernels.ts";
import { code8Layout, int4Layout, int8ActivationBuffer } from "../plugins/backend/cpu/wasm/layouts.ts";
import { GGMLType } from "../src/loader/types.ts";
import { BLOCK_CODECS } from "../src/quant/ggml/decode.ts";
import { encodeGgml } from "../src/quant/ggml/encode.ts";
import { quantizeInt8, quantizeRowsInt8 } from "../src/quant/int8.ts";
import { quantizeInt4 } from "../src/quant/int4.ts";
import { FP8_TABLES } from "../src/quant/fp8.ts";
import { quantizeFp8 } from "../src/quant/fp8-matrix.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : dflt; };
const k0 = Number(arg("k", "576")), m = Number(arg("m", "1536")), seconds = Number(arg("seconds", "1"));
const ns = arg("n", "1,8,32").split(",").map(Number);
const threadCounts = arg("threads", "1,2").split(",").map(Number);

const instances = threadCounts.map((t) => createWasmKernels(t));
if (instances.some((K) => !K)) throw new Error("WebAssembly SIMD is not available on this runtime");

function time(fn: () => void): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) { fn(); reps++; t = performance.now(); }
  return (t - t0) / 1000 / reps;
}

let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const randArray = (len: number, scale = 1) => Float32Array.from({ length: len }, () => rnd() * scale);

type Js = (out: Float32Array, x: Float32Array, n: number) => void;
/** A dtype: its row-length multiple, and for k: the JS kernel, the wasm kernel and its placed bytes (or f32 data). */
interface Bench { block: number; make: (k: number) => { js: Js; kernel: KernelName; bytes: Uint8Array | Float32Array; dynamic?: boolean } }

function ggml(type: GGMLType, block: number, kernel: KernelName): Bench {
  return {
    block,
    make(k) {
      const bytes = encodeGgml(type, randArray(m * k, 0.1));
      let js: Js;
      if (type === GGMLType.Q8_0 || type === GGMLType.Q4_0) {
        const kernel = type === GGMLType.Q8_0 ? matmulQ8_0 : matmulQ4_0;
        let act: Q8Activations | undefined;
        js = (out, x, n) => { act = q8Activations(n, k, act); quantizeRowsQ8_0(x, act); kernel(out, act, bytes, m); };
      }
      else if (type === GGMLType.F16) { const h = new Uint16Array(bytes.slice().buffer); js = (out, x, n) => matmulF16(out, x, h, n, k, m); }
      else { const codec = BLOCK_CODECS.get(type)!; js = (out, x, n) => matmulBlocks(out, x, bytes, n, k, m, codec, blockScratch(codec, n)); }
      return { js, kernel, bytes };
    },
  };
}

const BENCHES: Record<string, Bench> = {
  f32: { block: 1, make: (k) => { const w = randArray(m * k); return { js: (out, x, n) => matmulF32(out, x, w, n, k, m), kernel: "matmulF32", bytes: w }; } },
  f16: ggml(GGMLType.F16, 1, "matmulF16"),
  q8_0: ggml(GGMLType.Q8_0, 32, "matmulQ8_0"),
  q4_0: ggml(GGMLType.Q4_0, 32, "matmulQ4_0"),
  q4_k: ggml(GGMLType.Q4_K, 256, "matmulQ4_K"),
  q6_k: ggml(GGMLType.Q6_K, 256, "matmulQ6_K"),
  int8: { block: 1, make: (k) => { const q = quantizeInt8(randArray(m * k), m, k); return { js: (out, x, n) => matmulInt8(out, x, q.q, q.scales, n, k, m), kernel: "matmulCode8", bytes: code8Layout("int8", q.q, q.scales, m, k) }; } },
  "int8-dynamic": {
    block: 1,
    make: (k) => {
      const q = quantizeInt8(randArray(m * k), m, k);
      let xq = new Int8Array(0), xs = new Float32Array(0);
      const js: Js = (out, x, n) => { if (xq.length < n * k) { xq = new Int8Array(n * k); xs = new Float32Array(n); } quantizeRowsInt8(x, n, k, xq, xs); matmulInt8Dynamic(out, xq, xs, q.q, q.scales, n, k, m); };
      return { js, kernel: "matmulInt8Dynamic", bytes: code8Layout("int8", q.q, q.scales, m, k), dynamic: true };
    },
  },
  "int4-g32": int4(32),
  "int4-g128": int4(128),
  "fp8-e4m3": { block: 1, make: (k) => { const w = quantizeFp8(randArray(m * k), m, k, "e4m3"); return { js: (out, x, n) => matmulFp8(out, x, w.codes, w.scales, FP8_TABLES.e4m3, n, k, m), kernel: "matmulCode8", bytes: code8Layout("e4m3", w.codes, w.scales, m, k) }; } },
};

function int4(g: number): Bench {
  return {
    block: g,
    make(k) {
      const q = quantizeInt4(randArray(m * k), m, k, g);
      let xs = new Float64Array(0);
      return { js: (out, x, n) => { if (xs.length < (n * k) / g) xs = new Float64Array((n * k) / g); matmulInt4(out, x, q.packed, q.scales, q.zeros, n, k, m, g, xs); }, kernel: "matmulInt4", bytes: int4Layout(q) };
    },
  };
}

/** The wasm product for instance K, weights placed there once (activations quantized per call for int8-dynamic, as the plugin does). */
function wasmFn(K: WasmKernels, c: ReturnType<Bench["make"]>, k: number): Js {
  if (c.bytes instanceof Float32Array) { const w = K.placeF32(c.bytes)!; return (out, x, n) => K.matmulF32(out, x, w, n, k, m); }
  const w = K.placeGguf(c.kernel, c.bytes, k, m)!;
  if (!c.dynamic) return (out, x, n) => K.matmulPlaced(c.kernel, out, x, w, n, k, m);
  let act: ReturnType<typeof int8ActivationBuffer> | undefined;
  return (out, x, n) => { act = int8ActivationBuffer(n, k, act); quantizeRowsInt8(x, n, k, act.xq, act.xs); K.matmulPlaced(c.kernel, out, act.packed, w, n, k, m); };
}

const names = arg("dtypes", Object.keys(BENCHES).join(",")).split(",");
for (const dtype of names) {
  const b = BENCHES[dtype];
  if (!b) throw new Error(`unknown dtype ${dtype}; known: ${Object.keys(BENCHES).join(", ")}`);
  const k = Math.ceil(k0 / b.block) * b.block;
  const c = b.make(k);
  const fns = instances.map((K) => wasmFn(K!, c, k));
  for (const n of ns) {
    const x = randArray(n * k), out = new Float32Array(n * m), flop = 2 * n * k * m;
    const jsG = flop / time(() => c.js(out, x, n)) / 1e9;
    threadCounts.forEach((threads, t) => {
      const wG = flop / time(() => fns[t]!(out, x, n)) / 1e9;
      console.log(JSON.stringify({ dtype, n, k, m, threads, js_gflops: +jsG.toFixed(2), wasm_gflops: +wG.toFixed(2), ratio: +(wG / jsG).toFixed(2) }));
    });
  }
}
for (const K of instances) K!.dispose();
