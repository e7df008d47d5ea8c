/**
 * out[n, m] = x[n, k] · W[m, k]^T for W stored in a GGML block format (Q4_0, Q4_K, Q6_K, ...):
 * each weight block is decoded once into a small scratch buffer and dotted with every activation
 * row, so at most one block (32 or 256 values) is ever dequantized at a time.
 */
import type { BlockCodec } from "../../../src/quant/ggml/decode.ts";

export interface BlockScratch {
  block: Float32Array;
  acc: Float64Array;
}

export function blockScratch(codec: BlockCodec, n: number, prev?: BlockScratch): BlockScratch {
  if (prev && prev.acc.length >= n) return prev;
  return { block: new Float32Array(codec.blockSize), acc: new Float64Array(Math.max(n, prev ? prev.acc.length * 2 : 1)) };
}

export function matmulBlocks(
  out: Float32Array, x: Float32Array, w: Uint8Array, n: number, k: number, m: number, codec: BlockCodec, scratch: BlockScratch,
): void {
  const { blockSize: bs, typeSize: ts } = codec;
  const nb = k / bs;
  const rowBytes = nb * ts;
  const { block, acc } = scratch;
  for (let j = 0; j < m; j++) {
    acc.fill(0, 0, n);
    const ro = j * rowBytes;
    for (let b = 0; b < nb; b++) {
      codec.decode(w, ro + b * ts, block, 0);
      const xb = b * bs;
      for (let i = 0; i < n; i++) {
        const xo = i * k + xb;
        let s = 0;
        for (let p = 0; p < bs; p++) s += block[p]! * x[xo + p]!;
        acc[i] += s;
      }
    }
    for (let i = 0; i < n; i++) out[i * m + j] = acc[i]!;
  }
}
