/**
 * The optional cpu-native backend: the cpu backend's tensors and ops, with matrix products for
 * f32, Q8_0, Q4_0 and F16 weights in a C addon (AVX2/FMA/F16C when the CPU has them, portable C
 * otherwise) over its own thread pool; Q8_0/Q4_0 with activations quantized to Q8_0 and integer
 * dot products, as llama.cpp computes them. Built by `npm run build:native` where a C compiler exists;
 * where the addon is missing or does not load, probe() says why and the plugin is not selected.
 * Its backends are named "cpu" (cpu tensors), so every plugin's cpu implementation serves them.
 */
import type { BackendPlugin } from "../../../src/plugin/types.ts";
import { CpuBackend, defaultThreads } from "../cpu/index.ts";
import { createNativeKernels, loadCpuNativeAddon } from "./native-kernels.ts";

export const cpuNativeBackendPlugin: BackendPlugin = {
  kind: "backend",
  name: "cpu-native",
  description: "cpu backend with matrix products in a C addon (AVX2/FMA, threads); optional: npm run build:native",
  async probe() {
    const loaded = loadCpuNativeAddon();
    return "reason" in loaded ? [loaded.reason] : [];
  },
  async create(opts) {
    const threads = opts.threads ?? defaultThreads();
    const kernels = createNativeKernels(threads);
    if ("reason" in kernels) throw new Error(`cpu-native: ${kernels.reason}`);
    const device = `CPU (C addon: ${kernels.features()}, ${threads} thread${threads > 1 ? "s" : ""}; JavaScript + WebAssembly SIMD128 for the rest)`;
    return new CpuBackend({ threads, kernels: { kernels, device } });
  },
};
