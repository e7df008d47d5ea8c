/**
 * Matmul micro-benchmark: plain-JS kernel vs WebAssembly SIMD128, f32 and Q8_0 weights.
 * One JSON line per case: {kernel, n, k, m, js_gflops, wasm_gflops, ratio}.
 * Usage: npx tsx bench/matmul.ts [--k 576] [--m 1536] [--n 1,8,32] [--seconds 1]
 */
import { matmulF32 } from "../plugins/backend/cpu/kernels.ts";
import { matmulQ8_0 } from "../plugins/quant/gguf/cpu-kernels.ts";
import { createWasmKernels } from "../plugins/backend/cpu/wasm-kernels.ts";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : dflt; };
const k = Number(arg("k", "576")), m = Number(arg("m", "1536")), seconds = Number(arg("seconds", "1"));
const ns = arg("n", "1,8,32").split(",").map(Number);

const K = createWasmKernels();
if (!K) throw new Error("WebAssembly SIMD is not available on this runtime");

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
const wF32 = Float32Array.from({ length: m * k }, rnd);
const wRes = K.placeF32(wF32)!;
const q8 = new Uint8Array((m * k / 32) * 34);
for (let b = 0; b < q8.length; b += 34) { q8[b] = 0x00; q8[b + 1] = 0x20; for (let p = 0; p < 32; p++) q8[b + 2 + p] = (rnd() * 127) & 0xff; }
const q8Res = K.placeBytes(q8)!;

for (const kernel of ["f32", "q8_0"] as const) {
  for (const n of ns) {
    const x = Float32Array.from({ length: n * k }, rnd), out = new Float32Array(n * m);
    const flop = 2 * n * k * m;
    const js = kernel === "f32" ? time(() => matmulF32(out, x, wF32, n, k, m)) : time(() => matmulQ8_0(out, x, q8, n, k, m));
    const wasm = kernel === "f32" ? time(() => K.matmulF32(out, x, wRes, n, k, m)) : time(() => K.matmulQ8_0(out, x, q8Res, n, k, m));
    const jsG = flop / js / 1e9, wG = flop / wasm / 1e9;
    console.log(JSON.stringify({ kernel, n, k, m, js_gflops: +jsG.toFixed(2), wasm_gflops: +wG.toFixed(2), ratio: +(wG / jsG).toFixed(2) }));
  }
}
