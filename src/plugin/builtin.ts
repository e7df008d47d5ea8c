import type { PluginEntry } from "./registry.ts";

/** The built-in plugins, named here and imported lazily (a plugin never registers on import). */
export const BUILTIN_PLUGINS: readonly PluginEntry[] = [
  { kind: "backend", name: "cpu", load: async () => (await import("../../plugins/backend/cpu/index.ts")).cpuBackendPlugin },
  { kind: "attention", name: "paged", load: async () => (await import("../../plugins/attention/paged/index.ts")).pagedAttentionPlugin },
  { kind: "quant", name: "none", load: async () => (await import("../../plugins/quant/none/index.ts")).noneQuantPlugin },
  { kind: "quant", name: "gguf", load: async () => (await import("../../plugins/quant/gguf/index.ts")).ggufQuantPlugin },
];
