import type { ModelSpec } from "../config/model-spec.ts";
import { LLMEngine } from "../engine/llm-engine.ts";
import { loadModel } from "../engine/load-model.ts";
import { progressBar } from "./progress.ts";
import { engineArgsFrom, pluginRegistry, type CommonOpts } from "./common-options.ts";

/** Load the model named by the flags and build an engine over it (progress bar and --explain on stderr). */
export async function openEngine(spec: ModelSpec, o: CommonOpts): Promise<LLMEngine> {
  const registry = await pluginRegistry(o);
  const bar = progressBar(`loading ${spec.id}`);
  const plugins = { backend: o.backend, attention: o.attention, quant: o.quant };
  const loaded = await loadModel(spec, registry, {
    plugins: Object.fromEntries(Object.entries(plugins).filter(([, v]) => v !== undefined)),
    ...(o.maxModelLen !== undefined ? { maxModelLen: o.maxModelLen } : {}),
    ...(o.kvCacheDtype !== undefined ? { kvCacheDtype: o.kvCacheDtype } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    onProgress: (p) => bar.update(p),
  });
  bar.done();
  if (o.explain) for (const line of loaded.selection.explain) process.stderr.write(`explain: ${line}\n`);
  const engine = new LLMEngine(loaded, engineArgsFrom(o, spec));
  if (o.verbose) {
    const c = loaded.config;
    process.stderr.write(
      `model ${spec.id}: ${c.architecture} dim ${c.dim}, ${c.numLayers} layers, ${c.numHeads}/${c.numKvHeads} heads, vocab ${c.vocabSize}; ` +
        `weights ${(loaded.model.weightBytes / 1048576).toFixed(1)} MiB; ${engine.kvCacheManager.blockPool.numBlocks} KV blocks of ${engine.args.blockSize}; ` +
        `loaded in ${loaded.loadMs.toFixed(0)} ms\n`,
    );
  }
  return engine;
}
