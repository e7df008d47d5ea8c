import type { HostTensor } from "../loader/types.ts";
import { LlmError, UsageError } from "../util/errors.ts";
import { GGMLType } from "../loader/types.ts";
import type { PluginRegistry } from "./registry.ts";
import type { AttentionPlugin, AttentionShape, Backend, BackendPlugin, QuantPlugin } from "./types.ts";

export interface PluginRequest {
  backend?: string;
  attention?: string;
  /** "auto" picks gguf for block-quantized files, none otherwise. */
  quant?: string;
}

export interface Selection {
  backendPlugin: BackendPlugin;
  backend: Backend;
  attention: AttentionPlugin;
  quant: QuantPlugin;
  /** One line per decision and per rejected candidate, for --explain. */
  explain: string[];
}

const PREFERRED = { backend: ["cpu-native", "cpu"], attention: ["paged"] };

/**
 * Pick backend → attention → quant. A plugin named explicitly must accept or the selection fails
 * with its reasons; otherwise the first acceptable one in preference order wins.
 */
export async function selectPlugins(
  registry: PluginRegistry,
  want: PluginRequest,
  shape: AttentionShape,
  tensors: readonly HostTensor[],
  backendOpts: { threads?: number } = {},
): Promise<Selection> {
  const explain: string[] = [];
  const order = (kind: "backend" | "attention", asked?: string) =>
    asked ? [asked] : [...PREFERRED[kind].filter((n) => registry.has(kind, n)), ...registry.names(kind).filter((n) => !PREFERRED[kind].includes(n))];

  let backendPlugin: BackendPlugin | null = null;
  for (const name of order("backend", want.backend)) {
    const p = await registry.get("backend", name);
    const reasons = await p.probe();
    explain.push(reasons.length ? `backend ${name}: rejected: ${reasons.join("; ")}` : `backend ${name}: selected (${p.description})`);
    if (!reasons.length) { backendPlugin = p; break; }
    if (want.backend) throw new LlmError(`backend "${name}" cannot run here: ${reasons.join("; ")}`, 1);
  }
  if (!backendPlugin) throw new LlmError(`no backend can run here:\n  ${explain.join("\n  ")}`, 1);
  const backend = await backendPlugin.create(backendOpts);

  let attention: AttentionPlugin | null = null;
  for (const name of order("attention", want.attention)) {
    const p = await registry.get("attention", name);
    const reasons = p.check(shape, backend);
    explain.push(reasons.length ? `attention ${name}: rejected: ${reasons.join("; ")}` : `attention ${name}: selected (${p.description})`);
    if (!reasons.length) { attention = p; break; }
    if (want.attention) throw new UsageError(`attention "${name}" cannot serve this model: ${reasons.join("; ")}`);
  }
  if (!attention) throw new LlmError(`no attention plugin can serve this model:\n  ${explain.join("\n  ")}`, 1);

  let quantName = want.quant ?? "auto";
  if (quantName === "auto") {
    const blockQuantized = tensors.some((t) => t.type !== GGMLType.F32 && t.type !== GGMLType.F16 && t.type !== GGMLType.BF16);
    quantName = blockQuantized ? "gguf" : "none";
    explain.push(`quant auto: ${blockQuantized ? "file has block-quantized tensors" : "file has only float tensors"} → ${quantName}`);
  }
  const quant = await registry.get("quant", quantName);
  const reasons = quant.check(backend, tensors);
  if (reasons.length) throw new UsageError(`quant "${quantName}" cannot load this model: ${reasons.join("; ")}`);
  explain.push(`quant ${quantName}: selected (${quant.description})`);
  return { backendPlugin, backend, attention, quant, explain };
}
