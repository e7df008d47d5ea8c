import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { LlmError } from "../util/errors.ts";
import type { HubClient, HubFile } from "./hub-client.ts";

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | undefined;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Tries per file when the connection drops (each resumes where the last stopped); default 4. */
  attempts?: number;
  /** Called before each retry with the reason (for a log line). */
  onRetry?: (file: string, why: string) => void;
}

/** SHA-256 of a whole file, streamed. */
export async function sha256File(path: string, hash: Hash = createHash("sha256")): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/**
 * Downloads one file of a repository to `dest`, through `dest.incomplete`: a partial file left by
 * an interrupted run (or a dropped connection in this one) is resumed with an HTTP Range request.
 * The result is checked against the hub's size and, when the hub gives one (LFS files), its
 * SHA-256; a mismatch deletes the partial data and fetches the file once more from scratch before
 * giving up with an error. Only a verified file is renamed to `dest`.
 */
export async function downloadFile(client: HubClient, repo: string, commit: string, file: HubFile, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const url = client.resolveUrl(repo, commit, file.path);
  const part = `${dest}.incomplete`;
  await mkdir(dirname(dest), { recursive: true });
  const attempts = opts.attempts ?? 4;
  let restartedAfterMismatch = false;
  for (let attempt = 1; ; attempt++) {
    let failure: string;
    try {
      await fetchInto(client, url, part, file, opts);
      const problem = await verify(part, file);
      if (problem === null) {
        await rename(part, dest);
        return;
      }
      await rm(part, { force: true });
      if (restartedAfterMismatch) throw new LlmError(`${repo}/${file.path}: ${problem} again after a fresh download; not keeping it`);
      restartedAfterMismatch = true;
      opts.onRetry?.(file.path, `${problem}; downloading it again`);
      continue;
    } catch (e) {
      if (!(e instanceof TransferError)) throw e;
      failure = e.message;
    }
    if (attempt >= attempts) throw new LlmError(`${repo}/${file.path}: download failed ${attempts} times (last: ${failure}); run the command again to resume`);
    opts.onRetry?.(file.path, `${failure}; resuming`);
  }
}

/** A dropped connection or a short body: worth resuming. */
class TransferError extends Error {}

async function fetchInto(client: HubClient, url: string, part: string, file: HubFile, opts: DownloadOptions): Promise<void> {
  let have = (await sizeOf(part)) ?? 0;
  if (file.size !== undefined && have > file.size) {
    await rm(part, { force: true });
    have = 0;
  }
  if (file.size !== undefined && have === file.size && have > 0) return; // complete but not yet verified
  const res = await client.get(url, have > 0 ? { range: `bytes=${have}-` } : {});
  if (res.status === 416) {
    await res.body?.cancel().catch(() => undefined);
    await rm(part, { force: true });
    throw new TransferError("the server refused the resume range");
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 500 || res.status === 429) throw new TransferError(`HTTP ${res.status}`);
    throw new LlmError(`${url}: HTTP ${res.status} ${res.statusText}${res.status === 401 || res.status === 403 ? " (set HF_TOKEN or pass --token)" : ""}`);
  }
  const resumed = res.status === 206;
  if (!resumed) have = 0; // the server sent the whole file: start over
  const total = file.size ?? (resumed ? undefined : Number(res.headers.get("content-length") ?? NaN) || undefined);
  const fh = await open(part, resumed ? "a" : "w");
  let loaded = have;
  try {
    if (!res.body) throw new TransferError("empty response body");
    const reader = res.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw new TransferError(`connection lost after ${loaded} bytes (${(e as Error).message})`);
      }
      if (chunk.done) break;
      await fh.write(chunk.value);
      loaded += chunk.value.byteLength;
      opts.onProgress?.({ file: file.path, loaded, total });
    }
  } finally {
    await fh.close();
  }
  if (file.size !== undefined && loaded < file.size) throw new TransferError(`connection closed after ${loaded} of ${file.size} bytes`);
}

/** Null when `path` matches the hub's size and sha256 (where given), else what is wrong. */
export async function verify(path: string, file: HubFile): Promise<string | null> {
  const size = await sizeOf(path);
  if (size === undefined) return "missing";
  if (file.size !== undefined && size !== file.size) return `size ${size} bytes, expected ${file.size}`;
  if (file.sha256 !== undefined) {
    const got = await sha256File(path);
    if (got !== file.sha256) return `sha256 ${got.slice(0, 12)}… does not match the hub's ${file.sha256.slice(0, 12)}…`;
  }
  return null;
}
