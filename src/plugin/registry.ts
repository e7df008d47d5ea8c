import { UsageError } from "../util/errors.ts";
import type { AnyPlugin, PluginKind } from "./types.ts";

/** A plugin known by name whose module is imported only when it is first needed. */
export interface PluginEntry {
  kind: PluginKind;
  name: string;
  load: () => Promise<AnyPlugin>;
}

type PluginOf<K extends PluginKind> = Extract<AnyPlugin, { kind: K }>;

/**
 * Plugins by kind and name. Each engine/CLI invocation builds its own registry (no global state):
 * `PluginRegistry.withBuiltins()` plus any third-party plugin registered explicitly.
 */
export class PluginRegistry {
  private readonly entries = new Map<string, PluginEntry>();
  private readonly loaded = new Map<string, AnyPlugin>();

  register(entry: PluginEntry | AnyPlugin): this {
    const e: PluginEntry = "load" in entry ? entry : { kind: entry.kind, name: entry.name, load: async () => entry };
    this.entries.set(`${e.kind}:${e.name}`, e);
    this.loaded.delete(`${e.kind}:${e.name}`);
    return this;
  }

  names(kind: PluginKind): string[] {
    return [...this.entries.values()].filter((e) => e.kind === kind).map((e) => e.name);
  }

  has(kind: PluginKind, name: string): boolean {
    return this.entries.has(`${kind}:${name}`);
  }

  async get<K extends PluginKind>(kind: K, name: string): Promise<PluginOf<K>> {
    const key = `${kind}:${name}`;
    const cached = this.loaded.get(key);
    if (cached) return cached as PluginOf<K>;
    const entry = this.entries.get(key);
    if (!entry) throw new UsageError(`unknown ${kind} "${name}"; available: ${this.names(kind).join(", ") || "(none)"}`);
    const plugin = await entry.load();
    if (plugin.kind !== kind || plugin.name !== name) {
      throw new UsageError(`plugin module for ${kind} "${name}" exported a ${plugin.kind} named "${plugin.name}"`);
    }
    this.loaded.set(key, plugin);
    return plugin as PluginOf<K>;
  }

  /**
   * Load a third-party plugin from a file path or package name. The module's default export (or
   * its `plugin` export) must be a plugin value; it is registered here, never on import.
   */
  async registerModule(specifier: string): Promise<AnyPlugin> {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(specifier)) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`cannot load plugin module "${specifier}": ${(e as Error).message}`);
    }
    const p = (mod.default ?? mod.plugin) as AnyPlugin | undefined;
    if (!p || typeof p !== "object" || !["backend", "attention", "quant"].includes(p.kind) || typeof p.name !== "string") {
      throw new UsageError(`plugin module "${specifier}" must export default a plugin object with kind (backend | attention | quant) and name`);
    }
    this.register(p);
    return p;
  }

  static withBuiltins(builtins: readonly PluginEntry[]): PluginRegistry {
    const r = new PluginRegistry();
    for (const e of builtins) r.register(e);
    return r;
  }
}
