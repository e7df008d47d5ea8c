import type { Backend, BackendOps, BackendPlugin, DType, DeviceTensor } from "../../../src/plugin/types.ts";
import { CpuTensor, f32, i32 } from "./tensor.ts";
import * as k from "./kernels.ts";
import * as xk from "./extra-kernels.ts";
import { argmax } from "../../../src/sampling/sampler.ts";
import { createWasmKernels, type WasmKernels } from "./wasm-kernels.ts";
import { availableParallelism } from "node:os";

/**
 * The wasm addresses of arrays that all live in the kernels' memory (and the ops module loaded),
 * or null: then the JavaScript kernel runs (same bits: wasm/ops.ts mirrors kernels.ts).
 */
function resident(wasm: WasmKernels | null, ...arrays: Float32Array[]): number[] | null {
  if (!wasm || !wasm.ops()) return null;
  const at = arrays.map((a) => wasm.addressOf(a));
  return at.every((a) => a >= 0) ? at : null;
}

/**
 * The ops over typed arrays. With WebAssembly, matmul, SiLU-mul and RMSNorm run there on tensors
 * resident in the kernels' memory (every tensor this backend allocates or uploads is).
 */
/** Rotated values (tokens × heads × rotDim) from which RoPE runs in wasm. */
const ROPE_WASM_MIN = 8192;

function makeOps(wasm: WasmKernels | null): BackendOps {
  return {
    rmsNorm(out, x, weight, eps, numTokens) {
      const o = f32(out), xv = f32(x), w = f32(weight);
      const at = resident(wasm, o, xv, w);
      if (at) wasm!.rmsNorm(at[0]!, at[1]!, at[2]!, eps, numTokens, weight.shape[0]!);
      else k.rmsNorm(o, xv, w, eps, numTokens, weight.shape[0]!);
    },
    rope(x, positions, tables, numHeads, headDim, numTokens) {
      const xv = f32(x), pv = i32(positions), c = f32(tables.cos), s = f32(tables.sin);
      // Small calls (a decode row of a small model) stay in JavaScript: the wasm call's set-up costs more.
      if (numTokens * numHeads * tables.rotDim >= ROPE_WASM_MIN && wasm?.rope(xv, pv, c, s, tables.layout === "neox", tables.rotDim, numHeads, headDim, numTokens)) return;
      k.rope(xv, pv, c, s, tables.layout, tables.rotDim, numHeads, headDim, numTokens);
    },
    siluMul(out, gate, up, numTokens) {
      const o = f32(out), g = f32(gate), u = f32(up), len = numTokens * out.shape[out.shape.length - 1]!;
      const at = resident(wasm, o, g, u);
      if (at) wasm!.siluMul(at[0]!, at[1]!, at[2]!, len);
      else k.siluMul(o, g, u, len);
    },
    siluAndMul(out, x, numRows) {
      const o = f32(out), xv = f32(x), d = out.shape[out.shape.length - 1]!;
      checkRows("siluAndMul", o, numRows, d, xv, 2 * d);
      const at = resident(wasm, o, xv);
      if (at) wasm!.siluAndMul(at[0]!, at[1]!, numRows, d);
      else k.siluAndMul(o, xv, numRows, d);
    },
    geluAndMul(out, x, numRows) {
      const o = f32(out), xv = f32(x), d = out.shape[out.shape.length - 1]!;
      checkRows("geluAndMul", o, numRows, d, xv, 2 * d);
      xk.geluAndMul(o, xv, numRows, d);
    },
    splitColumns(outs, x, numRows) {
      const xv = f32(x), xCols = x.shape[x.shape.length - 1]!;
      const counts = outs.map((out) => out.shape[out.shape.length - 1]!);
      const total = counts.reduce((a, c) => a + c, 0);
      if (total !== xCols) throw new RangeError(`splitColumns: parts of ${total} columns in all from rows of ${xCols}`);
      outs.forEach((out, i) => checkRows("splitColumns", f32(out), numRows, counts[i]!, xv, xCols));
      let from = 0;
      outs.forEach((out, i) => {
        const o = f32(out), count = counts[i]!, at = resident(wasm, o, xv);
        if (at) wasm!.copyColumns(at[0]!, at[1]!, numRows, xCols, from, count);
        else k.copyColumns(o, xv, numRows, xCols, from, count);
        from += count;
      });
    },
    addInPlace(out, x, numTokens) {
      const o = f32(out), xv = f32(x), len = numTokens * out.shape[out.shape.length - 1]!;
      const at = resident(wasm, o, xv);
      if (at) wasm!.addInPlace(at[0]!, at[1]!, len);
      else k.addInPlace(o, xv, len);
    },
    gatherRows(out, x, rows, numRows) {
      k.gatherRows(f32(out), f32(x), i32(rows), numRows, x.shape[x.shape.length - 1]!);
    },
    matmul(out, x, w, numRows) {
      const wd = f32(w);
      if (wasm && wasm.addressOf(wd) >= 0) wasm.matmulF32(f32(out), f32(x), wd, numRows, w.shape[1]!, w.shape[0]!);
      else k.matmulF32(f32(out), f32(x), wd, numRows, w.shape[1]!, w.shape[0]!);
    },
    addBias: (out, bias, numRows) => xk.addBias(f32(out), f32(bias), numRows),
    scale: (x, s, numRows) => xk.scale(f32(x), s, numRows * x.shape[x.shape.length - 1]!),
    geluMul: (out, gate, up, numRows) => xk.geluMul(f32(out), f32(gate), f32(up), numRows * out.shape[out.shape.length - 1]!),
    softCap: (x, cap, numRows) => xk.softCap(f32(x), cap, numRows * x.shape[x.shape.length - 1]!),
    argmaxRows(ids, x, numRows) {
      const idv = i32(ids), xv = f32(x), len = x.shape[x.shape.length - 1]!;
      if (numRows > idv.length || numRows * len > xv.length) throw new RangeError(`argmaxRows: ${numRows} rows of ${len} into ${idv.length} ids from ${xv.length} values`);
      // Greedy sampling without copying the logits out: wasm SIMD where both are resident, else the sampler's loop.
      if (wasm?.argmaxRows(idv, xv, numRows, len)) return;
      for (let r = 0; r < numRows; r++) idv[r] = argmax(xv.subarray(r * len, (r + 1) * len));
    },
  };
}

