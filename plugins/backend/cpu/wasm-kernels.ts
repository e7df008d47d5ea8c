/**
 * WebAssembly SIMD128 matrix products (wasm/kernels.wasm, built from wasm/kernels.ts by
 * scripts/build-wasm.sh). Each instance owns one shared WebAssembly.Memory: weights are placed
 * in it once and stay there (views into shared memory survive memory.grow); activations and
 * outputs are copied through a scratch region per call. Q8_0 and Q4_0 products first quantize the
 * activations to Q8_0 on the calling thread, into that scratch region (wasm/q8act.ts): every
 * thread then reads the same int8 rows. Products large enough to pay for it are
 * split by output columns over a persistent pool of worker threads sharing that memory
 * (thread-pool.ts), started on first use. The plain-JS kernels stay the fallback where
 * WebAssembly SIMD is unavailable.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { SPIN_MS, WasmThreadPool, type KernelFn } from "./thread-pool.ts";
import { ggufX8Layout, placedProblem } from "./wasm/layouts.ts";

const PAGE = 65536;
const MAX_PAGES = 65536; // must match --maximumMemory in scripts/build-wasm.sh

/** (module (func (result v128) v128.const i32x4 0 0 0 0)) */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/**
 * (module (func (export "f") (result i32) (i16x8.extract_lane_s 0 (i16x8.relaxed_dot_i8x16_i7x16_s
 * (v128.const i8x16 -127 5 3 2 1 1 1 1 0 0 0 0 9 9 9 9) (v128.const i8x16 15 15 1 1 2 2 2 2 3 3 3 3 127 0 0 0)))))
 * returns -127·15 + 5·15 = -1830 where the first operand is read as signed and the second's
 * 7-bit bytes as themselves, the only reading kernels-relaxed.wasm relies on.
 */
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 46, 1, 44, 0,
  253, 12, 129, 5, 3, 2, 1, 1, 1, 1, 0, 0, 0, 0, 9, 9, 9, 9, 253, 12, 15, 15, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 127, 0,
  0, 0, 253, 146, 2, 253, 24, 0, 11,
]);

/** LLM_CPU_WASM: "0" selects the plain-JS kernels, "simd128" the kernels without relaxed SIMD (benchmarks of the fallbacks). */
function wasmChoice(): string | undefined {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    return env?.LLM_CPU_WASM;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function relaxedProbeRuns(): boolean {
  if (!WebAssembly.validate(RELAXED_PROBE)) return false;
  const f = new WebAssembly.Instance(new WebAssembly.Module(RELAXED_PROBE)).exports.f as () => number;
  return f() === -1830;
}

/**
 * Whether this engine runs relaxed SIMD's i16x8.relaxed_dot_i8x16_i7x16_s as kernels-relaxed.wasm
 * needs. Bun, Deno and Node 22+ have it; Node 20-21 (V8 11.x) have it behind
 * --experimental-wasm-relaxed-simd, which is turned on here (a V8 flag for the whole process; it
 * only lets modules that use relaxed SIMD validate). The probe then checks the instruction's
 * result, so an engine whose implementation differs keeps kernels.wasm.
 */
export function relaxedSimdAvailable(): boolean {
  try {
    if (relaxedProbeRuns()) return true;
    const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions;
    const major = Number(versions?.node?.split(".")[0]);
    if (versions?.bun || versions?.deno || !(major === 20 || major === 21)) return false;
    const v8 = createRequire(import.meta.url)("node:v8") as { setFlagsFromString(flags: string): void };
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    return relaxedProbeRuns();
  } catch {
    return false;
  }
}

/**
 * Compile the kernels module (about 30 KB: under a millisecond), or null where WebAssembly SIMD
 * or shared memory is unavailable. `variant`: "auto" takes kernels-relaxed.wasm where
 * relaxedSimdAvailable() (identical results, faster Q4_0 products over many rows) unless
 * LLM_CPU_WASM=simd128; "simd128" and "relaxed" ask for one (null when it cannot run).
 * Compiled per backend instance, so no module-level state is kept.
 */
export function kernelsModule(variant: "auto" | "simd128" | "relaxed" = "auto"): WebAssembly.Module | null {
  const choice = wasmChoice();
  if (choice === "0") return null;
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE) || typeof SharedArrayBuffer !== "function") return null;
    const relaxed = variant === "relaxed" || (variant === "auto" && choice !== "simd128");
    if (relaxed && relaxedSimdAvailable()) return new WebAssembly.Module(readFileSync(new URL("./wasm/kernels-relaxed.wasm", import.meta.url)));
    if (variant === "relaxed") return null;
    return new WebAssembly.Module(readFileSync(new URL("./wasm/kernels.wasm", import.meta.url)));
  } catch {
    return null;
  }
}

