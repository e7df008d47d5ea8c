import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LlmError } from "../util/errors.ts";
import { repoCacheDir } from "./cache-dir.ts";
import { downloadFile, verify, type DownloadProgress } from "./download.ts";
import { HubClient, type HubFile } from "./hub-client.ts";
import { formatHubRef, type HubRef } from "./repo-ref.ts";

export interface PullOptions {
  cacheDir: string;
  /** Use only the cache; never touch the network. */
  offline?: boolean;
  endpoint?: string;
  token?: string;
  onProgress?: (p: DownloadProgress) => void;
  /** One line per event worth telling (cached, verified, resumed, refetched). */
  log?: (line: string) => void;
}

export interface PullResult {
  /** The snapshot folder (an HF model folder) or, for `repo:file`, that file. */
  path: string;
  commit: string;
  files: string[];
  /** Files fetched now (the rest were already cached and verified). */
  downloaded: string[];
}

/** The files of a model folder that running it needs (weights, config, tokenizer, generation defaults). */
export function isModelFolderFile(path: string): boolean {
  if (path.includes("/")) return false;
  return /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|chat_template\.jinja|chat_template\.json|tokenizer\.model|model\.safetensors\.index\.json|.*\.safetensors)$/.test(path);
}

const MANIFEST = ".llm-pull.json";

/**
 * Pulls a model from the hub into the cache (see hubCacheDir): the whole model folder, or with
 * `repo:file` one file (a GGUF). Cached files are checked against the hub's sizes and sha256 and
 * refetched when they differ; partial downloads resume. Offline, the cache alone answers, with a
 * clear error when the model was never pulled.
 */
export async function pullModel(ref: HubRef, opts: PullOptions): Promise<PullResult> {
  if (opts.offline) return resolveCached(ref, opts.cacheDir);
  const client = new HubClient({ ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.token ? { token: opts.token } : {}) });
  const info = await client.repoInfo(ref.repo, ref.revision);
  let wanted: HubFile[];
  if (ref.file !== undefined) {
    const f = info.files.find((x) => x.path === ref.file);
    if (!f) {
      const ggufs = info.files.filter((x) => x.path.endsWith(".gguf")).map((x) => x.path);
      throw new LlmError(`${ref.repo}: no file '${ref.file}' at ${ref.revision}${ggufs.length ? `; GGUF files: ${ggufs.join(", ")}` : ""}`);
    }
    wanted = [f];
  } else {
    wanted = info.files.filter((f) => isModelFolderFile(f.path));
    // Mistral-style repositories also carry consolidated.safetensors (the same weights again): when
    // transformers' model*.safetensors are there, only those are weights.
    const hfWeights = /^model(-\d+-of-\d+)?\.safetensors$/;
    if (wanted.some((f) => hfWeights.test(f.path))) wanted = wanted.filter((f) => !f.path.endsWith(".safetensors") || hfWeights.test(f.path));
    if (!wanted.some((f) => f.path.endsWith(".safetensors"))) {
      const ggufs = info.files.filter((x) => x.path.endsWith(".gguf")).map((x) => x.path);
      throw new LlmError(
        ggufs.length
          ? `${ref.repo} has no safetensors weights; pull one GGUF file: ${ggufs.slice(0, 5).map((g) => `${ref.repo}:${g}`).join(", ")}`
          : `${ref.repo} has no *.safetensors or *.gguf files to run`,
      );
    }
    if (!wanted.some((f) => f.path === "config.json")) throw new LlmError(`${ref.repo} has safetensors but no config.json`);
  }
  const repoDir = repoCacheDir(opts.cacheDir, ref.repo);
  const snapshot = join(repoDir, "snapshots", info.commit);
  const manifest = await readManifest(snapshot);
  const downloaded: string[] = [];
  for (const f of wanted) {
    const dest = join(snapshot, f.path);
    if (existsSync(dest)) {
      const problem = await verify(dest, f);
      if (problem === null) {
        manifest[f.path] = f;
        continue;
      }
      opts.log?.(`${f.path}: cached copy is bad (${problem}); downloading it again`);
    }
    await downloadFile(client, ref.repo, info.commit, f, dest, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      onRetry: (file, why) => opts.log?.(`${file}: ${why}`),
    });
    manifest[f.path] = f;
    downloaded.push(f.path);
  }
  await writeFile(join(snapshot, MANIFEST), JSON.stringify(manifest));
  await mkdir(join(repoDir, "refs"), { recursive: true });
  if (ref.revision !== info.commit) await writeFile(join(repoDir, "refs", refFileName(ref.revision)), info.commit);
  const files = wanted.map((f) => f.path);
  return { path: ref.file !== undefined ? join(snapshot, ref.file) : snapshot, commit: info.commit, files, downloaded };
}

/** refs/<revision>; a branch name with '/' is kept as one file name. */
function refFileName(revision: string): string {
  return revision.replaceAll("/", "%2F");
}

async function readManifest(snapshot: string): Promise<Record<string, HubFile>> {
  try {
    return JSON.parse(await readFile(join(snapshot, MANIFEST), "utf8")) as Record<string, HubFile>;
  } catch {
    return {};
  }
}

/**
 * The cached copy of `ref`, without the network: refs/<revision> (or the revision itself when it
 * is a commit) names the snapshot; every file pulled there must be present at its recorded size.
 */
export function resolveCached(ref: HubRef, cacheDir: string): PullResult {
  const repoDir = repoCacheDir(cacheDir, ref.repo);
  const notCached = (why: string): never => {
    throw new LlmError(`offline: ${formatHubRef(ref)} is not in the cache ${cacheDir} (${why}); run \`llm pull ${formatHubRef(ref)}\` while online`);
  };
  let commit = /^[0-9a-f]{40}$/.test(ref.revision) ? ref.revision : undefined;
  if (commit === undefined) {
    const refPath = join(repoDir, "refs", refFileName(ref.revision));
    if (!existsSync(refPath)) return notCached(`no ${ref.revision} ref`);
    commit = readFileSync(refPath, "utf8").trim();
  }
  const snapshot = join(repoDir, "snapshots", commit);
  let manifest: Record<string, HubFile>;
  try {
    manifest = JSON.parse(readFileSync(join(snapshot, MANIFEST), "utf8")) as Record<string, HubFile>;
  } catch {
    return notCached(`no snapshot ${commit.slice(0, 12)}`);
  }
  const files = ref.file !== undefined ? [ref.file] : Object.keys(manifest).filter(isModelFolderFile);
  if (files.length === 0 || (ref.file === undefined && !files.includes("config.json"))) return notCached("the model folder was never pulled");
  for (const f of files) {
    const entry = manifest[f];
    if (!entry || !existsSync(join(snapshot, f))) return notCached(`${f} missing`);
  }
  return { path: ref.file !== undefined ? join(snapshot, ref.file) : snapshot, commit, files, downloaded: [] };
}
