/**
 * WebAssembly SIMD128 matrix products (wasm/kernels.wasm, built from wasm/kernels.ts by
 * scripts/build-wasm.sh). Each instance owns one shared WebAssembly.Memory: weights are placed
 * in it once and stay there (views into shared memory survive memory.grow); activations and
 * outputs are copied through a scratch region per call. The plain-JS kernels stay the fallback
 * where WebAssembly SIMD is unavailable.
 */
import { readFileSync } from "node:fs";

const PAGE = 65536;
const MAX_PAGES = 65536; // must match --maximumMemory in scripts/build-wasm.sh

/** (module (func (result v128) v128.const i32x4 0 0 0 0)) */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** LLM_CPU_WASM=0 selects the plain-JS kernels (benchmarks of the fallback). */
function optedOut(): boolean {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    return env?.LLM_CPU_WASM === "0";
  } catch {
    return false; // Deno without --allow-env
  }
}

/**
 * Compile the kernels module (3 KB: about a millisecond), or null where WebAssembly SIMD or shared
 * memory is unavailable. Compiled per backend instance, so no module-level state is kept.
 */
function kernelsModule(): WebAssembly.Module | null {
  if (optedOut()) return null;
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE) || typeof SharedArrayBuffer !== "function") return null;
    return new WebAssembly.Module(readFileSync(new URL("./wasm/kernels.wasm", import.meta.url)));
  } catch {
    return null;
  }
}

export function wasmSimdAvailable(): boolean {
  return kernelsModule() !== null;
}

interface Exports {
  matmulF32(out: number, x: number, w: number, n: number, k: number, m: number): void;
  matmulQ8_0(out: number, x: number, w: number, n: number, k: number, m: number): void;
}

/** The kernels over one memory. Create with createWasmKernels(); one per backend instance. */
export class WasmKernels {
  private readonly memory: WebAssembly.Memory;
  private readonly fn: Exports;
  /** Weights live in [PAGE, top); the scratch region for x and out starts at top. */
  private top = PAGE;
  private heap!: Float32Array;
  private readonly resident = new WeakMap<object, number>();

  constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    this.fn = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as Exports;
    this.refresh();
  }

  private refresh(): void {
    this.heap = new Float32Array(this.memory.buffer);
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const need = Math.ceil((end - have) / PAGE), room = MAX_PAGES - have / PAGE;
      if (need > room) throw new RangeError(`wasm kernels: ${end} bytes exceed the 4 GiB wasm32 memory`);
      this.memory.grow(Math.min(room, Math.max(need, Math.ceil(have / PAGE / 8))));
    }
    if (this.heap.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
  }

  /** Reserves bytes in the weight region, or returns -1 when they do not fit in wasm32's 4 GiB (keeping 1 GiB for scratch). */
  private alloc(bytes: number): number {
    const at = this.top, end = Math.ceil((at + bytes) / 64) * 64;
    if (end > (MAX_PAGES - 16384) * PAGE) return -1;
    this.ensure(end);
    this.top = end;
    return at;
  }

  /**
   * Copies f32 data into wasm memory once; the returned view stays valid for the instance's life
   * (the space is not reclaimed). Null when the memory is full: the caller keeps its JS array.
   */
  placeF32(data: Float32Array): Float32Array | null {
    const at = this.alloc(data.byteLength);
    if (at < 0) return null;
    const view = new Float32Array(this.memory.buffer, at, data.length);
    view.set(data);
    this.resident.set(view, at);
    return view;
  }

  /** Copies raw bytes (a Q8_0 weight matrix) into wasm memory once; returns a handle for matmulQ8_0. */
  placeBytes(data: Uint8Array): Uint8Array | null {
    const at = this.alloc(data.byteLength);
    if (at < 0) return null;
    const view = new Uint8Array(this.memory.buffer, at, data.byteLength);
    view.set(data);
    this.resident.set(view, at);
    return view;
  }

  /** The wasm address of a view made by placeF32/placeBytes, or -1. */
  addressOf(view: Float32Array | Uint8Array): number {
    return this.resident.get(view) ?? -1;
  }

  private call(which: "matmulF32" | "matmulQ8_0", out: Float32Array, x: Float32Array, wAt: number, n: number, k: number, m: number): void {
    const xAt = this.top, outAt = xAt + Math.ceil((n * k * 4) / 64) * 64;
    this.ensure(outAt + n * m * 4);
    this.heap.set(x.subarray(0, n * k), xAt >> 2);
    this.fn[which](outAt, xAt, wAt, n, k, m);
    out.set(this.heap.subarray(outAt >> 2, (outAt >> 2) + n * m));
  }

  /** out[n*m] = x[n*k] · w[m*k]^T; w must come from placeF32 on this instance. */
  matmulF32(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
    const wAt = this.addressOf(w);
    if (wAt < 0) throw new Error("matmulF32: weights are not resident in this wasm memory");
    this.call("matmulF32", out, x, wAt, n, k, m);
  }

  /** out[n*m] = x[n*k] · W^T for W in Q8_0 blocks (k % 32 == 0); w must come from placeBytes. */
  matmulQ8_0(out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
    const wAt = this.addressOf(w);
    if (wAt < 0 || k % 32 !== 0) throw new Error("matmulQ8_0: weights are not resident in this wasm memory, or k % 32 != 0");
    this.call("matmulQ8_0", out, x, wAt, n, k, m);
  }
}

/** A new kernels instance with its own memory, or null where WebAssembly SIMD is unavailable. */
export function createWasmKernels(): WasmKernels | null {
  const mod = kernelsModule();
  return mod ? new WasmKernels(mod) : null;
}
