/// <reference types="@webgpu/types" />
/**
 * Finding a WebGPU adapter on each runtime: Deno has `navigator.gpu` built in (Vulkan, e.g. Mesa's
 * lavapipe on a CPU-only machine); Node uses the `webgpu` npm package (Dawn), first with Dawn's
 * default backend (Vulkan where a driver is present), then OpenGL ES (Mesa llvmpipe through EGL,
 * surfaceless) in WebGPU's compatibility mode. Bun is refused: Dawn's N-API binding aborts there
 * during buffer readbacks (DESIGN.md section 6).
 */

export type RuntimeName = "deno" | "bun" | "node";

export function runtimeName(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

export const BUN_REASON =
  "webgpu is not available under Bun: the Dawn binding (npm `webgpu` 0.6.2) crashes Bun 1.4.5 during buffer readbacks (segfaults and futex aborts within a few reads of any size); run under Node (tsx) or Deno";

export interface AcquiredAdapter {
  adapter: GPUAdapter;
  /** The GPU instance the adapter came from: keep it referenced (Dawn's node binding crashes when it is collected under a live device). */
  gpu: GPU;
  /** How it was found, e.g. "deno navigator.gpu" or "node webgpu (dawn, backend=opengles, compatibility)". */
  via: string;
}

/** Dawn options from LLM_WEBGPU_DAWN ("backend=vulkan,..."); default: try Dawn's default, then OpenGL ES. */
function dawnAttempts(): Array<{ options: string[]; compat: boolean }> {
  const env = process.env.LLM_WEBGPU_DAWN;
  if (env) {
    const options = env.split(",").map((s) => s.trim()).filter(Boolean);
    return [{ options, compat: options.includes("backend=opengles") }];
  }
  return [{ options: [], compat: false }, { options: ["backend=opengles"], compat: true }];
}

/** Resolves to an adapter, or to the reasons none was found (never throws). */
export async function acquireAdapter(): Promise<AcquiredAdapter | { reasons: string[] }> {
  const rt = runtimeName();
  if (rt === "bun") return { reasons: [BUN_REASON] };
  const power = { powerPreference: "high-performance" as const };
  if (rt === "deno") {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return { reasons: ["Deno has no navigator.gpu here (run with -A / --unstable-webgpu on older Deno)"] };
    const adapter = await gpu.requestAdapter(power).catch(() => null);
    if (!adapter) return { reasons: ["Deno's navigator.gpu found no adapter (install a Vulkan driver, e.g. Mesa's mesa-vulkan-drivers for lavapipe)"] };
    return { adapter, gpu, via: "deno navigator.gpu" };
  }
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import("webgpu")) as unknown as typeof mod;
  } catch (e) {
    return { reasons: [`the \`webgpu\` npm package (Dawn) could not be loaded on Node: ${(e as Error).message.split("\n")[0]}`] };
  }
  // WebGPU's constant namespaces (GPUBufferUsage, GPUMapMode, ...) are globals in browsers and Deno.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  process.env.EGL_PLATFORM ??= "surfaceless";
  const tried: string[] = [];
  for (const { options, compat } of dawnAttempts()) {
    const label = options.length ? options.join(",") : "default backend";
    try {
      const gpu = mod.create(options);
      const adapter = await gpu.requestAdapter(compat ? { ...power, featureLevel: "compatibility" } : power);
      if (adapter) return { adapter, gpu, via: `node webgpu (dawn, ${label}${compat ? ", compatibility" : ""})` };
      tried.push(label);
    } catch (e) {
      tried.push(`${label}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return {
    reasons: [
      `the webgpu package (Dawn) found no adapter on Node (tried ${tried.join("; ")}); on a CPU-only Linux install Mesa's EGL/GLES (libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri), or set LLM_WEBGPU_DAWN=backend=vulkan with a Vulkan driver`,
    ],
  };
}

/** The limits this backend asks the device for: the adapter's own, for the compute-relevant ones. */
export const REQUESTED_LIMITS = [
  "maxBufferSize", "maxStorageBufferBindingSize", "maxStorageBuffersPerShaderStage", "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupsPerDimension", "maxUniformBufferBindingSize",
] as const;

export function describeAdapter(adapter: GPUAdapter, via: string): string {
  const i = adapter.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter((s) => s && String(s).length).join(" ");
  return `${name || "unknown adapter"} via ${via}`;
}
