import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { loadLlama2cTokenizer, parseLlama2c } from "../../src/loader/llama2c.ts";
import { loadCheckpoint } from "../../src/loader/load-checkpoint.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { expectFileError, expectFileErrorAsync } from "./expect-file-error.ts";
import { makeLlama2c, TINY } from "./llama2c-fixture.ts";

const tmp = mkdtempSync(join(tmpdir(), "llm-loader-err-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, bytes: Uint8Array) => {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
};
const BIN = modelPath("stories260K", "stories260K.bin");
const TOK = modelPath("stories260K", "tok512.bin");

describe("loadCheckpoint errors", () => {
  it("missing file, directory, empty file", async () => {
    const missing = join(tmp, "nope.gguf");
    await expectFileErrorAsync(() => loadCheckpoint(missing), missing, "file not found");
    const dir = join(tmp, "a-dir");
    mkdirSync(dir);
    await expectFileErrorAsync(() => loadCheckpoint(dir), dir, "folder without config.json", "model.safetensors");
    const empty = write("empty.gguf", new Uint8Array(0));
    await expectFileErrorAsync(() => loadCheckpoint(empty), empty, "empty file");
    await expectFileErrorAsync(() => loadCheckpoint(empty, { format: "gguf" }), empty, "empty file");
  });

  it("a file that is neither GGUF nor llama2.c", async () => {
    const junk = write("junk.bin", new TextEncoder().encode("hello, this is not a model at all, sorry"));
    await expectFileErrorAsync(() => loadCheckpoint(junk), junk, "unrecognised model format", "no GGUF magic (starts 68 65 6c 6c)", "supported: gguf, llama2c");
    const short = write("short.bin", new Uint8Array([1, 2, 3]));
    await expectFileErrorAsync(() => loadCheckpoint(short), short, "shorter than a llama2.c header");
    await expectFileErrorAsync(() => loadCheckpoint(short, { format: "gguf" }), short, "truncated header");
  });

  it("llama2.c file whose size does not match its header", async () => {
    const cut = write("cut.bin", new Uint8Array(readFileSync(BIN)).subarray(0, 1056540 - 4));
    await expectFileErrorAsync(
      () => loadCheckpoint(cut, { format: "llama2c", tokenizerPath: TOK }),
      cut,
      "llama2.c checkpoint size mismatch",
      "dim 64, hidden_dim 172, n_layers 5, n_heads 8, n_kv_heads 4, vocab_size 512, seq_len 512",
      "implies 1056540 bytes (tied classifier), file has 1056536",
    );
    await expectFileErrorAsync(() => loadCheckpoint(cut, { tokenizerPath: TOK }), cut, "a llama2.c header would imply 1056540 bytes, file has 1056536");
    // vocab_size's sign says untied, but the data has no wcls
    const flipped = makeLlama2c(TINY);
    new DataView(flipped.buffer).setInt32(20, -10, true);
    expectFileError(() => parseLlama2c("flip.bin", flipped), "flip.bin", "(untied classifier)", "would match a tied classifier");
  });

  it("llama2.c headers with impossible hyperparameters", () => {
    const bad = (patch: Partial<typeof TINY>) => makeLlama2c({ ...TINY, ...patch }, 4);
    expectFileError(() => parseLlama2c("z.bin", bad({ dim: 0 })), "z.bin", "bad llama2.c header", "dim 0 must be positive");
    expectFileError(() => parseLlama2c("n.bin", bad({ nLayers: -3 })), "n.bin", "n_layers -3 must be positive");
    expectFileError(() => parseLlama2c("h.bin", bad({ nHeads: 3 })), "h.bin", "n_heads 3 does not divide dim 8");
    expectFileError(() => parseLlama2c("k.bin", bad({ nKvHeads: 3 })), "k.bin", "n_kv_heads 3 does not divide n_heads 4");
    expectFileError(() => parseLlama2c("o.bin", bad({ nHeads: 8 })), "o.bin", "head size 1 must be even");
    expectFileError(() => parseLlama2c("s.bin", new Uint8Array(10)), "s.bin", "truncated header", "needs 28 bytes, file has 10");
    expectFileError(() => parseLlama2c("e.bin", new Uint8Array(0)), "e.bin", "empty file");
    // huge dims: the size check uses BigInt, so no allocation or overflow happens
    const huge = makeLlama2c({ ...TINY, dim: 2 ** 30, nHeads: 2 ** 20, nKvHeads: 2 ** 20, nLayers: 2 ** 30 }, 4);
    expectFileError(() => parseLlama2c("huge.bin", huge), "huge.bin", "size mismatch", "file has 44");
  });

  it("llama2.c checkpoint without a tokenizer, or with a missing one", async () => {
    await expectFileErrorAsync(() => loadCheckpoint(BIN), BIN, "llama2.c checkpoints need a tokenizer file (--tokenizer tok512.bin)");
    const missing = join(tmp, "tok-missing.bin");
    await expectFileErrorAsync(() => loadCheckpoint(BIN, { tokenizerPath: missing }), missing, "file not found");
  });

  it("tokenizer files that do not fit the model", async () => {
    const big = modelPath("llama2-tokenizer", "tokenizer.bin");
    await expectFileErrorAsync(() => loadCheckpoint(BIN, { tokenizerPath: big }), big, "bytes left after 512 tokens", "vocab_size 512");
    const tok = new Uint8Array(readFileSync(TOK));
    expectFileError(() => loadLlama2cTokenizer("t.bin", tok.subarray(0, 5000), 512), "t.bin", "truncated tokenizer file");
    expectFileError(() => loadLlama2cTokenizer("t.bin", tok, 100000), "t.bin", "cannot hold 100000 tokens");
    const badLen = tok.slice();
    new DataView(badLen.buffer).setInt32(8, -5, true);
    expectFileError(() => loadLlama2cTokenizer("t.bin", badLen, 512), "t.bin", "token 0 has a negative length -5");
    expectFileError(() => loadLlama2cTokenizer("t.bin", new Uint8Array(0), 512), "t.bin", "empty file");
  });
});
