import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/core/kv-cache/sha256.ts";
import { createSha256BlockHashFn, sha256BlockHash } from "../../../src/core/kv-cache/block-hash.ts";
import { Rng } from "../helpers/prng.ts";

const utf8 = new TextEncoder();

describe("sha256Hex", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    expect(sha256Hex(new Uint8Array())).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex(utf8.encode("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex(utf8.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("matches node:crypto on random inputs of every length around block boundaries", () => {
    const rng = new Rng(1);
    for (let len = 0; len < 200; len++) {
      const data = new Uint8Array(rng.tokens(len, 256));
      expect(sha256Hex(data), `length ${len}`).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });
});

describe("sha256BlockHash", () => {
  it("hashes thousands of 16-token blocks per second", () => {
    const rng = new Rng(2);
    const blocks = Array.from({ length: 5000 }, () => rng.tokens(16, 150_000));
    const t0 = performance.now();
    let parent: string | null = null;
    for (const b of blocks) parent = sha256BlockHash(parent, b, []);
    const perSecond = blocks.length / ((performance.now() - t0) / 1000);
    expect(perSecond).toBeGreaterThan(2000);
  });

  it("separates parent, tokens and extra keys (injective encoding)", () => {
    const h = sha256BlockHash;
    const a = h(null, [1, 2, 3], []);
    expect(h(null, [1, 2, 3], [])).toBe(a);
    expect(h(null, [1, 2, 4], [])).not.toBe(a);
    expect(h(a, [1, 2, 3], [])).not.toBe(a);
    expect(h(null, [1, 2, 3], ["s"])).not.toBe(a);
    expect(h(null, [1, 2, 3], ["ab"])).not.toBe(h(null, [1, 2, 3], ["a", "b"]));
    expect(h(null, [0x01000000], [])).not.toBe(h(null, [1], []));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it("derives the chain root from a seed (vLLM's NONE_HASH)", () => {
    const seeded = createSha256BlockHashFn("other");
    expect(seeded(null, [1, 2], [])).not.toBe(sha256BlockHash(null, [1, 2], []));
    expect(createSha256BlockHashFn("other")(null, [1, 2], [])).toBe(seeded(null, [1, 2], []));
  });

  it("rejects token ids that are not uint32", () => {
    expect(() => sha256BlockHash(null, [1.5], [])).toThrow(RangeError);
    expect(() => sha256BlockHash(null, [-1], [])).toThrow(RangeError);
  });
});