export function wasmSimdAvailable(): boolean {
  return kernelsModule() !== null;
}

/** The matrix-product kernels of kernels.wasm, all (out, x, w, n, k, m, j0, j1): columns j0..j1 of x · W^T. */
export const KERNEL_NAMES = [
  "matmulF32", "matmulQ8_0", "matmulF16", "matmulBF16", "matmulQ4_0", "matmulInt4", "matmulQ4_K", "matmulQ6_K",
  "matmulCode8", "matmulInt8Dynamic",
] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** Exports of wasm/ops.wasm (addresses are byte offsets into the kernels' memory); see wasm/ops.ts. */
export interface OpsKernels {
  attendHead(out: number, q: number, kBase: number, vBase: number, offs: number, len: number, headDim: number, scale: number, sc: number, acc: number): void;
  attendItems: KernelFn;
  /** f16-cache attention in half precision (wasm/attend-half.ts), seven words per item. */
  attendHalfItems: KernelFn;
  /** int8/fp8 KV cache rows decoded to f32 (wasm/kv-dequant.ts); fp8Table 0 for int8. */
  dequantKv8(dst: number, cache: number, slots: number, n: number, numKvHeads: number, headDim: number, wordsPerHead: number, codeWords: number, fp8Table: number): void;
  siluMulRange: KernelFn;
  /** A merged [gate | up] product's rows to silu(gate) · up (n = half the row). */
  siluAndMulRows: KernelFn;
  /** Columns [k, k + n) of rows of w values into rows of n. */
  copyColumnsRows: KernelFn;
  rmsNormRows: KernelFn;
  addRange: KernelFn;
  siluMul(out: number, gate: number, up: number, len: number): void;
  rmsNorm(out: number, x: number, w: number, eps: number, n: number, dim: number): void;
  dexp(x: number): number;
  /** Gives this thread's instance its scratch region (attention scores). */
  setScratch?(at: number, bytes: number): void;
}

/**
 * Kernels whose x is the Q8_0-quantized activation buffer of wasm/q8act.ts (quantizeQ8_0Rows),
 * written by call() from the f32 rows: the "q8 activations" contract shared with cpu-native.
 */
const Q8_ACTIVATION_KERNELS: ReadonlySet<KernelName> = new Set<KernelName>(["matmulQ8_0", "matmulQ4_0"]);

/**
 * Bytes of that buffer for n rows of k (k % 32 == 0): per 4-row group and block, 4 × 32 int16
 * codes and 4 f32 scales (272 bytes), which kernels-relaxed.wasm follows with the codes as int8
 * and their sums (416); the larger is reserved for both.
 */
export function q8ActivationBytes(n: number, k: number): number {
  return Math.ceil(n / 4) * (k / 32) * 416;
}

/** Multiply-adds below which a product runs on the calling thread alone (waking the pool costs ~10-30 µs). */
const PARALLEL_MIN_MACS = 1 << 18;
/** Element visits below which an elementwise op stays on the calling thread. */
const PARALLEL_MIN_OPS = 1 << 13;
/** The same for a copy or an add (a few instructions per value: splitting pays off later; measured, 32 rows of 576 ran faster alone). */
const PARALLEL_MIN_MOVES = 1 << 15;
/** The kernels.wasm functions the pool runs: the products, then the q8-activation quantizer by row ranges. */
const POOL_KERNELS = [...KERNEL_NAMES, "quantizeQ8_0RowRange"] as const;
/** ops.wasm functions the pool runs, after POOL_KERNELS. */
const POOL_OPS = ["attendItems", "siluMulRange", "rmsNormRows", "addRange", "attendHalfItems", "siluAndMulRows", "copyColumnsRows"] as const;
/**
 * Bytes of kernel scratch per thread: a Q4_0 column group widened to Q8_0 (288 bytes per 32
 * inputs), or one query's attention scores (4 bytes per key; longer rows take the online softmax).
 */
const KERNEL_SCRATCH_BYTES = 128 * 1024;
/** Placed weight bytes from which the pool starts at placement rather than at the first large product. */
const EAGER_POOL_WEIGHT_BYTES = 256 * 1024;
/** Activation values below which the q8 quantizer stays on the calling thread (32 decode rows of 576 are split: 1.6% faster decode steps, paired A/B). */
const PARALLEL_MIN_QUANT = 1 << 13;

/** The kernels over one memory. Create with createWasmKernels(); one per backend instance. */
export class WasmKernels {
  protected readonly memory: WebAssembly.Memory;
  private readonly fn: Record<KernelName, KernelFn>;
  private readonly quantizeQ8_0Rows: (dst: number, src: number, n: number, k: number) => void;
  private readonly quantizeQ8_0RowRange: KernelFn;
  private readonly scratch: { at: number; bytes: number };
  /** Whether the module is kernels-relaxed.wasm (its Q4_0 products over many rows use relaxed SIMD; same results). */
  readonly relaxedSimd: boolean;
  private readonly argmaxFn: (ids: number, x: number, n: number, len: number) => void;
  private readonly ropeFn: (...args: number[]) => void;
  private pool: WasmThreadPool | null = null;
  private opsKernels: OpsKernels | null | undefined = undefined;
  private epsCell: Float64Array | null = null;
  private opsModule: WebAssembly.Module | null = null;
  private readonly f32Bits = new Float32Array(1);
  private readonly i32Bits = new Int32Array(this.f32Bits.buffer);
  /** Weights live in [PAGE, top); the scratch region for x and out starts at top. */
  private top = PAGE;
  private heap!: Float32Array;
  private readonly resident = new WeakMap<object, number>();

  /** `threads`: how many threads large products use (the calling one included). */
  constructor(private readonly module: WebAssembly.Module, private numThreads = 1) {
    const threads = numThreads;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    this.fn = exports as unknown as Record<KernelName, KernelFn>;
    this.quantizeQ8_0Rows = exports.quantizeQ8_0Rows as (dst: number, src: number, n: number, k: number) => void;
    this.quantizeQ8_0RowRange = exports.quantizeQ8_0RowRange as KernelFn;
    this.relaxedSimd = (exports.relaxedSimd as (() => number) | undefined)?.() === 1;
    this.argmaxFn = exports.argmaxRows as (ids: number, x: number, n: number, len: number) => void;
    this.ropeFn = exports.ropeRows as (...args: number[]) => void;
    this.refresh();
    // Per-thread kernel scratch (wasm/q8act.ts setScratch): this thread's region first, then each worker's.
    const at = this.alloc(threads * KERNEL_SCRATCH_BYTES);
    this.scratch = { at, bytes: KERNEL_SCRATCH_BYTES };
    (exports.setScratch as ((at: number, bytes: number) => void) | undefined)?.(at, KERNEL_SCRATCH_BYTES);
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
    this.startThreadsFor(data.byteLength);
    return view;
  }

  /**
   * Starts the worker threads when weights this large are placed (products over them are split
   * even for one row), so that their start-up (0.1-0.2 s) overlaps loading, not the first request.
   */
  private startThreadsFor(weightBytes: number): void {
    if (this.threads > 1 && weightBytes >= EAGER_POOL_WEIGHT_BYTES) this.pool ??= this.startPool();
  }

  /** Why placed weights `w` cannot be read by kernel `which` as a [m, k] matrix (layouts.ts placedProblem), or null. */
  protected weightProblem(which: KernelName, w: Uint8Array, k: number, m: number): string | null {
    return placedProblem(which, w, k, m);
  }

  /**
   * Places a GGUF weight matrix [m, k] for kernel `which`: Q8_0 and Q4_0 blocks regrouped into the
   * x8 layout their kernels read (wasm/q8act.ts), other types as stored; null when out of memory.
   */
  placeGguf(which: KernelName, blocks: Uint8Array, k: number, m: number): Uint8Array | null {
    return this.placeBytes(which === "matmulQ8_0" || which === "matmulQ4_0" ? ggufX8Layout(which, blocks, k, m) : blocks);
  }

  /** Copies raw bytes (a Q8_0 weight matrix) into wasm memory once; returns a handle for matmulQ8_0. */
  placeBytes(data: Uint8Array): Uint8Array | null {
    const at = this.alloc(data.byteLength);
    if (at < 0) return null;
    const view = new Uint8Array(this.memory.buffer, at, data.byteLength);
    view.set(data);
    this.resident.set(view, at);
    this.startThreadsFor(data.byteLength);
    return view;
  }

  /**
   * A new zeroed array of `length` elements in wasm memory (activations, KV cache: kernels then
   * read and write them in place, no copies), or null when it does not fit.
   */
  allocArray<T extends Float32Array | Int32Array | Float64Array>(ctor: { new (b: ArrayBufferLike, at: number, n: number): T; BYTES_PER_ELEMENT: number }, length: number): T | null {
    const at = this.alloc(length * ctor.BYTES_PER_ELEMENT);
    if (at < 0) return null;
    const view = new ctor(this.memory.buffer, at, length);
    view.fill(0); // the region may have been scratch space before
    this.resident.set(view, at);
    return view;
  }

  /** The wasm address of a view made by placeF32/placeBytes/allocArray, or -1. */
  addressOf(view: ArrayBufferView): number {
    return this.resident.get(view) ?? -1;
  }

  /**
   * out[n*m] = x[n*k] · W^T with kernel `which` over weights resident at wAt: x is copied into the
   * scratch region, the product runs (over the pool when large), out is copied back.
   */
  call(which: KernelName, out: Float32Array, x: Float32Array, wAt: number, n: number, k: number, m: number): void {
    // x and out are used in place when they live in this memory (allocArray), else copied through scratch.
    let xAt = this.addressOf(x), outAt = this.addressOf(out);
    const scratch = this.top;
    if (xAt < 0) xAt = scratch;
    if (outAt < 0) outAt = scratch + Math.ceil((n * k * 4) / 64) * 64;
    this.ensure(Math.max(xAt + n * k * 4, outAt + n * m * 4));
    if (xAt === scratch) this.heap.set(x.subarray(0, n * k), xAt >> 2);
    if (Q8_ACTIVATION_KERNELS.has(which)) {
      // x quantized to Q8_0 once (split by rows over the pool when large), into scratch after x and out: every thread reads the same bits.
      if (k % 32 !== 0) throw new RangeError(`${which}: row length k = ${k} must be a multiple of 32`);
      const qAt = scratch + Math.ceil((n * k * 4) / 64) * 64 + Math.ceil((n * m * 4) / 64) * 64;
      this.ensure(qAt + q8ActivationBytes(n, k));
      if (this.threads > 1 && n >= 16 && n * k >= PARALLEL_MIN_QUANT) {
        this.pool ??= this.startPool();
        this.pool.run(POOL_KERNELS.indexOf("quantizeQ8_0RowRange"), this.quantizeQ8_0RowRange, qAt, xAt, 0, n, k, n);
      } else {
        this.quantizeQ8_0Rows(qAt, xAt, n, k);
      }
      xAt = qAt;
    }
    const fn = this.fn[which];
    if (this.threads > 1 && n * k * m >= PARALLEL_MIN_MACS && m >= 8 * this.threads) {
      this.pool ??= this.startPool();
      this.pool.run(KERNEL_NAMES.indexOf(which), fn, outAt, xAt, wAt, n, k, m);
    } else {
      fn(outAt, xAt, wAt, n, k, m, 0, m);
    }
    if (outAt >= scratch) out.set(this.heap.subarray(outAt >> 2, (outAt >> 2) + n * m));
  }

  /**
   * The non-matmul loops (wasm/ops.wasm over this memory: attention, SiLU-mul, RMSNorm),
   * instantiated on first use; null where that module cannot load. See wasm/ops.ts.
   */
  ops(): OpsKernels | null {
    if (this.opsKernels === undefined) {
      try {
        const mod = new WebAssembly.Module(readFileSync(new URL("./wasm/ops.wasm", import.meta.url)));
        this.opsKernels = new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as unknown as OpsKernels;
        this.opsModule = mod;
        // The same per-thread scratch as kernels.wasm (a thread runs one of them at a time).
        this.opsKernels.setScratch?.(this.scratch.at, this.scratch.bytes);
      } catch {
        this.opsKernels = null;
      }
    }
    return this.opsKernels;
  }

  /** How long the pool's idle workers spin before they sleep (thread-pool.ts SPIN_MS). */
  protected poolSpinMs(): number {
    return SPIN_MS;
  }

  private startPool(): WasmThreadPool {
    const opsModule = this.ops() ? this.opsModule : null;
    return new WasmThreadPool(this.module, this.memory, [...POOL_KERNELS, ...POOL_OPS.map((o) => `ops.${o}`)], this.threads, opsModule, this.scratch, this.poolSpinMs());
  }

  /**
   * Attention over `count` items of the table at `tableAt` (six i32 words each, see wasm/ops.ts
   * attendItems), split over the pool's threads when the work (`keys`: keys read over all items,
   * times headDim) pays for waking it. False when the ops module is unavailable.
   */
  attendItems(tableAt: number, count: number, headDim: number, scale: number, keys: number): boolean {
    const ops = this.ops();
    if (!ops) return false;
    this.f32Bits[0] = scale;
    const bits = this.i32Bits[0]!;
    if (this.threads > 1 && count >= 8 * this.threads && keys * headDim >= PARALLEL_MIN_MACS) {
      this.pool ??= this.startPool();
      this.pool.run(POOL_KERNELS.length + POOL_OPS.indexOf("attendItems"), ops.attendItems, tableAt, 0, 0, headDim, bits, count);
    } else {
      ops.attendItems(tableAt, 0, 0, headDim, bits, count, 0, count);
    }
    return true;
  }

  /**
   * f16-cache attention over `count` items of the table at `tableAt` (seven i32 words each, see
   * wasm/attend-half.ts attendHalfItems), split over the pool's threads as attendItems is (each
   * item's bits do not depend on the split). False when the ops module is unavailable.
   */
  attendHalfItems(tableAt: number, count: number, headDim: number, scale: number, keys: number): boolean {
    const ops = this.ops();
    if (!ops) return false;
    this.f32Bits[0] = scale;
    const bits = this.i32Bits[0]!;
    // A key costs about 4x an f32 one here (an f16 rounding per V element), so the pool pays off sooner.
    if (this.threads > 1 && count >= 8 * this.threads && keys * headDim * 4 >= PARALLEL_MIN_MACS) {
      this.pool ??= this.startPool();
      this.pool.run(POOL_KERNELS.length + POOL_OPS.indexOf("attendHalfItems"), ops.attendHalfItems, tableAt, 0, 0, headDim, bits, count);
    } else {
      ops.attendHalfItems(tableAt, 0, 0, headDim, bits, count, 0, count);
    }
    return true;
  }

  /**
   * An elementwise or row op of ops.wasm over m elements (or rows), split over the pool when the
   * work (`work` element visits) pays for waking it; identical bits either way.
   */
  private runOp(op: (typeof POOL_OPS)[number], out: number, x: number, w: number, n: number, k: number, m: number, work: number): void {
    const fn = this.ops()![op];
    const min = op === "copyColumnsRows" || op === "addRange" ? PARALLEL_MIN_MOVES : PARALLEL_MIN_OPS;
    if (this.threads > 1 && work >= min && m >= 8 * this.threads) {
      this.pool ??= this.startPool();
      this.pool.run(POOL_KERNELS.length + POOL_OPS.indexOf(op), fn, out, x, w, n, k, m);
    } else {
      fn(out, x, w, n, k, m, 0, m);
    }
  }

  /** out = silu(gate) * up over len elements (addresses in this memory). */
  siluMul(out: number, gate: number, up: number, len: number): void {
    this.runOp("siluMulRange", out, gate, up, 0, 0, len, len);
  }

  /** out[r] = silu(x[r, :d]) * x[r, d:] for `rows` rows of 2d (a merged gate/up product; addresses in this memory). */
  siluAndMul(out: number, x: number, rows: number, d: number): void {
    this.runOp("siluAndMulRows", out, x, 0, d, 0, rows, rows * d);
  }

  /** out[r] = x[r, from:from + count] for `rows` rows of xCols (addresses in this memory). */
  copyColumns(out: number, x: number, rows: number, xCols: number, from: number, count: number): void {
    this.runOp("copyColumnsRows", out, x, xCols, count, from, rows, rows * count);
  }

  /** RMSNorm of n rows of dim (addresses in this memory); eps is passed through an f64 in this memory. */
  rmsNorm(out: number, x: number, w: number, eps: number, n: number, dim: number): void {
    this.epsCell ??= this.allocArray(Float64Array, 1);
    if (!this.epsCell) return this.ops()!.rmsNorm(out, x, w, eps, n, dim);
    this.epsCell[0] = eps;
    this.runOp("rmsNormRows", out, x, w, dim, this.addressOf(this.epsCell), n, n * dim);
  }

  /** out += x over len f32 elements (addresses in this memory). */
  addInPlace(out: number, x: number, len: number): void {
    this.runOp("addRange", out, x, 0, 0, 0, len, len);
  }

  /** Ends the worker threads (if any were started); the instance stays usable on one thread. */
  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
    this.numThreads = 1;
  }

  /** The worker pool's state (null before a product large enough to start it): see WasmThreadPool.status. */
  poolStatus(): ReturnType<WasmThreadPool["status"]> | null {
    return this.pool?.status() ?? null;
  }

  /** Threads that large products run on (the calling one included). */
  get threads(): number {
    return this.numThreads;
  }

  /**
   * ids[r] = the index of the largest value of row r of x [n, len] (wasm/argmax.ts: the
   * sampler's argmax, ties to the lowest index), both arrays resident in this memory (allocArray);
   * false when they are not.
   */
  argmaxRows(ids: Int32Array, x: Float32Array, n: number, len: number): boolean {
    const idsAt = this.addressOf(ids), xAt = this.addressOf(x);
    if (idsAt < 0 || xAt < 0 || ids.length < n || x.length < n * len) return false;
    this.argmaxFn(idsAt, xAt, n, len);
    return true;
  }

  /**
   * In-place RoPE (wasm/rope.ts: the bits of kernels.ts rope) when x, positions, cos and sin are
   * all resident in this memory; false otherwise (the caller runs the JavaScript loop).
   */
  rope(x: Float32Array, positions: Int32Array, cos: Float32Array, sin: Float32Array, neox: boolean, rotDim: number, heads: number, headDim: number, n: number): boolean {
    const xAt = this.addressOf(x), pAt = this.addressOf(positions), cAt = this.addressOf(cos), sAt = this.addressOf(sin);
    if (xAt < 0 || pAt < 0 || cAt < 0 || sAt < 0 || x.length < n * heads * headDim || positions.length < n) return false;
    const half = rotDim >> 1;
    for (let t = 0; t < n; t++) if (positions[t]! < 0 || (positions[t]! + 1) * half > Math.min(cos.length, sin.length)) return false;
    this.ropeFn(xAt, pAt, cAt, sAt, neox ? 1 : 0, rotDim, heads, headDim, n);
    return true;
  }

  /** out[n*m] = x[n*k] · w[m*k]^T; w must come from placeF32 on this instance. */
  matmulF32(out: Float32Array, x: Float32Array, w: Float32Array, n: number, k: number, m: number): void {
    const wAt = this.addressOf(w);
    if (wAt < 0) throw new Error("matmulF32: weights are not resident in this wasm memory");
    this.call("matmulF32", out, x, wAt, n, k, m);
  }

  /**
   * out[n*m] = x[n*k] · W^T for W in Q8_0 blocks (k % 32 == 0); w must come from placeGguf. x is
   * quantized to Q8_0 per 32-value block first (int8 activations, integer block dots: llama.cpp's
   * ggml_vec_dot_q8_0_q8_0 with a fixed f32 accumulation order; see wasm/q8act.ts).
   */
  matmulQ8_0(out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
    const wAt = this.addressOf(w);
    if (wAt < 0 || k % 32 !== 0) throw new Error("matmulQ8_0: weights are not resident in this wasm memory, or k % 32 != 0");
    this.call("matmulQ8_0", out, x, wAt, n, k, m);
  }

  /**
   * out[n*m] = x[n*k] · W^T with kernel `which` over weight bytes from placeBytes, laid out as that
   * kernel reads them (GGUF blocks as stored, or a layout of wasm/layouts.ts). x is copied as
   * n*k f32 words (matmulInt8Dynamic reads packed int8 rows from it, see int8ActivationBuffer).
   */
  matmulPlaced(which: KernelName, out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number): void {
    const wAt = this.addressOf(w);
    if (wAt < 0) throw new Error(`${which}: weights are not resident in this wasm memory`);
    const problem = this.weightProblem(which, w, k, m);
    if (problem) throw new RangeError(problem);
    this.call(which, out, x, wAt, n, k, m);
  }
}

/**
 * A new kernels instance with its own memory, or null where WebAssembly SIMD is unavailable
 * (`variant` as in kernelsModule: tests pin one module).
 */
export function createWasmKernels(threads = 1, variant: "auto" | "simd128" | "relaxed" = "auto"): WasmKernels | null {
  const mod = kernelsModule(variant);
  return mod ? new WasmKernels(mod, threads) : null;
}
