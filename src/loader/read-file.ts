import { open, stat } from "node:fs/promises";
import { ModelFileError } from "../util/errors.ts";
import type { ProgressCallback } from "./types.ts";

/** Read size per call; progress is reported after each. */
export const READ_CHUNK_BYTES = 16 * 1024 * 1024;

export function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
}

/** Size of a regular file; ModelFileError "file not found" / "is a directory" otherwise. */
export async function fileSize(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ModelFileError(path, "is a directory");
    return st.size;
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    const code = errnoCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") throw new ModelFileError(path, "file not found");
    throw new ModelFileError(path, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads bytes [0, size) of `path` into one new buffer in chunks, reporting progress after each. */
export async function readInto(path: string, size: number, onProgress?: ProgressCallback): Promise<Uint8Array> {
  const bytes = new Uint8Array(size);
  const fh = await open(path, "r");
  try {
    let loaded = 0;
    while (loaded < size) {
      const want = Math.min(READ_CHUNK_BYTES, size - loaded);
      const { bytesRead } = await fh.read(bytes, loaded, want, loaded);
      if (bytesRead === 0) throw new ModelFileError(path, `file shrank while reading (got ${loaded} of ${size} bytes)`);
      loaded += bytesRead;
      onProgress?.({ loaded, total: size });
    }
  } finally {
    await fh.close();
  }
  return bytes;
}

/**
 * Reads a whole file into one new buffer (the only copy: loaders hand out views into it),
 * reporting progress after each chunk. Missing files and directories give ModelFileError.
 */
export async function readFileBytes(path: string, onProgress?: ProgressCallback): Promise<Uint8Array> {
  return readInto(path, await fileSize(path), onProgress);
}
