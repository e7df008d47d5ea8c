import type { PluginEntry } from "./registry.ts";

/** The built-in plugins, named here and imported lazily (a plugin never registers on import). */
export const BUILTIN_PLUGINS: readonly PluginEntry[] = [
  { kind: "backend", name: "cpu", load: async () => (await import("../../plugins/backend/cpu/index.ts")).cpuBackendPlugin },
  { kind: "backend", name: "cpu-native", load: async () => (await import("../../plugins/backend/cpu-native/index.ts")).cpuNativeBackendPlugin },
  { kind: "backend", name: "webgpu", load: async () => (await import("../../plugins/backend/webgpu/index.ts")).webgpuBackendPlugin },
  { kind: "attention", name: "paged", load: async () => (await import("../../plugins/attention/paged/index.ts")).pagedAttentionPlugin },
  { kind: "attention", name: "flashinfer", load: async () => (await import("../../plugins/attention/flashinfer/index.ts")).flashInferAttentionPlugin },
  { kind: "attention", name: "flex", load: async () => (await import("../../plugins/attention/flex/index.ts")).flexAttentionPlugin },
  { kind: "quant", name: "none", load: async () => (await import("../../plugins/quant/none/index.ts")).noneQuantPlugin },
  { kind: "quant", name: "gguf", load: async () => (await import("../../plugins/quant/gguf/index.ts")).ggufQuantPlugin },
  { kind: "quant", name: "int8", load: async () => (await import("../../plugins/quant/int8/index.ts")).int8QuantPlugin },
  { kind: "quant", name: "int8-dynamic", load: async () => (await import("../../plugins/quant/int8/index.ts")).int8DynamicQuantPlugin },
  { kind: "quant", name: "int4", load: async () => (await import("../../plugins/quant/int4/index.ts")).int4QuantPlugin },
  { kind: "quant", name: "int4-g64", load: async () => (await import("../../plugins/quant/int4/index.ts")).int4G64QuantPlugin },
  { kind: "quant", name: "int4-g128", load: async () => (await import("../../plugins/quant/int4/index.ts")).int4G128QuantPlugin },
  { kind: "quant", name: "fp8", load: async () => (await import("../../plugins/quant/fp8/index.ts")).fp8QuantPlugin },
  { kind: "quant", name: "fp8-e5m2", load: async () => (await import("../../plugins/quant/fp8/index.ts")).fp8E5m2QuantPlugin },
];
