/// <reference types="@webgpu/types" />
import { LlmError } from "../../../src/util/errors.ts";

/** A WebGPU failure the user can act on: device lost, out of memory, a size over the adapter's limits. */
export class WebGpuError extends LlmError {
  constructor(message: string) {
    super(message, 1);
    this.name = "WebGpuError";
  }
}

export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** The message for an error the device reported asynchronously (uncaptured). */
export function describeGpuError(e: GPUError): string {
  const kind = e.constructor?.name ?? "GPUError";
  if (kind === "GPUOutOfMemoryError" || /out of memory/i.test(e.message)) {
    return `webgpu: out of GPU memory (${e.message.split("\n")[0]}); use a smaller model, a quantized one (--quant gguf/int4), or a smaller --max-model-len / --max-num-seqs`;
  }
  return `webgpu: the device reported a ${kind === "GPUValidationError" ? "validation" : "internal"} error: ${e.message.split("\n").slice(0, 3).join(" ")}`;
}

export function describeDeviceLost(info: GPUDeviceLostInfo): string {
  return `webgpu: the GPU device was lost (${info.reason ?? "unknown"}${info.message ? `: ${info.message.split("\n")[0]}` : ""}); results after this point are invalid: restart the run`;
}
