/// <reference types="@webgpu/types" />
import type { DType, DeviceTensor } from "../../../src/plugin/types.ts";

/** A tensor in a GPU storage buffer (the buffer may be larger: buffers are pooled by size). */
export class WebGpuTensor implements DeviceTensor {
  readonly backend = "webgpu";
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly buffer: GPUBuffer,
    /** Bytes of the tensor's data (4 per element). */
    readonly byteLength: number,
  ) {}
}

export function gpuTensor(t: DeviceTensor): WebGpuTensor {
  if (!(t instanceof WebGpuTensor)) throw new TypeError(`expected a webgpu tensor, got one of backend "${t.backend}"`);
  return t;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