/** A row op's operands hold numRows rows (out of outCols, x of xCols): else a RangeError, before any kernel writes. */
function checkRows(op: string, out: Float32Array, numRows: number, outCols: number, x: Float32Array, xCols: number): void {
  if (!Number.isInteger(numRows) || numRows < 0 || numRows * outCols > out.length || numRows * xCols > x.length) {
    throw new RangeError(`${op}: ${numRows} rows of ${outCols} from rows of ${xCols} do not fit tensors of ${out.length} and ${x.length} values`);
  }
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The cores this process may use (the default thread count). */
export function defaultThreads(): number {
  try {
    return Math.max(1, availableParallelism());
  } catch {
    return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
  }
}

/**
 * The reference CPU backend: plain JavaScript over typed arrays; matrix products in WebAssembly
 * SIMD128 (weights placed in this instance's wasm memory at upload) where available, split over
 * `threads` threads (a persistent worker pool over that shared memory) when large enough.
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  readonly device: string;
  readonly ops: BackendOps;
  /** The wasm kernels over this instance's memory, or null (plain-JS matmul). */
  readonly wasm: WasmKernels | null;
  private bytes = 0;

  /**
   * `threads`: threads for large matrix products (default 1). `kernels`: a kernels object to use
   * instead of this backend's own WebAssembly ones (the cpu-native backend passes its addon's),
   * with the `device` text to go with it. The backend is still named "cpu": its tensors are cpu
   * tensors, and the attention and quant plugins' cpu implementations serve it unchanged.
   */
  constructor(opts: { wasm?: boolean; threads?: number; kernels?: { kernels: WasmKernels; device: string } } = {}) {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    this.wasm = opts.kernels ? opts.kernels.kernels : opts.wasm === false ? null : createWasmKernels(threads);
    this.ops = makeOps(this.wasm);
    const t = this.wasm ? this.wasm.threads : 1;
    this.device = opts.kernels?.device ??
      (this.wasm ? `CPU (JavaScript + WebAssembly SIMD128${this.wasm.relaxedSimd ? " + relaxed SIMD" : ""}, ${t} thread${t > 1 ? "s" : ""})` : "CPU (JavaScript, 1 thread)");
  }

  empty(shape: readonly number[], dtype: DType = "f32"): DeviceTensor {
    const n = numel(shape);
    this.bytes += n * 4;
    // In wasm memory when there is one, so kernels read and write activations and the KV cache in place.
    const resident = this.wasm ? (dtype === "f32" ? this.wasm.allocArray(Float32Array, n) : this.wasm.allocArray(Int32Array, n)) : null;
    return new CpuTensor(dtype, [...shape], resident ?? (dtype === "f32" ? new Float32Array(n) : new Int32Array(n)));
  }
  upload(data: Float32Array | Int32Array, shape: readonly number[]): DeviceTensor {
    if (numel(shape) !== data.length) throw new RangeError(`upload: ${data.length} elements for shape [${shape.join(", ")}]`);
    this.bytes += data.length * 4;
    // f32 tensors (weights, norms, embedding and RoPE tables) live in wasm memory so kernels read them in place.
    const placed = this.wasm && data instanceof Float32Array ? this.wasm.placeF32(data) : null;
    if (placed) return new CpuTensor("f32", [...shape], placed);
    return new CpuTensor(data instanceof Float32Array ? "f32" : "i32", [...shape], data);
  }
  write(t: DeviceTensor, data: Float32Array | Int32Array): void {
    (t as CpuTensor).data.set(data);
  }
  async read(t: DeviceTensor, count?: number): Promise<Float32Array | Int32Array> {
    const d = (t as CpuTensor).data;
    return d.slice(0, count ?? d.length);
  }
  free(t: DeviceTensor): void {
    this.bytes -= (t as CpuTensor).data.length * 4;
  }
  allocatedBytes(): number {
    return this.bytes;
  }
  dispose(): void {
    this.wasm?.dispose();
    this.bytes = 0;
  }
}

export const cpuBackendPlugin: BackendPlugin = {
  kind: "backend",
  name: "cpu",
  description: "reference CPU backend in plain JavaScript (runs everywhere); matmul in WebAssembly SIMD128 where available",
  async probe() {
    return [];
  },
  async create(opts) {
    return new CpuBackend({ threads: opts.threads ?? defaultThreads() });
  },
};
