import type { BackendPlugin } from "../../../src/plugin/types.ts";
import { acquireAdapter } from "./gpu-api.ts";

/**
 * WebGPU backend plugin: WGSL kernels on the adapter that Deno's navigator.gpu or Node's `webgpu`
 * package (Dawn) provides. probe() finds an adapter (or says why none); create() opens a device.
 */
export const webgpuBackendPlugin: BackendPlugin = {
  kind: "backend",
  name: "webgpu",
  description: "WebGPU (WGSL kernels; Deno navigator.gpu or Node's webgpu package): weights resident on the GPU, one command buffer per step",
  async probe() {
    const got = await acquireAdapter();
    return "reasons" in got ? got.reasons : [];
  },
  async create() {
    const { WebGpuBackend } = await import("./backend.ts");
    return WebGpuBackend.create();
  },
};
