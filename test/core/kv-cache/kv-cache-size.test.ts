import { describe, expect, it } from "vitest";
import { checkEnoughKvCache, minNumBlocks, numBlocksFromMemory } from "../../../src/core/kv-cache/kv-cache-size.ts";
import { LlmError } from "../../../src/util/errors.ts";

describe("numBlocksFromMemory", () => {
  it("divides the budget into blocks", () => {
    // 1 MiB, 16 tokens x 1 KiB per token = 16 KiB per block -> 64 blocks
    expect(numBlocksFromMemory(1 << 20, 16, 1024, 512)).toBe(64);
    expect(minNumBlocks(512, 16)).toBe(33);
    expect(minNumBlocks(17, 16)).toBe(3);
  });

  it("says what to change when one max-length request cannot fit", () => {
    let err: unknown;
    try {
      numBlocksFromMemory(1 << 20, 16, 1024, 2048);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).message).toBe(
      "KV cache of 64 blocks (1.0 MiB) cannot hold one request of max_model_len=2048 tokens (needs 129 blocks of 16 tokens, " +
        "one of them reserved); raise --kv-cache-memory or lower --max-model-len",
    );
    expect(() => numBlocksFromMemory(0, 16, 1024, 16)).toThrow(LlmError);
    expect(() => numBlocksFromMemory(1 << 20, 0, 1024, 16)).toThrow(LlmError);
  });

  it("checkEnoughKvCache checks a given block count", () => {
    expect(() => checkEnoughKvCache(33, 16, 512)).not.toThrow();
    expect(() => checkEnoughKvCache(32, 16, 512)).toThrow(/KV cache of 32 blocks cannot hold one request of max_model_len=512/);
  });
});
