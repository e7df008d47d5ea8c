/** models.yaml: `plugins.attention` as a name or as { name, ...options }, and how options reach the plugin. */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { parseModelRegistry } from "../../../src/config/models-registry.ts";
import { resolveModelSpec } from "../../../src/config/model-spec.ts";
import { loadModel } from "../../../src/engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../../../src/plugin/builtin.ts";
import { PluginRegistry } from "../../../src/plugin/registry.ts";
import { testModelsDir } from "../../helpers/models-dir.ts";

const entry = (plugins: string) => `models:\n  - id: m\n    source: stories260K/stories260K-f32.gguf\n    format: gguf\n    plugins: ${plugins}\n`;

describe("models.yaml attention options", () => {
  it("parses a mapping with a name and options; a plain name has none", () => {
    const r = parseModelRegistry(entry("{ attention: { name: flex, mod: sliding_window, window: 4096 }, quant: auto }"), "models.yaml");
    expect(r.models[0]!.plugins).toEqual({ attention: "flex", attentionOptions: { mod: "sliding_window", window: 4096 }, quant: "auto" });
    expect(parseModelRegistry(entry("{ attention: paged }"), "models.yaml").models[0]!.plugins).toEqual({ attention: "paged" });
  });

  it("a mapping without a name is an error naming the file, entry and key", () => {
    expect(() => parseModelRegistry(entry("{ attention: { mod: causal } }"), "models.yaml"))
      .toThrow("models.yaml: model 'm': plugins.attention must be a plugin name, or a mapping with 'name' and the plugin's options");
  });

  it("options reach the named plugin; another --attention drops them; a plugin refuses options it does not know", async () => {
    const reg = parseModelRegistry(entry("{ attention: { name: flashinfer, window_left: 63, cascade: false } }"), join(testModelsDir(), "..", "models.yaml"));
    const spec = resolveModelSpec("m", reg, testModelsDir());
    const plugins = () => PluginRegistry.withBuiltins(BUILTIN_PLUGINS);
    const fi = await loadModel(spec, plugins());
    expect(fi.selection.attention.name).toBe("flashinfer");
    expect((fi.attention as unknown as { options: { windowLeft: number; cascade: boolean } }).options).toMatchObject({ windowLeft: 63, cascade: false });
    const paged = await loadModel(spec, plugins(), { plugins: { attention: "paged" } });
    expect(paged.selection.attention.name).toBe("paged");
    await expect(loadModel(spec, plugins(), { plugins: { attention: "paged", attentionOptions: { window_left: 3 } } }))
      .rejects.toThrow('attention "paged" cannot serve this model: paged takes no attention options (got window_left)');
  });
});
