import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectFormat, loadCheckpoint, READ_CHUNK_BYTES } from "../../src/loader/load-checkpoint.ts";
import { GGMLType, type LoadProgress } from "../../src/loader/types.ts";
import { modelPath } from "../helpers/models-dir.ts";
import { writeGGUF } from "../helpers/gguf-writer.ts";
import { makeLlama2c, TINY } from "./llama2c-fixture.ts";

const tmp = mkdtempSync(join(tmpdir(), "llm-loader-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("loadCheckpoint", () => {
  it("detects and loads a GGUF file, reporting progress", async () => {
    const file = modelPath("stories260K", "stories260K-q8_0.gguf");
    const events: LoadProgress[] = [];
    const ckpt = await loadCheckpoint(file, { onProgress: (p) => events.push(p) });
    expect(ckpt.format).toBe("gguf");
    expect(ckpt.file).toBe(file);
    expect(ckpt.tensors.size).toBe(48);
    expect(ckpt.tensors.get("token_embd.weight")!.type).toBe(GGMLType.Q8_0);
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ loaded: 489280, total: 489280 });
    // tensors view the one file buffer
    const buffers = new Set([...ckpt.tensors.values()].map((t) => t.data.buffer));
    expect(buffers.size).toBe(1);
  });

  it("reads large files in chunks, one progress event per chunk", async () => {
    const n = (READ_CHUNK_BYTES + 1024) / 4;
    const file = join(tmp, "big.gguf");
    writeFileSync(file, writeGGUF({ tensors: [{ name: "w", type: GGMLType.F32, dims: [n], data: new Uint8Array(n * 4) }] }));
    const events: LoadProgress[] = [];
    const ckpt = await loadCheckpoint(file, { format: "gguf", onProgress: (p) => events.push(p) });
    expect(ckpt.tensors.get("w")!.numel).toBe(n);
    expect(events).toHaveLength(2);
    expect(events[0].loaded).toBe(READ_CHUNK_BYTES);
    expect(events[1].loaded).toBe(events[1].total);
  });

  it("detects a llama2.c checkpoint and merges the tokenizer metadata", async () => {
    const events: LoadProgress[] = [];
    const ckpt = await loadCheckpoint(modelPath("stories260K", "stories260K.bin"), {
      tokenizerPath: modelPath("stories260K", "tok512.bin"),
      onProgress: (p) => events.push(p),
    });
    expect(ckpt.format).toBe("llama2c");
    expect(ckpt.tensors.size).toBe(47);
    expect(ckpt.metadata.get("general.architecture")).toBe("llama");
    expect(ckpt.metadata.get("llama.block_count")).toBe(5);
    expect((ckpt.metadata.get("tokenizer.ggml.tokens") as string[]).length).toBe(512);
    expect(ckpt.metadata.get("tokenizer.ggml.bos_token_id")).toBe(1);
    expect(events.at(-1)).toEqual({ loaded: 1056540, total: 1056540 });
  });

  it("an explicit format skips detection", async () => {
    const file = join(tmp, "tiny.bin");
    writeFileSync(file, makeLlama2c(TINY));
    const tok = join(tmp, "tiny-tok.bin");
    const w = new DataView(new ArrayBuffer(4 + 10 * 9));
    w.setUint32(0, 1, true);
    for (let i = 0; i < 10; i++) {
      w.setFloat32(4 + 9 * i, -i, true);
      w.setInt32(8 + 9 * i, 1, true);
      w.setUint8(12 + 9 * i, 97 + i);
    }
    writeFileSync(tok, new Uint8Array(w.buffer));
    const ckpt = await loadCheckpoint(file, { format: "llama2c", tokenizerPath: tok });
    expect(ckpt.metadata.get("llama.embedding_length")).toBe(8);
    expect((ckpt.metadata.get("tokenizer.ggml.tokens") as string[]).slice(3)).toEqual(["d", "e", "f", "g", "h", "i", "j"]);
  });

  it("detectFormat", () => {
    expect(detectFormat("a", writeGGUF({}))).toBe("gguf");
    const tiny = makeLlama2c(TINY);
    expect(detectFormat("b", tiny.subarray(0, 28), tiny.length)).toBe("llama2c");
  });
});
