import type { BlockHash, BlockHashFn } from "../../../src/core/kv-cache/block-hash.ts";
import type { KVCacheBlock } from "../../../src/core/kv-cache/kv-cache-block.ts";
import type { SchedulerOutput } from "../../../src/core/scheduler/output.ts";

/**
 * The "KV" of the token at position p: a fingerprint of tokens[0..p], as a real K/V vector depends on
 * the whole prefix. Equal fingerprints mean (up to 32-bit collisions) equal prefixes.
 */
export function prefixFingerprints(tokens: readonly number[], upTo = tokens.length): number[] {
  const out: number[] = new Array(upTo);
  let h = 0x12345678;
  for (let p = 0; p < upTo; p++) {
    h = Math.imul(h ^ (tokens[p]! + 1), 0x9e3779b1);
    h = (h ^ (h >>> 15)) >>> 0;
    out[p] = h;
  }
  return out;
}

/**
 * A model runner that keeps a fake paged KV cache (slot -> prefix fingerprint). Each step it checks that
 * every position a request attends to (below numComputedTokensBefore) holds that request's prefix
 * fingerprint, i.e. prefix hits, block tables and eviction never hand a request someone else's KV,
 * then writes the scheduled positions through the block table (slot = blockId * blockSize + offset)
 * and samples sample(requestId, position) for requests whose last token was computed.
 */
export class FakeRunner {
  readonly slots = new Map<number, number>();
  numSteps = 0;

  constructor(
    readonly blockSize: number,
    readonly sample: (requestId: string, position: number) => number,
  ) {}

  execute(out: SchedulerOutput): Map<string, number[]> {
    this.numSteps++;
    const bs = this.blockSize;
    const sampled = new Map<string, number[]>();
    const writes: Array<[number, number]> = [];
    for (const s of out.scheduledRequests) {
      const r = s.request;
      const start = s.numComputedTokensBefore;
      const end = start + s.numScheduledTokens;
      if (end > r.numTokens) throw new Error(`request ${r.requestId}: scheduled past its tokens (${end} > ${r.numTokens})`);
      if (s.blockIds.length < Math.ceil(end / bs)) throw new Error(`request ${r.requestId}: ${s.blockIds.length} blocks for ${end} tokens`);
      const fps = prefixFingerprints(r.allTokenIds, end);
      for (let p = 0; p < end; p++) {
        const blockId = s.blockIds[Math.floor(p / bs)]!;
        if (blockId === 0) throw new Error(`request ${r.requestId}: position ${p} maps to the null block`);
        const slot = blockId * bs + (p % bs);
        if (p < start) {
          if (this.slots.get(slot) !== fps[p]) throw new Error(`request ${r.requestId}: stale KV at position ${p} (block ${blockId})`);
        } else writes.push([slot, fps[p]!]);
      }
      if (end === r.numTokens) sampled.set(r.requestId, [this.sample(r.requestId, r.numTokens)]);
    }
    // Writes land after all reads of the step, as a batched forward pass would not let one request see
    // another's KV of the same step through a shared block either.
    for (const [slot, fp] of writes) this.slots.set(slot, fp);
    return sampled;
  }
}

/** A hash function wrapper that records each hash's preimage, to verify cached blocks' contents. */
export class RecordingHash {
  readonly preimages = new Map<BlockHash, { parent: BlockHash | null; tokens: number[] }>();
  readonly fn: BlockHashFn;

  /** detectCollisions: throw when two different preimages give one hash (off to let tests force them). */
  constructor(inner: BlockHashFn, detectCollisions = true) {
    this.fn = (parent, tokenIds, extraKeys) => {
      const h = inner(parent, tokenIds, extraKeys);
      const tokens = Array.from(tokenIds);
      const prev = this.preimages.get(h);
      if (detectCollisions && prev && (prev.parent !== parent || prev.tokens.join() !== tokens.join())) throw new Error(`hash collision on ${h}`);
      this.preimages.set(h, { parent, tokens });
      return h;
    };
  }

  /** The whole token prefix a chained hash stands for. */
  prefixTokens(hash: BlockHash): number[] | null {
    const chain: number[][] = [];
    for (let h: BlockHash | null = hash; h !== null; ) {
      const p = this.preimages.get(h);
      if (!p || chain.length > this.preimages.size) return null; // unknown, or a cycle (forced collisions)
      chain.unshift(p.tokens);
      h = p.parent;
    }
    return chain.flat();
  }

  /** verifyCachedBlock for the invariant checker: the block's slots hold the hash's prefix KV. */
  verifier(runner: FakeRunner): (hash: BlockHash, block: KVCacheBlock) => string | null {
    const expected = new Map<BlockHash, number[] | null>(); // the block's fingerprints, memoised by hash
    const bs = runner.blockSize;
    return (hash, block) => {
      let fps = expected.get(hash);
      if (fps === undefined) {
        const prefix = this.prefixTokens(hash);
        fps = prefix === null ? null : prefixFingerprints(prefix).slice(prefix.length - bs);
        expected.set(hash, fps);
      }
      if (fps === null) return `hash ${hash.slice(0, 12)} was never computed`;
      for (let i = 0; i < bs; i++) {
        if (runner.slots.get(block.blockId * bs + i) !== fps[i]) return `slot ${i} does not hold the KV of its hash's prefix`;
      }
      return null;
    };
  }
}
