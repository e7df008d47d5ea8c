import type { DType, DeviceTensor } from "../../../src/plugin/types.ts";

/** A CPU "device" tensor: a typed array in host memory. */
export class CpuTensor implements DeviceTensor {
  readonly backend = "cpu";
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly data: Float32Array | Int32Array,
  ) {}
}

/** The f32 array behind a cpu tensor (plugins' cpu implementations use this). */
export function f32(t: DeviceTensor): Float32Array {
  if (!(t instanceof CpuTensor) || !(t.data instanceof Float32Array)) {
    throw new Error(`expected an f32 cpu tensor, got ${t.backend}/${t.dtype}`);
  }
  return t.data;
}

/** The i32 array behind a cpu tensor. */
export function i32(t: DeviceTensor): Int32Array {
  if (!(t instanceof CpuTensor) || !(t.data instanceof Int32Array)) {
    throw new Error(`expected an i32 cpu tensor, got ${t.backend}/${t.dtype}`);
  }
  return t.data;
}
