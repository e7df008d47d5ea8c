/**
 * Prefix-cache block hashes. A full block's hash chains its parent's hash, its token ids and its extra
 * keys (cache salt on the first block, as in vLLM; LoRA / multimodal keys later), so equal hashes mean
 * equal prefixes up to the hash function's collision resistance.
 */
import { sha256Hex } from "./sha256.ts";

/** A block hash; the default function returns 64 hex characters of SHA-256. */
export type BlockHash = string;

/**
 * Hash of one full block. `parent` is null for the first block of a sequence. Injectable (vLLM lets
 * users pick sha256 / xxhash; tests force collisions); must be deterministic and collision resistant.
 */
export type BlockHashFn = (parent: BlockHash | null, tokenIds: ArrayLike<number>, extraKeys: readonly string[]) => BlockHash;

const utf8 = new TextEncoder();

/**
 * SHA-256 over a canonical, injective byte encoding:
 * u32 len + parent (UTF-8), u32 count + token ids (u32 LE each), u32 count + (u32 len + UTF-8) per key.
 * A null parent is replaced by a root hash derived from `seed`, like vLLM's NONE_HASH (which is
 * random per process unless PYTHONHASHSEED is set; ours is deterministic unless a seed is given).
 */
export function createSha256BlockHashFn(seed = ""): BlockHashFn {
  const root = sha256Hex(utf8.encode(`llm prefix-cache root\u0000${seed}`));
  return (parent, tokenIds, extraKeys) => {
    const parentBytes = utf8.encode(parent ?? root);
    const extraBytes = extraKeys.map((k) => utf8.encode(k));
    let size = 4 + parentBytes.length + 4 + 4 * tokenIds.length + 4;
    for (const e of extraBytes) size += 4 + e.length;
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    let off = 0;
    view.setUint32(off, parentBytes.length, true); off += 4;
    buf.set(parentBytes, off); off += parentBytes.length;
    view.setUint32(off, tokenIds.length, true); off += 4;
    for (let i = 0; i < tokenIds.length; i++, off += 4) {
      const t = tokenIds[i]!;
      if (!(t >= 0 && t <= 0xffffffff && Number.isInteger(t))) throw new RangeError(`token id ${t} is not a uint32`);
      view.setUint32(off, t, true);
    }
    view.setUint32(off, extraBytes.length, true); off += 4;
    for (const e of extraBytes) {
      view.setUint32(off, e.length, true); off += 4;
      buf.set(e, off); off += e.length;
    }
    return sha256Hex(buf);
  };
}

/** The default block hash function (SHA-256, deterministic root). */
export const sha256BlockHash: BlockHashFn = createSha256BlockHashFn();

/** What block hashing needs to know about a request (kept structural to avoid an import cycle). */
export interface HashableRequest {
  readonly allTokenIds: readonly number[];
  readonly cacheSalt?: string;
  /** Chained hashes of the request's full blocks, a prefix extended lazily by `ensureBlockHashes`. */
  readonly blockHashes: BlockHash[];
}

/** Extra keys of block `blockIndex`: the cache salt isolates the whole chain through the first block. */
export function blockExtraKeys(request: HashableRequest, blockIndex: number): string[] {
  return blockIndex === 0 && request.cacheSalt ? [request.cacheSalt] : [];
}

/**
 * Extend `request.blockHashes` so that it covers the first `numBlocks` blocks, computing only the
 * missing ones and never past the request's full blocks. Returns how many hashes are available.
 */
export function ensureBlockHashes(request: HashableRequest, numBlocks: number, blockSize: number, hashFn: BlockHashFn): number {
  const hashes = request.blockHashes;
  const target = Math.min(numBlocks, Math.floor(request.allTokenIds.length / blockSize));
  for (let i = hashes.length; i < target; i++) {
    const tokens = request.allTokenIds.slice(i * blockSize, (i + 1) * blockSize);
    hashes.push(hashFn(i === 0 ? null : hashes[i - 1]!, tokens, blockExtraKeys(request, i)));
  }
  return Math.min(hashes.length, numBlocks);
}
