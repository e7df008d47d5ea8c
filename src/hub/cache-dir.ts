import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Where pulled models live: `--cache-dir`, else $LLM_CACHE_DIR, else `llm/hub` under the user's
 * cache directory ($XDG_CACHE_HOME, else ~/.cache). Inside, each repository uses huggingface_hub's
 * layout: `models--org--repo/refs/<revision>` holds a commit hash and `snapshots/<commit>/<file>`
 * the files (written there directly; no blobs/ deduplication).
 */
export function hubCacheDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.LLM_CACHE_DIR) return resolve(env.LLM_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(base, "llm", "hub");
}

export function repoCacheDir(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.replace("/", "--")}`);
}

/** Whether HF_HUB_OFFLINE (or LLM_OFFLINE) asks for offline mode. */
export function offlineFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.HF_HUB_OFFLINE ?? env.LLM_OFFLINE ?? "").toLowerCase();
  return v === "1" || v === "true" || v === "yes" || v === "on";
}
