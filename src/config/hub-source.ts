import { hubCacheDir, offlineFromEnv } from "../hub/cache-dir.ts";
import { downloadProgress } from "../hub/progress.ts";
import { pullModel, resolveCached } from "../hub/pull.ts";
import type { ModelSpec } from "./model-spec.ts";

/**
 * Makes an hf:// model's files local: the cached copy when there is one (no network), else a pull
 * into the hub cache ($LLM_CACHE_DIR..., $HF_ENDPOINT, $HF_TOKEN; refused under HF_HUB_OFFLINE=1),
 * with progress on stderr. Sets `spec.path` to the local folder or file. No-op for other specs.
 */
export async function ensureHubModel(spec: ModelSpec, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!spec.hub) return;
  const cacheDir = hubCacheDir(undefined, env);
  try {
    spec.path = resolveCached(spec.hub, cacheDir).path;
    return;
  } catch (e) {
    if (offlineFromEnv(env)) throw e;
  }
  const bar = downloadProgress();
  const r = await pullModel(spec.hub, {
    cacheDir,
    ...(env.HF_ENDPOINT ? { endpoint: env.HF_ENDPOINT } : {}),
    ...(env.HF_TOKEN ? { token: env.HF_TOKEN } : {}),
    onProgress: (p) => bar.update(p),
    log: (line) => process.stderr.write(`llm: ${spec.id}: ${line}\n`),
  });
  bar.done();
  spec.path = r.path;
}
