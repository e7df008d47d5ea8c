/**
 * The cpu-native addon (build/cpu_native.node, built from native/*.c by scripts/build-native.sh)
 * behind the WasmKernels interface: weights are placed in the same shared wasm memory as for the
 * WebAssembly kernels, and the products the addon has (f32, Q8_0, Q4_0, F16) run there in C with
 * AVX2/FMA (or portable C), over the addon's own thread pool, reading x and writing out in place.
 * Q8_0 and Q4_0 follow the q8-activation contract (as llama.cpp): x rows are quantized to Q8_0 once
 * per call and each block is an exact integer dot product, with a pinned f32 accumulation order, so
 * results do not depend on the thread count, the batch size or AVX2 vs portable C.
 * Every other kernel falls through to WebAssembly.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { WasmKernels, kernelsModule, type KernelName } from "../cpu/wasm-kernels.ts";

/** The addon's exports (see native/cpu_native.c). */
export interface CpuNativeAddon {
  createPool(threads: number): object;
  destroyPool(pool: object): void;
  poolThreads(pool: object): number;
  matmul(pool: object, kind: number, out: Float32Array, x: Float32Array, w: Uint8Array | Float32Array, n: number, k: number, m: number): void;
  attend(pool: object, mem: Uint8Array, tableAt: number, count: number, headDim: number, scale: number, parallel: boolean): void;
  features(): string;
  numProcs(): number;
}

/** Addon kind numbers by wasm kernel name (native/matmul.h), for the weight layouts both read alike. */
const NATIVE_KINDS: Partial<Record<KernelName | string, { kind: number; bytes: (k: number, m: number) => number }>> = {
  matmulF32: { kind: 0, bytes: (k, m) => k * m * 4 },
  matmulQ8_0: { kind: 1, bytes: (k, m) => (k / 32) * 34 * m },
  matmulQ4_0: { kind: 2, bytes: (k, m) => (k / 32) * 18 * m },
  matmulF16: { kind: 3, bytes: (k, m) => k * m * 2 },
};

export const ADDON_PATH = new URL("./build/cpu_native.node", import.meta.url);

/** The addon, or the reason it cannot be loaded here. */
export function loadCpuNativeAddon(): { addon: CpuNativeAddon } | { reason: string } {
  const path = ADDON_PATH.pathname;
  if (!existsSync(path)) return { reason: `the cpu-native addon is not built (${"plugins/backend/cpu-native/build/cpu_native.node"} missing); build it with \`npm run build:native\` (needs a C compiler: apt-get install gcc)` };
  try {
    const addon = createRequire(import.meta.url)(path) as CpuNativeAddon;
    if (typeof addon.matmul !== "function" || typeof addon.createPool !== "function") return { reason: `${path} is not the cpu-native addon (rebuild it with npm run build:native)` };
    return { addon };
  } catch (e) {
    return { reason: `the cpu-native addon does not load on this runtime: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` };
  }
}

/** Attention work (keys read × head size) below which the caller's thread alone is faster than waking the pool. */
const ATTEND_PARALLEL_MIN_MACS = 1 << 16;

export class NativeKernels extends WasmKernels {
  private readonly nativePool: object;
  private readonly views = new Map<number, Uint8Array>();
  private memBytes: Uint8Array | null = null;

  constructor(module: WebAssembly.Module, threads: number, private readonly addon: CpuNativeAddon) {
    super(module, threads);
    this.nativePool = addon.createPool(threads);
  }

  /** Q8_0 and Q4_0 stay in GGUF's blocks as stored (the C kernels read them in place); other types as for WebAssembly. */
  override placeGguf(which: KernelName, blocks: Uint8Array, k: number, m: number): Uint8Array | null {
    return which === "matmulQ8_0" || which === "matmulQ4_0" ? this.placeBytes(blocks) : super.placeGguf(which, blocks, k, m);
  }

  protected override weightProblem(which: KernelName, w: Uint8Array, k: number, m: number): string | null {
    if (which !== "matmulQ8_0" && which !== "matmulQ4_0") return super.weightProblem(which, w, k, m);
    if (k % 32 !== 0) return `${which}: a [${m}, ${k}] weight matrix needs a row length that is a multiple of 32`;
    const need = NATIVE_KINDS[which]!.bytes(k, m);
    return w.byteLength < need ? `${which}: a [${m}, ${k}] weight matrix needs ${need} placed bytes, got ${w.byteLength}` : null;
  }

  /**
   * The WebAssembly pool runs only the elementwise ops here, between products on the C pool: its
   * workers spin 50 µs, not 2 ms, so they do not take a core from the C threads' next product.
   */
  protected override poolSpinMs(): number {
    return 0.05;
  }

  /** Instruction set the addon's kernels use ("avx2 fma f16c" or "generic"). */
  features(): string {
    return this.addon.features();
  }

  override call(which: KernelName, out: Float32Array, x: Float32Array, wAt: number, n: number, k: number, m: number): void {
    const nat = NATIVE_KINDS[which];
    if (!nat) return super.call(which, out, x, wAt, n, k, m);
    const bytes = nat.bytes(k, m);
    let w = this.views.get(wAt);
    if (!w || w.byteLength < bytes) {
      w = new Uint8Array(this.memory.buffer, wAt, bytes);
      this.views.set(wAt, w);
    }
    this.addon.matmul(this.nativePool, nat.kind, out, x, w, n, k, m);
  }

  /** Attention in C (native/attention.h) for head sizes that are multiples of 8; WebAssembly otherwise. */
  override attendItems(tableAt: number, count: number, headDim: number, scale: number, keys: number): boolean {
    if (headDim % 8 !== 0) return super.attendItems(tableAt, count, headDim, scale, keys);
    if (this.memBytes?.buffer !== this.memory.buffer) this.memBytes = new Uint8Array(this.memory.buffer);
    this.addon.attend(this.nativePool, this.memBytes, tableAt, count, headDim, scale, keys * headDim >= ATTEND_PARALLEL_MIN_MACS);
    return true;
  }

  override dispose(): void {
    this.addon.destroyPool(this.nativePool);
    super.dispose();
  }
}

/** Native kernels over a new wasm memory, or the reason they are unavailable. */
export function createNativeKernels(threads: number): NativeKernels | { reason: string } {
  const loaded = loadCpuNativeAddon();
  if ("reason" in loaded) return loaded;
  const mod = kernelsModule();
  if (!mod) return { reason: "cpu-native places weights in WebAssembly memory, and WebAssembly SIMD or SharedArrayBuffer is unavailable here" };
  return new NativeKernels(mod, threads, loaded.addon);
}
