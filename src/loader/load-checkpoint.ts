import { ModelFileError } from "../util/errors.ts";
import { GGUF_MAGIC, parseGGUF } from "./gguf/parse.ts";
import {
  LLAMA2C_HEADER_BYTES,
  type Llama2cConfig,
  llama2cConfigProblems,
  llama2cFileSize,
  loadLlama2cTokenizer,
  looksLikeLlama2c,
  parseLlama2c,
  readLlama2cHeader,
} from "./llama2c.ts";
import type { ModelCheckpoint, ProgressCallback } from "./types.ts";
import { fileSize, readFileBytes, readInto } from "./read-file.ts";
import { isDirectory, loadHfFolder } from "./hf/load-folder.ts";

export type CheckpointFormat = "gguf" | "llama2c";

export interface LoadCheckpointOptions {
  /** Skip detection and read the file as this format. */
  format?: CheckpointFormat;
  /** llama2.c tokenizer (tokenizer.bin / tok512.bin); required for llama2.c checkpoints. */
  tokenizerPath?: string;
  /** Called after each chunk read from the model file. */
  onProgress?: ProgressCallback;
}

export { READ_CHUNK_BYTES, readFileBytes } from "./read-file.ts";

function hasGGUFMagic(head: Uint8Array): boolean {
  return head.byteLength >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === GGUF_MAGIC;
}

/**
 * Which format a file of `size` bytes starting with `head` (at least its first 28 bytes) holds:
 * GGUF by magic, llama2.c when the size matches its header; otherwise a ModelFileError saying why not.
 */
export function detectFormat(file: string, head: Uint8Array, size: number = head.byteLength): CheckpointFormat {
  if (size === 0) throw new ModelFileError(file, "empty file");
  if (hasGGUFMagic(head)) return "gguf";
  if (looksLikeLlama2c(head, size)) return "llama2c";
  const hex = [...head.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  const c = readLlama2cHeader(head);
  let why = "shorter than a llama2.c header";
  if (c) {
    const problems = llama2cConfigProblems(c);
    why = problems.length > 0
      ? `its llama2.c header is invalid: ${problems.join("; ")}`
      : `a llama2.c header would imply ${llama2cFileSize(c)} bytes, file has ${size}`;
  }
  throw new ModelFileError(
    file,
    `unrecognised model format: no GGUF magic (starts ${hex}) and not a llama2.c checkpoint (${why}); supported: gguf, llama2c`,
  );
}

/** Loads a GGUF file, a llama2.c checkpoint (+ tokenizer) or a Hugging Face folder into a ModelCheckpoint. */
export async function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Promise<ModelCheckpoint> {
  if (await isDirectory(path)) return loadHfFolder(path, opts.onProgress);
  const size = await fileSize(path);
  if (size === 0) throw new ModelFileError(path, "empty file");
  const head = await readInto(path, Math.min(size, LLAMA2C_HEADER_BYTES));
  const format = opts.format ?? detectFormat(path, head, size);
  if (format === "gguf") return parseGGUF(path, await readInto(path, size, opts.onProgress));

  // llama2.c: check (and read) the tokenizer before the big read, so mistakes fail fast.
  if (!opts.tokenizerPath) {
    throw new ModelFileError(path, "llama2.c checkpoints need a tokenizer file (--tokenizer tok512.bin)");
  }
  const header = readLlama2cHeader(head);
  if (!header || llama2cConfigProblems(header).length > 0) parseLlama2c(path, head); // throws the header's problem
  const tokenizer = loadLlama2cTokenizer(
    opts.tokenizerPath,
    await readFileBytes(opts.tokenizerPath),
    (header as Llama2cConfig).vocabSize,
  );
  const ckpt = parseLlama2c(path, await readInto(path, size, opts.onProgress));
  for (const [k, v] of tokenizer) ckpt.metadata.set(k, v);
  return ckpt;
}
